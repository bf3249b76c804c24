"""The rest of FORMAT.md §4 within one report, and the registry of every rule code with its severity.

checks.py evaluates the four original rules; this module adds the others (T3-ORGSUB, T3-GROUP, the
non-negativity rules, S-CARRY, S-ZERO, S-E1-PUB, S-FEE-UNIT), names the cells each rule read and gives each
check its severity. Pure functions over a Report: no SQLite, nothing raised for a bad cell (a failed check
is data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .codes import APPLICANT_CODES, RESULT_ROWS_2019, RESULT_ROWS_2021
from .report import Check, Figure, Number, Report

HARD, SOFT = "hard", "soft"


@dataclass(frozen=True)
class Rule:
    code: str
    format_id: str  # FORMAT.md §4 ID
    severity: str
    en: str
    zh: str


_RULES = (
    Rule(
        "applications.balance",
        "T3-BAL",
        HARD,
        "new + carried over = handled + carried forward",
        "第一项加第二项之和等于第三项加第四项之和",
    ),
    Rule(
        "applications.total_handled",
        "T3-RESULTS",
        HARD,
        "(七)总计 = sum of the result rows",
        "（七）总计等于（一）至（六）各项之和",
    ),
    Rule(
        "applications.row_total",
        "T3-ROWSUM",
        HARD,
        "总计 = sum of the applicant columns",
        "总计等于各类申请人之和",
    ),
    Rule(
        "applications.org_subtotal",
        "T3-ORGSUB",
        HARD,
        "法人或其他组织 subtotal = its five columns",
        "法人或其他组织小计等于五类组织之和",
    ),
    Rule(
        "applications.group_total",
        "T3-GROUP",
        HARD,
        "a printed group total = its items",
        "印出的分组小计等于其各项之和",
    ),
    Rule("applications.nonnegative", "T3-NONNEG", HARD, "every cell an integer ≥ 0", "每格为非负整数"),
    Rule(
        "review_litigation.total",
        "T4-REV/T4-DIR/T4-AFT",
        HARD,
        "总计 = 维持+纠正+其他+尚未审结",
        "总计等于维持、纠正、其他结果、尚未审结之和",
    ),
    Rule(
        "review_litigation.nonnegative", "T4-NONNEG", HARD, "all 15 cells integers ≥ 0", "十五格均为非负整数"
    ),
    Rule(
        "active.nonnegative",
        "T2-NONNEG",
        HARD,
        "counts integers ≥ 0, 万元 amounts ≥ 0",
        "件数为非负整数，金额非负",
    ),
    Rule(
        "applications.carry_forward_bound",
        "S-CARRY",
        SOFT,
        "carried forward ≤ new + carried over",
        "结转下年度不超过新收加上年结转",
    ),
    Rule(
        "applications.all_zero",
        "S-ZERO",
        SOFT,
        "no applications → every cell of table 3 is 0",
        "无新收、无结转时表三应全为0",
    ),
    Rule(
        "active.published_bound",
        "S-E1-PUB",
        SOFT,
        "new published ≤ total published, ≤ new made",
        "本年新公开不超过对外公开总数及新制作数",
    ),
    Rule(
        "active.fee_unit",
        "S-FEE-UNIT",
        SOFT,
        "a 万元 amount above 10 000 is probably 元",
        "收费金额超过一万万元，疑为以元填写",
    ),
    Rule(
        "cross_year.carried_over",
        "S-XYEAR",
        SOFT,
        "carried over (Y) = carried forward (Y-1)",
        "本年上年结转等于上年报告的结转下年度",
    ),
    Rule(
        "cross_year.in_force",
        "S-E2-LAW",
        SOFT,
        "in force (Y) = in force (Y-1) + issued − repealed",
        "现行有效件数等于上年现行有效加本年制发减本年废止",
    ),
)
RULES: dict[str, Rule] = {r.code: r for r in _RULES}
# Families whose codes end in what they restate or compare (prose.penalty, copied.problems …).
FAMILIES = {
    "prose": Rule(
        "prose.*", "S-NARR", SOFT, "a figure restated in the text = its cell", "正文所述数字与表格一致"
    ),
    "copied": Rule(
        "copied.*", "COPIED", SOFT, "a section near-identical to last year's", "章节与上年报告雷同"
    ),
}


def rule_info(code: str) -> Rule | None:
    """The registry entry of a rule code (a family entry for prose.* and copied.*), or None."""
    return RULES.get(code) or FAMILIES.get(code.split(".", 1)[0])


def severity_of(code: str) -> str:
    info = rule_info(code)
    return info.severity if info else HARD


def cell(table: str, row: str, column: str) -> str:
    return f"{table}.{row}.{column}"


def _fmt(v: Number) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


_BALANCE_ROWS = ("new_received", "carried_over", "total_handled", "carried_forward")
_REVIEW_PARTS = ("upheld", "corrected", "other_result", "pending")
_ORG_COLUMNS = APPLICANT_CODES[1:]
# Group totals a report may print (FORMAT.md §2.2 derived subtotals) → the prefix of the rows they sum.
_GROUPS = {
    "denied_total": "denied_",
    "unable_total": "unable_",
    "rejected_total": "rejected_",
    "other_total": "other_",
}


def cells_read(check: Check, report: Report) -> list[str]:
    """The cells an original checks.py rule read (those rules do not name them themselves)."""
    if check.rule == "applications.balance":
        return [cell("applications", r, check.column) for r in _BALANCE_ROWS]
    if check.rule == "applications.total_handled":
        template = report.meta.get("table_templates", {}).get("applications") or report.template
        results = RESULT_ROWS_2019 if template == "2019" else RESULT_ROWS_2021
        return [cell("applications", r, check.column) for r in ("total_handled", *results)]
    if check.rule == "applications.row_total" and check.row:
        cols = [f.column for f in report.figures if f.table == "applications" and f.row == check.row]
        return [cell("applications", check.row, c) for c in ("total", *APPLICANT_CODES) if c in cols]
    if check.rule == "review_litigation.total" and check.row:
        return [cell("review_litigation", check.row, c) for c in ("total", *_REVIEW_PARTS)]
    return []


class _Cells:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.by_key: dict[tuple[str, str, str], Figure] = {
            (f.table, f.row, f.column): f for f in report.figures
        }

    def get(self, table: str, row: str, column: str) -> Number | None:
        f = self.by_key.get((table, row, column))
        return None if f is None else f.value

    def all(self, keys: Iterable[tuple[str, str, str]]) -> list[Number] | None:
        out = [self.get(*k) for k in keys]
        return None if any(v is None for v in out) else out  # type: ignore[return-value]

    def table(self, table: str) -> list[Figure]:
        return [f for f in self.report.figures if f.table == table and f.value is not None]


def _sum_check(
    rule: str, row: str, column: str, total: Number, parts: list[Number], keys: list[str]
) -> Check:
    ok = abs(total - sum(parts)) < 1e-9
    sign = "=" if ok else "≠"
    detail = f"{_fmt(total)} {sign} {'+'.join(_fmt(p) for p in parts)}" + (
        "" if ok else f" = {_fmt(sum(parts))}"
    )
    return Check(rule, column, ok, detail, row=row, cells=keys)


def org_subtotal(c: _Cells) -> list[Check]:
    """T3-ORGSUB: a printed 法人或其他组织 subtotal column equals its five organisation columns."""
    out = []
    rows = [f.row for f in c.table("applications") if f.column == "org_subtotal"]
    for row in rows:
        keys = [("applications", row, "org_subtotal")] + [("applications", row, col) for col in _ORG_COLUMNS]
        present = [k for k in keys if k in c.by_key]
        values = c.all(present)
        if values is None or len(present) < 2:
            continue
        out.append(
            _sum_check(
                "applications.org_subtotal",
                row,
                "org_subtotal",
                values[0],
                values[1:],
                [cell(*k) for k in present],
            )
        )
    return out


def group_totals(c: _Cells) -> list[Check]:
    """T3-GROUP: a printed group total (不予公开 小计 …) equals the sum of its items, per column."""
    out = []
    for f in c.table("applications"):
        prefix = _GROUPS.get(f.row)
        if prefix is None:
            continue
        items = sorted(
            k
            for k in c.by_key
            if k[0] == "applications" and k[2] == f.column and k[1].startswith(prefix) and k[1] != f.row
        )
        values = c.all(items)
        if not items or values is None or f.value is None:
            continue
        out.append(
            _sum_check(
                "applications.group_total",
                f.row,
                f.column,
                f.value,
                values,
                [cell(*k) for k in [(f.table, f.row, f.column), *items]],
            )
        )
    return out


def nonnegative(c: _Cells, table: str) -> list[Check]:
    """T2/T3/T4-NONNEG: one failed check per bad cell, or one passed check for the whole table."""
    rule = f"{table}.nonnegative"
    figures = c.table(table)
    if not figures:
        return []
    bad = []
    for f in figures:
        v = f.value
        assert v is not None
        signed = table == "active" and f.column == "items_change"
        decimal = table == "active" and f.column in ("amount_10k_yuan", "amount")
        if (v < 0 and not signed) or (not decimal and abs(v - round(v)) > 1e-9):
            why = "negative" if v < 0 else "not an integer"
            detail = f"{_fmt(v)} ({why}; printed {f.raw!r})" if f.raw is not None else f"{_fmt(v)} ({why})"
            bad.append(Check(rule, f.column, False, detail, row=f.row, cells=[cell(table, f.row, f.column)]))
    if bad:
        return bad
    return [Check(rule, "*", True, f"all {len(figures)} cells are non-negative numbers of the right kind")]


def carry_forward_bound(c: _Cells) -> list[Check]:
    """S-CARRY: 结转下年度 cannot exceed what there was to handle (新收 + 上年结转)."""
    keys = [("applications", r, "total") for r in ("carried_forward", "new_received", "carried_over")]
    v = c.all(keys)
    if v is None:
        return []
    ok = v[0] <= v[1] + v[2]
    sign = "≤" if ok else ">"
    return [
        Check(
            "applications.carry_forward_bound",
            "total",
            ok,
            f"结转下年度 {_fmt(v[0])} {sign} 新收 {_fmt(v[1])} + 上年结转 {_fmt(v[2])}",
            cells=[cell(*k) for k in keys],
        )
    ]


def all_zero(c: _Cells) -> list[Check]:
    """S-ZERO: with nothing received and nothing carried over, every cell of table 3 must be 0."""
    v = c.all([("applications", "new_received", "total"), ("applications", "carried_over", "total")])
    if v is None or v[0] != 0 or v[1] != 0:
        return []
    nonzero = [f for f in c.table("applications") if f.value]
    ok = not nonzero
    if ok:
        detail = f"新收 0 + 上年结转 0: all {len(c.table('applications'))} cells of table 3 are 0"
    else:
        listed = ", ".join(f"{f.row}.{f.column} = {_fmt(f.value)}" for f in nonzero[:8])  # type: ignore[arg-type]
        more = f" (+{len(nonzero) - 8} more)" if len(nonzero) > 8 else ""
        detail = f"新收 0 + 上年结转 0, yet {listed}{more}"
    cells = [cell("applications", "new_received", "total"), cell("applications", "carried_over", "total")]
    cells += [cell(f.table, f.row, f.column) for f in nonzero]
    return [Check("applications.all_zero", "total", ok, detail, cells=cells)]


def published_bound(c: _Cells) -> list[Check]:
    """S-E1-PUB (2019 table 2): 本年新公开 ≤ 对外公开总数 and ≤ 本年新制作."""
    out = []
    for row in ("regulations", "normative_documents"):
        keys = [("active", row, col) for col in ("new_published", "total_published", "new_made")]
        v = c.all(keys)
        if v is None:
            continue
        ok = v[0] <= v[1] and v[0] <= v[2]
        detail = f"新公开 {_fmt(v[0])} {'≤' if v[0] <= v[1] else '>'} 公开总数 {_fmt(v[1])}; 新公开 {_fmt(v[0])} {'≤' if v[0] <= v[2] else '>'} 新制作 {_fmt(v[2])}"
        out.append(
            Check(
                "active.published_bound", "new_published", ok, detail, row=row, cells=[cell(*k) for k in keys]
            )
        )
    return out


def fee_unit(c: _Cells) -> list[Check]:
    """S-FEE-UNIT: a 行政事业性收费 above 10 000 万元 printed as a whole number (or with 元 in the cell) was
    probably written in 元. A 万元 amount keeps its decimals: a city's consolidated report really prints
    96171.6 万元 (淮安市 2024), which is no unit error."""
    f = c.by_key.get(("active", "fees", "amount_10k_yuan"))
    if f is None or f.value is None:
        return []
    raw = (f.raw or "").replace(" ", "")
    says_yuan = "元" in raw and "万" not in raw
    ok = f.value <= 10_000 or (not float(f.value).is_integer() and not says_yuan)
    if ok:
        detail = f"{_fmt(f.value)} 万元"
    else:
        detail = (
            f"{_fmt(f.value)} 万元 = {_fmt(f.value / 10_000)} 亿元: probably {_fmt(f.value)} 元"
            f" = {_fmt(f.value / 10_000)} 万元"
        )
    return [
        Check(
            "active.fee_unit",
            "amount_10k_yuan",
            ok,
            detail,
            row="fees",
            cells=[cell("active", "fees", "amount_10k_yuan")],
        )
    ]


def extra_checks(report: Report) -> list[Check]:
    """The FORMAT.md §4 rules checks.py does not evaluate, each with the cells it read."""
    c = _Cells(report)
    out: list[Check] = []
    out += org_subtotal(c)
    out += group_totals(c)
    for table in ("applications", "review_litigation", "active"):
        out += nonnegative(c, table)
    out += carry_forward_bound(c)
    out += all_zero(c)
    out += published_bound(c)
    out += fee_unit(c)
    return out


def complete(report: Report, checks: list[Check]) -> list[Check]:
    """Give every check its severity and, for the original rules, the cells they read."""
    for ch in checks:
        if ch.severity is None:
            ch.severity = severity_of(ch.rule)
        if not ch.cells:
            ch.cells = cells_read(ch, report)
    return checks


def audit(report: Report, checks: list[Check]) -> list[Check]:
    """checks.py's checks plus every other within-report rule and the prose restatements, completed."""
    from .prose import prose_checks

    return complete(report, [*checks, *extra_checks(report), *prose_checks(report)])
