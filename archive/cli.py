"""The archive's commands of `nianbao` (ingest, parse, check, reparse, serve, export, snapshot).

The full `nianbao` command, with crawl, portals and demo, is `crawler.cli.main`, which sits on top of this
module (imports point down: crawler → archive → pipelines). Exit codes: 0 success, 1 some inputs failed
(each named on stderr), 2 usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli_publish import export, snapshot
from .datasette_config import DATASETTE_DIR
from .db import open_db

err = Console(stderr=True)
out = Console()


def db_option(required: bool = True):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        required=required,
        help="Archive SQLite file (created if missing).",
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=err,
        transient=False,
        disable=not err.is_terminal and os.environ.get("NIANBAO_PROGRESS") != "1",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def main() -> None:
    """nianbao (年报): crawl, parse and archive Chinese government information-disclosure annual reports."""


main.add_command(export)
main.add_command(snapshot)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@db_option()
def ingest(paths: tuple[Path, ...], db_path: Path) -> None:
    """Archive local report files or folders (any supported format) as documents and versions.

    Ingesting the same file twice adds nothing; a changed file adds a version. Files that cannot be read
    or parsed are still archived, with why, and are named on stderr (exit code 1).
    """
    from .ingest import ingest_paths, iter_files

    db = open_db(db_path)
    total = sum(1 for _ in iter_files(paths))
    with _progress() as progress:
        task = progress.add_task("ingest", total=total, current="")
        summary = ingest_paths(db, paths, progress=lambda p: progress.update(task, advance=1, current=p.name))
    statuses: dict[str, int] = {}
    for _path, result in summary.results:
        if result.new_version and result.status:
            statuses[result.status] = statuses.get(result.status, 0) + 1
    out.print(
        f"{summary.files} files: {summary.new_versions} new versions, {summary.unchanged} unchanged"
        + (f"; parsed: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}" if statuses else "")
    )
    for path, why in summary.failed:
        err.print(f"[red]failed[/red] {path}: {why}", markup=True, highlight=False)
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the Report as JSON (the contract in docs/architecture.md)."
)
def parse(file: Path, as_json: bool) -> None:
    """Parse one file and print the Report; archives nothing."""
    from pipelines.read import read_report

    try:
        body = file.read_bytes()
    except OSError as exc:
        err.print(f"{file}: cannot read: {exc.strerror or exc}", highlight=False)
        sys.exit(1)
    report = read_report(body, filename=file.name)
    if as_json:
        click.echo(report.dumps())
    else:
        out.print(f"[bold]{report.title or file.name}[/bold]")
        out.print(
            f"agency: {report.agency}  year: {report.year}  template: {report.template}  status: {report.status}"
        )
        out.print(
            f"sections: {', '.join(report.sections)}  figures: {len(report.figures)}  "
            f"checks: {sum(c.ok for c in report.checks)}/{len(report.checks)} hold"
        )
        for p in report.problems:
            out.print(f"  problem: {p}", highlight=False)
        for c in report.checks:
            if not c.ok:
                out.print(f"  failed: {c.rule} [{c.row or ''} {c.column}] {c.detail}", highlight=False)
    if report.status == "failed":
        err.print(f"{file}: nothing could be read: {'; '.join(report.problems)}", highlight=False)
        sys.exit(1)


@main.command()
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per failing check.")
def check(db_path: Path, as_json: bool) -> None:
    """List the latest reports whose figures fail the format's arithmetic (勾稽关系)."""
    if not db_path.exists():
        raise click.UsageError(f"no archive at {db_path}")
    db = open_db(db_path)
    rows = db.execute(
        'SELECT report_id, agency, year, rule, "row", "column", detail, source_url FROM failed_checks'
        " ORDER BY agency, year, rule"
    ).fetchall()
    if as_json:
        for r in rows:
            click.echo(
                json.dumps(
                    dict(
                        zip(
                            ("report_id", "agency", "year", "rule", "row", "column", "detail", "source_url"),
                            r,
                            strict=True,
                        )
                    ),
                    ensure_ascii=False,
                )
            )
        return
    checked = db.execute(
        "SELECT count(*) FROM reports WHERE is_latest = 1 AND template != 'free'"
    ).fetchone()[0]
    failing = len({r[0] for r in rows})
    table = Table("report", "agency", "year", "rule", "row", "column", "detail")
    for r in rows:
        table.add_row(str(r[0]), r[1] or "—", str(r[2] or "—"), r[3], r[4] or "", r[5], r[6])
    if rows:
        out.print(table)
    out.print(
        f"{failing} of {checked} reports with tables fail at least one check ({len(rows)} failing checks)"
    )


@main.command()
@db_option()
@click.option(
    "--version-id", type=int, multiple=True, help="Only these versions (default: all readable ones)."
)
@click.option(
    "--workers", type=int, help="Reader processes (default: the number of cores; 0 = in this process)."
)
def reparse(db_path: Path, version_id: tuple[int, ...], workers: int | None) -> None:
    """Re-read the stored originals of reports and attachments (after a parser upgrade), without the network.

    Documents, versions and changes are kept as they are; each version's report is replaced in place.
    Reports that earlier versions wrote for list pages are removed (they were never reports).
    """
    from .reparse import drop_non_report_rows, readable_versions, reparse_versions

    if not db_path.exists():
        raise click.UsageError(f"no archive at {db_path}")
    db = open_db(db_path)
    dropped = drop_non_report_rows(db)
    ids = list(version_id) or readable_versions(db)
    statuses: dict[str, int] = {}
    with _progress() as progress:
        task = progress.add_task("reparse", total=len(ids), current="")

        def done(vid: int, status: str) -> None:
            statuses[status] = statuses.get(status, 0) + 1
            progress.update(task, advance=1, current=f"version {vid}: {status}")

        reparse_versions(db, ids, workers=workers, on_done=done)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    out.print(
        f"reparsed {len(ids)} versions ({summary or 'none'})"
        + (f"; removed {dropped} reports of list pages" if dropped else "")
    )


@main.command()
@db_option()
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--immutable", is_flag=True, help="Serve read-only (-i): enables the database download.")
def serve(db_path: Path, port: int, host: str, immutable: bool) -> None:
    """Start Datasette on the archive with nianbao's metadata, plugins and templates."""
    if not db_path.exists():
        raise click.UsageError(f"no archive at {db_path}")
    open_db(db_path).close()  # bring the schema up to date before serving
    cmd = datasette_command(db_path, port=port, host=host, immutable=immutable)
    sys.stdout.flush()
    os.execv(cmd[0], cmd)  # become Datasette: stopping `nianbao serve` stops the server, no orphan left


def datasette_command(
    db_path: Path, *, port: int, host: str = "127.0.0.1", immutable: bool = False
) -> list[str]:
    """The `datasette serve` command line for an archive (database name = file stem)."""
    from .datasette_config import write_metadata

    cmd = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        "-i" if immutable else "",
        str(db_path),
        "--metadata",
        str(write_metadata(db_path.stem)),
        "--host",
        host,
        "--port",
        str(port),
        "--setting",
        "allow_download",
        "on",
        "--setting",
        "sql_time_limit_ms",
        "5000",
    ]
    if (DATASETTE_DIR / "templates").is_dir():
        cmd += ["--template-dir", str(DATASETTE_DIR / "templates")]
    if (DATASETTE_DIR / "plugins").is_dir() and any((DATASETTE_DIR / "plugins").glob("*.py")):
        cmd += ["--plugins-dir", str(DATASETTE_DIR / "plugins")]
    if (DATASETTE_DIR / "static").is_dir():
        cmd += ["--static", f"static:{DATASETTE_DIR / 'static'}"]
    return [c for c in cmd if c]
