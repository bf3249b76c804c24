"""Parquet in the bundle (`nianbao export --parquet`): read back with pyarrow, same rows and cells as SQLite,
listed in datapackage.json and SHA256SUMS, and the command line's clear error when pyarrow is absent."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive.export import export
from archive.parquet import PARQUET_VIEWS

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def bundle(sample_archive, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "out"
    result = export(sample_archive[0], out, parquet=True)
    assert set(result.parquet_files) == set(PARQUET_VIEWS)
    return out


def test_parquet_rows_and_cells_match_sqlite(bundle: Path) -> None:
    conn = sqlite3.connect(next(bundle.glob("*.db")))
    for name in PARQUET_VIEWS:
        table = pq.read_table(bundle / "parquet" / f"{name}.parquet")
        sql_rows = conn.execute(f"SELECT * FROM [{name}]").fetchall()
        assert table.num_rows == len(sql_rows) > 0, name
        assert table.column_names == [d[1] for d in conn.execute(f"PRAGMA table_xinfo([{name}])")], name
    # A few cells, by key: the received applications of every latest report, and a labelled figure.
    wide = pq.read_table(bundle / "parquet" / "report_cells_wide.parquet").to_pylist()
    expected = dict(
        conn.execute(
            "SELECT report_id, [applications__new_received__total] FROM report_cells_wide"
        ).fetchall()
    )
    assert {r["report_id"]: r["applications__new_received__total"] for r in wide} == expected
    assert any(v is not None for v in expected.values())
    labelled = pq.read_table(bundle / "parquet" / "figures_labeled.parquet").to_pylist()
    one = next(r for r in labelled if r["row_label"] and r["value"] is not None)
    assert conn.execute(
        "SELECT value, row_label FROM figures_labeled WHERE id = ?", [one["id"]]
    ).fetchone() == (one["value"], one["row_label"])
    # Types follow the values: ids and years are integers, labels strings.
    schema = pq.read_schema(bundle / "parquet" / "reports_latest.parquet")
    assert str(schema.field("year").type) == "int64" and str(schema.field("agency").type) == "string"


def test_parquet_is_listed_and_checksummed(bundle: Path) -> None:
    import frictionless

    package = json.loads((bundle / "datapackage.json").read_text(encoding="utf-8"))
    listed = {r["parquet"]["path"] for r in package["resources"] if "parquet" in r}
    assert listed == {f"parquet/{n}.parquet" for n in PARQUET_VIEWS}
    sums = (bundle / "SHA256SUMS").read_text(encoding="utf-8")
    assert all(path in sums for path in listed)
    report = frictionless.validate(bundle / "datapackage.json")
    assert report.valid, report.flatten(["resource", "rowNumber", "fieldName", "type", "note"])[:10]


def test_export_without_pyarrow_is_a_clear_error(sample_archive, tmp_path: Path) -> None:
    """A Python where pyarrow cannot be imported: usage error naming the extra, and no bundle written."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "pyarrow.py").write_text("raise ImportError('pyarrow blocked for this test')\n")
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler",
            "export",
            "--db",
            str(sample_archive[0]),
            "--out",
            str(out),
            "--parquet",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": f"{blocker}:{Path(__file__).resolve().parents[1]}"},
    )
    assert run.returncode == 2 and "nianbao[parquet]" in run.stderr, run.stderr
    assert not out.exists()
