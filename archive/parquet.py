"""Parquet copies of the views researchers load into pandas/R/DuckDB: the wide views, the latest reports,
the labelled figures and the codes (`nianbao export --parquet`).

pyarrow is an optional dependency (``pip install nianbao[parquet]``): without it, asking for Parquet is a
clear error, never a half-written bundle. Column types come from the values, because SQLite views declare
none: integers → int64, integers mixed with decimals → float64 (万元 amounts), anything else → string.
Each file is written under a temporary name and renamed, so a crash leaves no truncated .parquet.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

PARQUET_VIEWS = (
    "reports_latest",
    "report_cells_wide",
    "applications_wide",
    "active_wide",
    "review_litigation_wide",
    "figures_labeled",
    "codes",
)


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed."""


def require_pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the test environment installs it
        raise ParquetUnavailable(
            "Parquet needs pyarrow: pip install 'nianbao[parquet]' (or pip install pyarrow)"
        ) from exc
    return pa, pq


def _arrow_type(pa: Any, values: list[Any]) -> Any:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _column(pa: Any, values: list[Any]) -> Any:
    kind = _arrow_type(pa, values)
    if kind == pa.string():
        values = [None if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in values]
    elif kind == pa.float64():
        values = [None if v is None else float(v) for v in values]
    return pa.array(values, type=kind)


def write_view(conn: sqlite3.Connection, name: str, target: Path) -> int:
    """Write one table or view as a Parquet file (zstd); returns its row count."""
    pa, pq = require_pyarrow()
    cur = conn.execute(f"SELECT * FROM [{name}]")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    columns = [_column(pa, [r[i] for r in rows]) for i in range(len(names))]
    table = pa.table(columns, names=names)
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)
    return len(rows)


def write_parquet(conn: sqlite3.Connection, out: Path) -> dict[str, Path]:
    """Write every view of PARQUET_VIEWS that the database has into `out`; returns name → file."""
    require_pyarrow()
    out.mkdir(parents=True, exist_ok=True)
    present = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    written = {}
    for name in PARQUET_VIEWS:
        if name in present:
            path = out / f"{name}.parquet"
            write_view(conn, name, path)
            written[name] = path
    return written
