"""Datasette configuration for one archive file: the project's metadata, keyed by the database's name."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

DATASETTE_DIR = Path(__file__).parent / "datasette"
TEMPLATE_KEY = "nianbao"


def metadata_for(db_name: str) -> dict[str, Any]:
    """metadata.yml with its template database key renamed to `db_name` (Datasette names a DB by file stem)."""
    meta = yaml.safe_load((DATASETTE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    databases = meta.get("databases", {})
    if TEMPLATE_KEY in databases and db_name != TEMPLATE_KEY:
        databases[db_name] = databases.pop(TEMPLATE_KEY)
    return meta


def write_metadata(db_name: str, directory: Path | None = None) -> Path:
    """Write the rendered metadata to a file Datasette can read; returns its path."""
    target_dir = directory or Path(tempfile.mkdtemp(prefix="nianbao-datasette-"))
    path = target_dir / f"metadata-{db_name}.yml"
    path.write_text(
        yaml.safe_dump(metadata_for(db_name), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path
