"""Blank cells solved from the format's arithmetic (FORMAT.md §4.3), never read as a printed 0.

2019-era pages often leave every 总计 cell of the result rows blank while the applicant cells carry values;
HTML tables leave `&nbsp;` where a 0 was meant. A blank is only given a value when a relation determines it:
the one unknown of a sum, or several unknowns of a sum whose known parts already reach the total (counts are
never negative, so they are all 0). Such a cell is flagged `derived`; any other blank stays null with a
problem naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .codes import APPLICANT_CODES, RESULT_ROWS_2019, RESULT_ROWS_2021, REVIEW_ROWS
from .report import Figure, Report

Key = tuple[str, str, str]
Equation = list[tuple[int, Key]]  # Σ coefficient × cell = 0

BLANK = "blank"
DERIVED = "derived"
_REVIEW_PARTS = ("upheld", "corrected", "other_result", "pending")


def is_open(fig: Figure) -> bool:
    """A blank cell not yet given a value."""
    return fig.value is None and BLANK in fig.flags


def equations(report: Report) -> Iterator[Equation]:
    """The hard relations (FORMAT.md §4.1) over the cells the report has, as linear equations."""
    cells = {(f.table, f.row, f.column) for f in report.figures}
    app_rows = list(dict.fromkeys(f.row for f in report.figures if f.table == "applications"))
    app_cols = list(dict.fromkeys(f.column for f in report.figures if f.table == "applications"))
    applicants = [c for c in app_cols if c in APPLICANT_CODES]
    if "total" in app_cols:
        for row in app_rows:
            yield [(1, ("applications", row, "total"))] + [
                (-1, ("applications", row, c)) for c in applicants if ("applications", row, c) in cells
            ]
    template = report.meta.get("table_templates", {}).get("applications") or report.template
    results = RESULT_ROWS_2019 if template == "2019" else RESULT_ROWS_2021
    for col in app_cols:
        handled = ("applications", "total_handled", col)
        parts = [("applications", r, col) for r in results]
        if handled in cells and all(p in cells for p in parts):
            yield [(1, handled)] + [(-1, p) for p in parts]
        balance = [
            (1, ("applications", "new_received", col)),
            (1, ("applications", "carried_over", col)),
            (-1, handled),
            (-1, ("applications", "carried_forward", col)),
        ]
        if all(k in cells for _, k in balance):
            yield balance
    for row in (r.code for r in REVIEW_ROWS):
        keys = [("review_litigation", row, c) for c in ("total", *_REVIEW_PARTS)]
        if all(k in cells for k in keys):
            yield [(1, keys[0])] + [(-1, k) for k in keys[1:]]


def _solve_one(eq: Equation, cells: dict[Key, Figure]) -> list[tuple[Key, int]]:
    """Values the equation fixes for its open cells, or [] when it fixes none."""
    open_terms = [(c, k) for c, k in eq if is_open(cells[k])]
    if not open_terms or any(cells[k].value is None and not is_open(cells[k]) for _, k in eq):
        return []
    known: float = 0
    for c, k in eq:
        value = cells[k].value
        if value is not None:
            known += c * value
    if not float(known).is_integer():
        return []
    if len(open_terms) == 1:
        coef, key = open_terms[0]
        value = -known * coef  # coef is ±1
        return [(key, int(value))] if value >= 0 else []
    signs = {c for c, _ in open_terms}
    if len(signs) == 1 and known == 0:  # several non-negative unknowns whose sum must be 0
        return [(k, 0) for _, k in open_terms]
    return []


def fill_blanks(report: Report) -> list[str]:
    """Give blank cells the values the relations determine (flag `derived`); problems for the rest."""
    cells = {(f.table, f.row, f.column): f for f in report.figures}
    if not any(is_open(f) for f in cells.values()):
        return []
    eqs = list(equations(report))
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            for key, value in _solve_one(eq, cells):
                fig = cells[key]
                fig.value = float(value) if fig.table == "active" else value
                fig.flags = [*fig.flags, DERIVED]
                changed = True
    left: dict[str, list[str]] = {}
    for f in report.figures:
        if is_open(f):
            left.setdefault(f.table, []).append(f"{f.row}/{f.column}")
    return [
        f"{table} table: blank cells not determined by the relations, left null: {', '.join(where)}"
        for table, where in left.items()
    ]
