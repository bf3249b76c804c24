"""`nianbao export` (bundle, data dictionary, checksums), `nianbao snapshot` and `nianbao reparse`."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from archive.export import data_dictionary
from crawler.cli import main
from tests.helpers_archive import build_sample_archive

DOCS = Path(__file__).parent.parent / "docs" / "data-dictionary.md"


def test_export_writes_db_csv_dictionary_and_checksums(tmp_path: Path) -> None:
    db_path = tmp_path / "nb.db"
    build_sample_archive(db_path)
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["export", "--db", str(db_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "nb.db").exists()
    conn = sqlite3.connect(out / "nb.db")
    assert conn.execute("SELECT count(*) FROM reports").fetchone()[0] == 5
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    names = {p.stem for p in (out / "csv").glob("*.csv")}
    for name in (
        "reports",
        "sections",
        "figures",
        "checks",
        "changes",
        "versions",
        "documents",
        "blobs",
        "reports_latest",
        "failed_checks",
        "applications_wide",
        "timeliness",
        "coverage",
        "report_changes",
    ):
        assert name in names, name
    assert not any(
        n.endswith(("_fts", "_seg", "_data", "_idx", "_docsize", "_config", "_content")) for n in names
    )
    with (out / "csv" / "reports.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and rows[0]["agency"] == "北京市西城区人民政府"
    with (out / "csv" / "blobs.csv").open(encoding="utf-8-sig") as f:
        assert next(csv.reader(f)) == ["sha256", "size"]
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(names) + 5  # db, csv, dictionary, datapackage, README, LICENSE
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    package = json.loads((out / "datapackage.json").read_text())
    assert {r["name"] for r in package["resources"]} == names
    dictionary = (out / "data-dictionary.md").read_text()
    assert "## `reports` (表 table)" in dictionary and "| `agency` | TEXT | 机关 / agency" in dictionary


def test_data_dictionary_describes_every_column_in_chinese_and_english() -> None:
    text = data_dictionary()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) > 150
    assert not [r for r in rows if r.rstrip().endswith("|  |")]
    assert "| row | `denied_state_secret` | （三）不予公开 1.属于国家秘密 | Denied: state secret |" in text


def test_committed_data_dictionary_matches_the_code() -> None:
    assert DOCS.read_text(encoding="utf-8") == data_dictionary(), (
        "docs/data-dictionary.md is stale: run python -m archive.export --dictionary docs/data-dictionary.md"
    )


def test_snapshot_command(tmp_path: Path) -> None:
    db_path = tmp_path / "nb.db"
    build_sample_archive(db_path)
    result = CliRunner().invoke(main, ["snapshot", "--db", str(db_path), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    (snap,) = (tmp_path / "s").glob("*/nianbao.db")
    digest = (snap.parent / f"{snap.name}.sha256").read_text().split()[0]
    assert hashlib.sha256(snap.read_bytes()).hexdigest() == digest
    assert "--immutable" in result.output


def test_reparse_keeps_history_and_search_index(tmp_path: Path) -> None:
    """Reparse re-runs the real parser over the stored originals (JSON here: parsed as failed/free text),
    replacing each version's report in place; versions, changes and report ids are untouched."""
    db_path = tmp_path / "nb.db"
    ids = build_sample_archive(db_path)
    conn = sqlite3.connect(db_path)
    before = conn.execute("SELECT id, version_id FROM reports ORDER BY id").fetchall()
    changes = conn.execute("SELECT * FROM changes").fetchall()
    conn.close()
    result = CliRunner().invoke(main, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "reparsed 5 versions" in result.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT id, version_id FROM reports ORDER BY id").fetchall() == before
    assert conn.execute("SELECT * FROM changes").fetchall() == changes
    # The index follows the new sections: no stale rows, every section indexed once.
    n_sections = conn.execute("SELECT count(*) FROM sections").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM sections_seg_docsize").fetchone()[0] == n_sections
    assert (
        conn.execute(
            "SELECT count(*) FROM sections_seg_docsize WHERE id NOT IN (SELECT id FROM sections)"
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0
    conn.execute("INSERT INTO sections_seg (sections_seg) VALUES ('integrity-check')")
    assert ids["xicheng"] == [1, 2]
