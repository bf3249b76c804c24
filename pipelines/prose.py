"""Figures a report restates in its prose (收到申请X件, 行政处罚X条 …), compared with the cells they restate.

S-NARR (FORMAT.md §4.2). Precision first: a false contradiction on a report whose prose and tables agree
is worse than a missed one, so a figure is taken only when
- its phrase has exactly one row's meaning (行政处罚 → table 2 penalty decisions, 新收/收到申请 → table 3
  new_received …) and the number follows the phrase directly (fillers 共/共计/为 … only), with a unit;
- it is exact (no 余/多/约/近, no percentage, no year, no 第X条) and about the report's year (a clause that
  names another year, 上年/去年/同比, is skipped);
- for reviews and suits, the sentence is about information disclosure (a 司法局 handles other reviews);
- the clause's subject is the reporting body, not a part of it (区政府办代表区政府受理…, 各部门, 乡镇).
A restatement that may count differently (受理 = new + carried over) agrees with either reading.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .report import Check, Number, Report

# Sections written as prose. Table sections are read only line by line, for lines that are sentences.
_PROSE_SECTIONS = ("preamble", "overview", "problems", "other")
_TABLE_SECTIONS = ("active", "applications", "review_litigation")

_NUM = r"(\d+(?:,\d{3})*(?:\.\d+)?)"
_FILL = r"\s*(?:[:：]\s*)?(?:共计|合计|总计|累计|共|计|为|了|达)?\s*"
_COUNT_UNIT = r"\s*(?:件|条|个|宗|起|项|份)"
# What a clause must not say before the phrase: another period, or a comparison.
_OTHER_PERIOD = re.compile(r"上一?年度?|去年|前年|同比|较上|比上|历年|以来|截至|截止|(?:19|20)\d\d\s*年")
# A clause whose subject is part of the reporting body (区政府办代表区政府…, 本级, 各部门, 乡镇) counts a subset:
# its figures are not the table's (a real district report: 区政府办 17 件 beside the district's 95).
_SUBSET = re.compile(r"代表|本级|政府办|办公室|部门|乡镇|街道|单位|所属|下属|系统")
_GAP_STOP = "复议|诉讼|投诉|举报|咨询|信访|来信|来访|留言|建议|提案|涉及|关于|有关|类|依申请公开事项"


@dataclass(frozen=True)
class Spec:
    what: str  # rule code suffix: prose.<what>
    label: str  # how the prose says it
    pattern: re.Pattern[str]
    cells: tuple[tuple[str, str, str], ...]  # summed to give the table's figure
    alternatives: tuple[tuple[tuple[str, str, str], ...], ...] = ()  # other readings that also agree
    needs_context: str | None = None  # the sentence must contain this (regex)
    unit_10k_yuan: bool = False
    zero: re.Pattern[str] | None = None  # a phrase meaning the figure is 0


def _p(key: str, unit: str = _COUNT_UNIT) -> re.Pattern[str]:
    return re.compile(key + _FILL + _NUM + r"(?!\s*[%％‰.\d])" + unit)


def _gap(n: int) -> str:
    return rf"(?:(?!{_GAP_STOP})[^，。；,;：:！？!?\d\s]){{0,{n}}}?"


A = "applications"
T2 = "active"
T4 = "review_litigation"
_DENIED = tuple(
    (A, r, "total")
    for r in (
        "denied_state_secret",
        "denied_prohibited_by_law",
        "denied_three_safety_one_stability",
        "denied_third_party",
        "denied_internal_affairs",
        "denied_process_info",
        "denied_enforcement_file",
        "denied_inquiry_matter",
    )
)
_INFO = r"信息公开|政府信息|公开申请|依申请"

SPECS: tuple[Spec, ...] = (
    Spec(
        "new_received",
        "收到申请",
        _p(rf"(?:新收|收到|接收|接到|受理){_gap(14)}(?:公开申请|申请)(?:数量|数)?"),
        ((A, "new_received", "total"),),
        alternatives=(((A, "new_received", "total"), (A, "carried_over", "total")),),
        zero=re.compile(
            rf"(?:未|没有|无)(?:收到|接到|受理)过?(?:任何)?{_gap(10)}(?:政府信息公开|信息公开|公开)申请"
        ),
    ),
    Spec(
        "carried_over",
        "上年结转",
        _p(rf"上一?年度?结转{_gap(8)}(?:申请)?"),
        ((A, "carried_over", "total"),),
        zero=re.compile(r"上一?年度?(?:无|没有)结转|无上一?年度?结转"),
    ),
    Spec(
        "carried_forward",
        "结转下年度",
        _p(r"结转(?:至|到)?下一?年度?(?:继续)?(?:办理)?(?:的)?(?:申请)?"),
        ((A, "carried_forward", "total"),),
    ),
    Spec(
        "total_handled",
        "办结",
        _p(rf"(?:办结|答复|办理完毕){_gap(6)}(?:申请)?"),
        ((A, "total_handled", "total"),),
        needs_context=_INFO + r"|申请",
    ),
    Spec("granted", "予以公开", _p(r"(?<![不])予以公开"), ((A, "granted", "total"),), needs_context=r"申请"),
    Spec(
        "partly_granted",
        "部分公开",
        _p(r"部分公开"),
        ((A, "partly_granted", "total"),),
        needs_context=r"申请",
    ),
    Spec("denied", "不予公开", _p(r"不予公开"), _DENIED, needs_context=r"申请"),
    Spec(
        "licensing",
        "行政许可",
        _p(r"行政许可(?:决定|信息|结果|类信息|案件|事项办理结果)?"),
        ((T2, "licensing", "decisions"),),
    ),
    Spec(
        "penalty", "行政处罚", _p(r"行政处罚(?:决定|信息|结果|类信息|案件)?"), ((T2, "penalty", "decisions"),)
    ),
    Spec(
        "coercion",
        "行政强制",
        _p(r"行政强制(?:决定|信息|结果|类信息|案件|措施)?"),
        ((T2, "coercion", "decisions"),),
    ),
    Spec(
        "review",
        "行政复议",
        _p(r"(?:被申请|申请|提起|收到|发生)?行政复议(?:案件|申请)?", r"\s*(?:件|起|宗|个)"),
        ((T4, "review", "total"),),
        needs_context=_INFO,
    ),
    Spec(
        "litigation",
        "行政诉讼",
        _p(r"(?:被提起|提起|被起诉|发生)?行政诉讼(?:案件)?", r"\s*(?:件|起|宗|个)"),
        ((T4, "litigation_direct", "total"), (T4, "litigation_after_review", "total")),
        needs_context=_INFO,
    ),
    Spec(
        "fees",
        "行政事业性收费",
        _p(r"行政事业性收费(?:金额|共计)?", r"\s*(万元|元)"),
        ((T2, "fees", "amount_10k_yuan"),),
        unit_10k_yuan=True,
    ),
)


@dataclass
class Restatement:
    """One figure the prose restates: what, the value, the sentence it stands in, and where."""

    what: str
    value: Number
    sentence: str
    section: str
    spec: Spec = field(repr=False)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _sentences(report: Report) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, text in report.sections.items():
        if name in _TABLE_SECTIONS:
            # Only the sentences around a table (a line with a full stop and no tab-separated cells).
            lines = [ln for ln in text.splitlines() if "。" in ln and "\t" not in ln.strip()]
        elif name in _PROSE_SECTIONS:
            # A PDF breaks a paragraph into lines, even inside a number's phrase (答 / 复 3050 件): join them,
            # keeping blank lines and numbered sub-headings as paragraph breaks.
            lines = re.split(r"\n\s*\n|\n(?=\s*[（(]?[一二三四五六七八九十\d]+[)）、.])", text)
            lines = [ln.replace("\n", "") for ln in lines]
        else:
            continue
        for line in lines:
            for s in re.split(r"(?<=[。！？!?；;])", _normalise(line)):
                if s.strip():
                    out.append((name, s.strip()))
    return out


def _clause_prefix(sentence: str, start: int) -> str:
    cut = max(sentence.rfind(ch, 0, start) for ch in "，,、；;:：")
    return sentence[cut + 1 : start]


def _value(raw: str, unit: str | None, spec: Spec) -> Number:
    v = float(raw.replace(",", ""))
    if spec.unit_10k_yuan:
        return v / 10_000 if unit == "元" else v
    return int(v) if v.is_integer() else v


def restatements(report: Report) -> list[Restatement]:
    """The figures the report's prose restates, each once per sentence."""
    year = str(report.year) if report.year else None
    out: list[Restatement] = []
    for section, sentence in _sentences(report):
        for spec in SPECS:
            if spec.needs_context and not re.search(spec.needs_context, sentence):
                continue
            for m in spec.pattern.finditer(sentence):
                prefix = _clause_prefix(sentence, m.start())
                other = [
                    t
                    for t in _OTHER_PERIOD.findall(prefix)
                    if not (year and t.replace(" ", "") == f"{year}年")
                ]
                if (
                    other
                    or _SUBSET.search(prefix)
                    or sentence[max(0, m.start() - 1) : m.start()] in ("第", "约", "近")
                ):
                    continue
                unit = m.group(2) if m.lastindex and m.lastindex >= 2 else None
                out.append(Restatement(spec.what, _value(m.group(1), unit, spec), sentence, section, spec))
            if spec.zero is not None:
                for m in spec.zero.finditer(sentence):
                    if not _OTHER_PERIOD.search(_clause_prefix(sentence, m.start()).replace(f"{year}年", "")):
                        out.append(Restatement(spec.what, 0, sentence, section, spec))
    seen: set[tuple[str, Number, str]] = set()
    unique = []
    for r in out:
        if (r.what, r.value, r.sentence) not in seen:
            seen.add((r.what, r.value, r.sentence))
            unique.append(r)
    return unique


def _fmt(v: Number) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _quote(sentence: str, limit: int = 90) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def prose_checks(report: Report) -> list[Check]:
    """One soft check per restated figure whose cells exist: the prose's figure against the table's."""
    get = report.value
    checks: list[Check] = []
    for r in restatements(report):
        readings = (r.spec.cells, *r.spec.alternatives)
        sums: list[Number | None] = []
        for cells in readings:
            values = [get(*c) for c in cells]
            if any(v is None for v in values):
                sums.append(None)
            else:
                sums.append(sum(values))  # type: ignore[arg-type]
        if sums[0] is None:
            continue
        tol = 0.005 if r.spec.unit_10k_yuan else 1e-9
        ok = any(s is not None and abs(s - r.value) <= tol for s in sums)
        table, row, column = r.spec.cells[0]
        where = "+".join(f"{t}.{rw}.{c}" for t, rw, c in r.spec.cells)
        table_no = {"active": "表二", "applications": "表三", "review_litigation": "表四"}[table]
        unit = " 万元" if r.spec.unit_10k_yuan else ""
        sign = "=" if ok else "≠"
        detail = (
            f"正文「{_quote(r.sentence)}」：{r.spec.label} {_fmt(r.value)}{unit} {sign} "
            f"{table_no} {where} = {_fmt(sums[0])}{unit}"
        )
        if not ok and len(sums) > 1 and sums[1] is not None:
            detail += f"（含上年结转也是 {_fmt(sums[1])}）"
        read = sorted(f"{t}.{rw}.{c}" for t, rw, c in {c for cs in readings for c in cs})
        checks.append(Check(f"prose.{r.what}", column, ok, detail, row=row, severity="soft", cells=read))
    return checks
