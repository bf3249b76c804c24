"""The rule for material outside the repository: skipped locally when absent, failed under CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers_shared import SHARED, require_shared

MISSING = "no-such-folder-for-nianbao-tests"


def test_absent_material_skips_without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer without ../shared still gets a green run of everything else."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        require_shared(MISSING)


def test_absent_material_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """In CI the real-document tests must run: a missing folder is an error, not a skip."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        require_shared(MISSING)


def test_absent_file_in_a_present_folder_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder that lost the file a test needs is as missing as no folder at all."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} absent")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception):
        require_shared(".", f"{MISSING}*.txt")


def test_every_shared_reader_goes_through_the_rule() -> None:
    """No test builds its own path to ../shared (it would skip in CI instead of failing)."""
    here = Path(__file__).parent
    offenders = [
        p.name
        for p in here.glob("*.py")
        if p.name != "helpers_shared.py" and re.search(r"""["']shared["']""", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
