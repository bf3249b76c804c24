"""The format's arithmetic (勾稽关系, DESIGN.md rule codes), evaluated per column or per row.

A failed check is data for journalists, not an error. A check whose inputs are missing or were lost by
the export (value None) is neither passed nor failed: it is not recorded, and `skipped` says why.
"""

from __future__ import annotations

from collections import defaultdict

from . import rules
from .codes import APPLICANT_CODES, APPLICATION_COLUMNS, RESULT_ROWS_2019, RESULT_ROWS_2021, REVIEW_ROWS
from .report import Check, Figure, Number, Report

_COLUMN_ORDER = (*(c.code for c in APPLICATION_COLUMNS), "org_subtotal")
_REVIEW_PARTS = ("upheld", "corrected", "other_result", "pending")
_PER_ROW = ("applications.row_total", "review_litigation.total")


def _fmt(v: Number) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _same(a: Number, b: Number) -> bool:
    return abs(a - b) < 1e-9


class _Evaluator:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.cells: dict[tuple[str, str, str], Figure] = {
            (f.table, f.row, f.column): f for f in report.figures
        }
        self.checks: list[Check] = []
        # (rule, reason) → the rows or columns not checked
        self.skipped: dict[tuple[str, str], list[str]] = defaultdict(list)

    def values(self, rule: str, where: str, keys: list[tuple[str, str, str]]) -> list[Number] | None:
        """The values at `keys`, or None (and a note) when one is missing or lost."""
        figs = [self.cells.get(k) for k in keys]
        if any(f is None for f in figs):
            self.skipped[(rule, "a cell is missing")].append(where)
            return None
        if any(f.value is None for f in figs):  # type: ignore[union-attr]
            flags = sorted({fl for f in figs if f.value is None for fl in f.flags})  # type: ignore[union-attr]
            self.skipped[(rule, f"cell lost ({', '.join(flags) or 'no value'})")].append(where)
            return None
        return [f.value for f in figs]  # type: ignore[union-attr,misc]

    def columns(self) -> list[str]:
        present = {f.column for f in self.report.figures if f.table == "applications"}
        return [c for c in _COLUMN_ORDER if c in present]

    def balance(self) -> None:
        rule = "applications.balance"
        for col in self.columns():
            keys = [
                ("applications", r, col)
                for r in ("new_received", "carried_over", "total_handled", "carried_forward")
            ]
            v = self.values(rule, col, keys)
            if v is None:
                continue
            ok = _same(v[0] + v[1], v[2] + v[3])
            sign = "=" if ok else "≠"
            self.checks.append(
                Check(rule, col, ok, f"{_fmt(v[0])}+{_fmt(v[1])} {sign} {_fmt(v[2])}+{_fmt(v[3])}")
            )

    def total_handled(self) -> None:
        rule = "applications.total_handled"
        template = self.report.meta.get("table_templates", {}).get("applications") or self.report.template
        results = RESULT_ROWS_2019 if template == "2019" else RESULT_ROWS_2021
        for col in self.columns():
            v = self.values(
                rule,
                col,
                [("applications", "total_handled", col)] + [("applications", r, col) for r in results],
            )
            if v is None:
                continue
            total, parts = v[0], v[1:]
            terms = "+".join(_fmt(p) for p in parts if p) or "0"
            ok = _same(total, sum(parts))
            detail = f"{_fmt(total)} = {terms}" if ok else f"{_fmt(total)} ≠ {terms} = {_fmt(sum(parts))}"
            self.checks.append(Check(rule, col, ok, detail))

    def row_total(self) -> None:
        rule = "applications.row_total"
        applicants = [c for c in self.columns() if c in APPLICANT_CODES]
        if "total" not in self.columns() or not applicants:
            return
        rows = list(dict.fromkeys(f.row for f in self.report.figures if f.table == "applications"))
        for row in rows:
            v = self.values(
                rule, row, [("applications", row, "total")] + [("applications", row, c) for c in applicants]
            )
            if v is not None:
                self._sum_check(rule, row, v[0], v[1:])

    def review_total(self) -> None:
        rule = "review_litigation.total"
        for row in (r.code for r in REVIEW_ROWS):
            if ("review_litigation", row, "total") not in self.cells:
                continue
            v = self.values(rule, row, [("review_litigation", row, c) for c in ("total", *_REVIEW_PARTS)])
            if v is not None:
                self._sum_check(rule, row, v[0], v[1:])

    def _sum_check(self, rule: str, row: str, total: Number, parts: list[Number]) -> None:
        ok = _same(total, sum(parts))
        sign = "=" if ok else "≠"
        self.checks.append(
            Check(rule, "total", ok, f"{_fmt(total)} {sign} {'+'.join(_fmt(p) for p in parts)}", row=row)
        )

    def notes(self) -> list[str]:
        out = []
        for (rule, reason), where in self.skipped.items():
            kind = "rows" if rule in _PER_ROW else "columns"
            out.append(f"{rule} not checked for {kind} {', '.join(where)}: {reason}")
        return out


def evaluate(report: Report) -> tuple[list[Check], list[str]]:
    """All checks that could be evaluated, and one note per rule and reason for those that could not."""
    ev = _Evaluator(report)
    ev.balance()
    ev.total_handled()
    ev.row_total()
    ev.review_total()
    return rules.audit(report, ev.checks), ev.notes()


def run_checks(report: Report) -> list[Check]:
    return evaluate(report)[0]
