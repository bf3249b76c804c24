"""Turn a file's bytes into text plus table grids, whatever the format (detected by content, not name)."""

from __future__ import annotations

from .base import Cell, Extracted, ExtractionError, Grid
from .dispatch import extract, extract_path

__all__ = ["Cell", "Extracted", "ExtractionError", "Grid", "extract", "extract_path"]
