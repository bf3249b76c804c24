"""The one rule for test material outside the repository (../shared/seeds, corpus, practice-portal).

Locally a missing folder skips the tests that need it; under CI (the `CI` environment variable set) it
fails them, so a CI run without the material cannot pass by skipping the only real-document tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def require_shared(relative: str, pattern: str | None = None) -> Path:
    """`SHARED/relative` (or its first file matching `pattern`); skip when absent, fail when CI is set."""
    path = SHARED / relative
    found: Path | None = path if path.exists() else None
    if found is not None and pattern is not None:
        found = next(iter(sorted(path.glob(pattern))), None)
    if found is None:
        what = f"{path}/{pattern}" if pattern else str(path)
        if os.environ.get("CI"):
            pytest.fail(f"{what} is absent and CI is set: shared test material must be present in CI")
        pytest.skip(f"{what} absent")
    return found
