"""The command line: every command has help and is documented; the documented reference is current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "archive"


def all_commands(
    cmd: click.Command = main, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            out.append(((*path, name), sub))
            out.extend(all_commands(sub, (*path, name)))
    return out


@pytest.mark.parametrize(
    ("path", "cmd"), all_commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help(path: tuple[str, ...], cmd: click.Command) -> None:
    assert cmd.help and len(cmd.help.strip()) > 20, f"nianbao {' '.join(path)} has no real help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_cli_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "tools" / "gen_cli_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == module.render(), "docs/cli.md is stale: run python tools/gen_cli_docs.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_ingest_twice_then_check(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_bytes((FIXTURES / "report_v1.txt").read_bytes())
    db = tmp_path / "a.db"
    first = run("ingest", str(src), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "1 new versions" in first.stdout
    second = run("ingest", str(src), "--db", str(db))
    assert second.returncode == 0 and "0 new versions, 1 unchanged" in second.stdout
    check = run("check", "--db", str(db))
    assert check.returncode == 0
    assert "0 of 1 reports with tables fail" in check.stdout


def test_ingest_names_each_failed_file_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 4)
    result = run("ingest", str(tmp_path), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 1
    assert "empty.txt" in result.stderr and "junk.bin" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_json_contract(tmp_path: Path) -> None:
    import json

    result = run("parse", str(FIXTURES / "report_v1.txt"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("agency", "year", "title", "template", "status", "sections", "figures", "checks", "problems"):
        assert key in report
    assert report["agency"] == "示例市某某局" and report["year"] == 2024 and report["template"] == "2021"
    fig = next(
        f
        for f in report["figures"]
        if (f["table"], f["row"], f["column"]) == ("applications", "new_received", "total")
    )
    assert fig["value"] == 12


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("check", "--db", str(tmp_path / "missing.db")).returncode == 2
    assert run("ingest").returncode == 2
