"""Cells that ran together (PATTERNS A1): a digit run split into the row's cells by the format's arithmetic.

An archiver's dump of `一、本年新收政府信息公开申请数量 512000053` holds 7 cells with no separator. Every
split with the template's cell count is enumerated (no leading zeros except a lone 0, no cell across a
printed separator), keeping only those that satisfy the row's own relation (总计 = Σ applicants; each 行政复议 /
行政诉讼 group's 总计 = Σ its four results). Rows still open are then decided jointly by the column relations
(balance, (七)总计 = Σ results) over the combinations of their candidates. Exactly one split left → the values,
flagged `split_by_checks`; several → prose restating a figure may break the tie (flag `split_by_prose`); else
null cells (flag `split_ambiguous`) and a problem naming the candidates. Enumeration is bounded: each cell has
at most `MAX_CELL_DIGITS` digits, a row at most `ROW_BUDGET` steps, the joint search `JOINT_BUDGET` combinations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .codes import APPLICANT_CODES, RESULT_ROWS_2019, RESULT_ROWS_2021
from .normalize import compact
from .report import Figure

MAX_CELL_DIGITS = 7
ROW_BUDGET = 200_000
JOINT_BUDGET = 50_000
_DIGITS = re.compile(r"^\d+$")
_PROSE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:件|条|个|项|次|人次|万元|份|篇)")

Group = tuple[int, bool]  # (cells, the last of them is the total of the others)


@dataclass
class RunRow:
    """A row whose cells ran together: its digit tokens (as separated in print) and its column codes."""

    table: str
    row: str
    columns: list[str]
    tokens: list[str]
    sources: list[dict[str, object]] = field(default_factory=list)

    @property
    def groups(self) -> list[Group]:
        if self.table == "review_litigation":
            return [(5, True)] * 3
        if self.table == "applications" and self.columns[-1] == "total" and len(self.columns) > 2:
            return [(len(self.columns), True)]
        return [(len(self.columns), False)]


def is_run(texts: Iterable[str], n: int) -> bool:
    """Digit tokens that cannot be the row's cells as printed but hold enough digits to be them."""
    tokens = [compact(t) for t in texts if compact(t)]
    if not tokens or not all(_DIGITS.match(t) for t in tokens) or sum(map(len, tokens)) < n:
        return False
    leading_zero = any(len(t) > 1 and t[0] == "0" for t in tokens)
    return len(tokens) < n - 1 or (len(tokens) < n and leading_zero)


class _Budget(Exception):
    pass


def splits(tokens: list[str], groups: list[Group], budget: int = ROW_BUDGET) -> list[tuple[int, ...]] | None:
    """Every split of the tokens into the groups' cells satisfying their sums; None when over budget."""
    s = "".join(tokens)
    cuts = set(itertools.accumulate(len(t) for t in tokens))
    total_cells = sum(k for k, _ in groups)
    out: list[tuple[int, ...]] = []
    steps = 0

    def cell_ok(a: int, b: int) -> bool:
        return b - a <= MAX_CELL_DIGITS and (b - a == 1 or s[a] != "0") and not any(a < c < b for c in cuts)

    def parts(p: int, k: int, left_after: int) -> Iterable[tuple[int, list[int]]]:
        nonlocal steps
        steps += 1
        if steps > budget:
            raise _Budget
        if k == 0:
            yield p, []
            return
        for e in range(p + 1, min(len(s), p + MAX_CELL_DIGITS) + 1):
            rest = len(s) - e
            if rest < k - 1 + left_after:
                break
            if rest > (k - 1 + left_after) * MAX_CELL_DIGITS or not cell_ok(p, e):
                continue
            for end, vals in parts(e, k - 1, left_after):
                yield end, [int(s[p:e]), *vals]

    def rec(p: int, gi: int, acc: list[int], used: int) -> None:
        if gi == len(groups):
            if p == len(s):
                out.append(tuple(acc))
            return
        k, has_total = groups[gi]
        left = total_cells - used - k
        if not has_total:
            for end, vals in parts(p, k, left):
                rec(end, gi + 1, acc + vals, used + k)
            return
        for end, vals in parts(p, k - 1, left + 1):
            t = str(sum(vals))
            if s.startswith(t, end) and cell_ok(end, end + len(t)):
                rec(end + len(t), gi + 1, [*acc, *vals, sum(vals)], used + k)

    try:
        rec(0, 0, [], 0)
    except _Budget:
        return None
    return out


def prose_numbers(lines: Iterable[str]) -> set[float]:
    """Figures stated in sentences (…现行有效301件): numbers followed by a counting unit."""
    out: set[float] = set()
    for line in lines:
        if "，" in line or "。" in line or "," in line:
            out.update(float(m) for m in _PROSE_NUMBER.findall(line))
    return out


def _by_prose(candidates: list[tuple[int, ...]], prose: set[float]) -> tuple[int, ...] | None:
    """The one candidate restating the most figures of two or more digits found in prose."""
    scores = [sum(v >= 10 and float(v) in prose for v in c) for c in candidates]
    best = max(scores, default=0)
    return candidates[scores.index(best)] if best and scores.count(best) == 1 else None


def _column_ok(table: dict[tuple[str, str], int | float | None], columns: list[str], template: str) -> bool:
    """The column relations (balance, (七)总计) hold wherever all their cells are known."""
    results = RESULT_ROWS_2019 if template == "2019" else RESULT_ROWS_2021
    for col in columns:

        def v(row: str, col: str = col) -> int | float | None:
            return table.get((row, col))

        handled = v("total_handled")
        parts = [p for p in (v(r) for r in results) if p is not None]
        if handled is not None and len(parts) == len(results) and handled != sum(parts):
            return False
        bal = [
            b for b in (v("new_received"), v("carried_over"), handled, v("carried_forward")) if b is not None
        ]
        if len(bal) == 4 and bal[0] + bal[1] != bal[2] + bal[3]:
            return False
    return True


def resolve(
    runs: list[RunRow], known: list[Figure], prose: set[float], template: str
) -> tuple[list[Figure], list[str]]:
    """Figures for the run rows and problems for those the arithmetic cannot decide."""
    figures: list[Figure] = []
    problems: list[str] = []
    cands: dict[int, list[tuple[int, ...]]] = {}
    for i, run in enumerate(runs):
        found = splits(run.tokens, run.groups)
        if found is None:
            problems.append(
                f"{run.table} table: row {run.row}: too many ways to split '{''.join(run.tokens)}'"
            )
        cands[i] = found or []
    # Joint decision of the applications rows still open, by the column relations.
    apps = [i for i, r in enumerate(runs) if r.table == "applications"]
    open_rows = [i for i in apps if len(cands[i]) > 1]
    if open_rows and all(cands[i] for i in apps):
        size = 1
        for i in open_rows:
            size *= len(cands[i])
        if size <= JOINT_BUDGET:
            base = {(f.row, f.column): f.value for f in known if f.table == "applications"}
            for i in apps:
                if len(cands[i]) == 1:
                    base.update(
                        ((runs[i].row, c), v) for c, v in zip(runs[i].columns, cands[i][0], strict=True)
                    )
            columns = list(dict.fromkeys([c for i in apps for c in runs[i].columns] + list(APPLICANT_CODES)))
            kept: list[tuple[tuple[int, ...], ...]] = []
            for combo in itertools.product(*(cands[i] for i in open_rows)):
                table = dict(base)
                for i, values in zip(open_rows, combo, strict=True):
                    table.update(((runs[i].row, c), v) for c, v in zip(runs[i].columns, values, strict=True))
                if _column_ok(table, columns, template):
                    kept.append(combo)
            for j, i in enumerate(open_rows):
                options = list(dict.fromkeys(combo[j] for combo in kept))
                if options:
                    cands[i] = options
    for i, run in enumerate(runs):
        options, flags = cands[i], ["split_by_checks"]
        if len(options) > 1 and (pick := _by_prose(options, prose)):
            options, flags = [pick], ["split_by_checks", "split_by_prose"]
        src = run.sources[0] if run.sources else None
        if len(options) == 1:
            figures.extend(
                Figure(run.table, *_cell(run, c), v, raw=str(v), flags=list(flags), source=src)
                for c, v in zip(run.columns, options[0], strict=True)
            )
            continue
        joined = " ".join(run.tokens)
        if options:
            shown = "; ".join("/".join(map(str, o)) for o in options[:6])
            more = f" (+{len(options) - 6} more)" if len(options) > 6 else ""
            problems.append(
                f"{run.table} table: row {run.row}: the run '{joined}' splits {len(options)} ways "
                f"satisfying the relations: {shown}{more}; left null"
            )
        else:
            problems.append(
                f"{run.table} table: row {run.row}: no split of the run '{joined}' into {len(run.columns)} "
                "cells satisfies the relations; left null"
            )
        figures.extend(
            Figure(run.table, *_cell(run, c), None, raw=joined, flags=["split_ambiguous"], source=src)
            for c in run.columns
        )
    return figures, problems


def _cell(run: RunRow, column: str) -> tuple[str, str]:
    """(row, column) of a run's cell: a table-4 run spans its three rows ("review:upheld")."""
    row, _, col = column.rpartition(":")
    return (row or run.row), col
