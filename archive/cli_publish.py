"""`nianbao export` (researchers' bundle) and `nianbao snapshot` (dated immutable copy for publication)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

err = Console(stderr=True)
out = Console()


@click.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Archive SQLite file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the bundle (created if missing).",
)
@click.option(
    "--parquet",
    is_flag=True,
    help="Also write the wide views, reports_latest, figures_labeled and codes as Parquet (needs pyarrow: "
    "pip install 'nianbao[parquet]').",
)
def export(db_path: Path, out_dir: Path, parquet: bool) -> None:
    """Write the bulk-download bundle: the SQLite file, one CSV per table and view, the data dictionary
    (Chinese and English), a datapackage.json and SHA256SUMS; with --parquet, typed Parquet files too."""
    from .db import open_db
    from .export import export as run_export
    from .parquet import ParquetUnavailable

    if not db_path.exists():
        raise click.UsageError(f"no archive at {db_path}")
    open_db(db_path).close()  # schema up to date (search index included) before copying
    try:  # a missing pyarrow stops the export before anything is written
        result = run_export(
            db_path, out_dir, progress=lambda name: err.print(f"csv {name}", highlight=False), parquet=parquet
        )
    except ParquetUnavailable as exc:
        raise click.UsageError(str(exc)) from exc
    total = sum(result.rows.values())
    out.print(
        f"exported {len(result.csv_files)} tables and views ({total} rows) to {out_dir} "
        f"in {result.seconds:.1f} s; database {result.database.name}"
        + (f"; {len(result.parquet_files)} Parquet files" if result.parquet_files else ""),
        highlight=False,
    )


@click.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Archive SQLite file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory of snapshots.",
)
@click.option(
    "--name",
    default="nianbao",
    show_default=True,
    help="Database file name (the served name: keep it the same for every snapshot so links stay valid).",
)
def snapshot(db_path: Path, out_dir: Path, name: str) -> None:
    """Take a dated, read-only lean snapshot for publication: OUT/<date>/<name>.db (no original bytes, one
    search index per table) with originals/ beside it. Serve it with `nianbao serve --immutable`, which
    enables Datasette's database download."""
    from .db import open_db
    from .publish import take_snapshot

    if not db_path.exists():
        raise click.UsageError(f"no archive at {db_path}")
    open_db(db_path).close()
    snap = take_snapshot(db_path, out_dir, name=name)
    out.print(
        f"{snap.path} ({snap.size} bytes) sha256 {snap.sha256}; originals in {snap.originals}",
        highlight=False,
    )
    out.print(f"serve it: nianbao serve --db {snap.path} --immutable", highlight=False)
