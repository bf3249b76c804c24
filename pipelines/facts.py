"""Figures of pre-2019 (free-form) reports as loosely typed `e0_*` facts (FORMAT.md §6, PATTERNS A8).

Before the 2019 format there was no national table: reports state their figures in prose ("全年主动公开政府
信息1200条") and many append an old 统计表 (指标名称 · 计量单位 · 本年度 · 历年累计), sometimes flattened to one
cell per line. Each figure becomes a Fact with its unit, its period (本年度 / 历年累计) and the sentence or table
row it was read from; nothing is mapped onto the 2019/2021 rows. An indicator of a 统计表 that no rule names
is kept as `e0_other` with its label, never dropped.
"""

from __future__ import annotations

import re
import unicodedata

from .report import Fact

UNITS = ("人次", "万元", "条", "件", "次", "篇", "个", "人", "元", "项", "场", "期", "%", "家", "份")
_UNIT = "|".join(UNITS)
_NUM = r"\d+(?:\.\d+)?"

# (code, pattern on the indicator's label or the clause before a number), most specific first.
# 维持/纠错/其他 of 复议 and 诉讼 depend on the group above them (see _GROUPS).
RULES: tuple[tuple[str, str], ...] = (
    ("e0_active_normative", r"规范性文件"),
    ("e0_resp_social", r"微博微信回应|回应事件"),
    ("e0_consult_online", r"(?:网上|网络)咨询"),
    ("e0_consult_on_site", r"(?:现场|当面)咨询"),
    ("e0_consult_phone", r"电话咨询"),
    ("e0_consult_total", r"咨询"),
    ("e0_active_by_channel_gazette", r"^(?!.*申请).*(?:政府公报|公报)"),
    ("e0_active_by_channel_weibo", r"^(?!.*申请).*微博"),
    ("e0_active_by_channel_wechat", r"^(?!.*申请).*微信"),
    ("e0_active_by_channel_website", r"^(?!.*申请).*(?:政府网站|门户网站|网站)"),
    ("e0_fulltext_rate", r"全文电子化率"),
    ("e0_resp_press_conferences", r"新闻发布会"),
    ("e0_resp_online_interviews", r"在线访谈"),
    ("e0_resp_interpretations", r"政策解读|解读稿件|解读"),
    ("e0_resp_hotspots", r"热点|舆情"),
    ("e0_reply_already_public", r"已主动公开"),
    ("e0_reply_partly_granted", r"部分公开"),
    ("e0_reply_denied_state_secret", r"国家秘密"),
    ("e0_reply_denied_trade_secret", r"商业秘密"),
    ("e0_reply_denied_privacy", r"个人隐私"),
    ("e0_reply_denied_security_stability", r"三安全一稳定|危及"),
    ("e0_reply_denied_not_gov_info", r"不是《?条例》?所指|非政府信息"),
    ("e0_reply_denied_other_law", r"法律法规规定的其他"),
    ("e0_reply_denied", r"不同意公开|不予公开"),
    ("e0_reply_granted", r"同意公开|予以公开"),
    ("e0_reply_not_this_organ", r"不属于本(?:行政)?机关|非本(?:机关|部门)"),
    ("e0_reply_not_exist", r"信息不存在|不存在"),
    ("e0_reply_amend", r"更改补充|补正"),
    ("e0_reply_other_channel", r"其他途径"),
    ("e0_req_by_channel_in_person", r"当面"),
    ("e0_req_by_channel_fax", r"传真"),
    ("e0_req_by_channel_online", r"网络|网上|电子邮件"),
    ("e0_req_by_channel_letter", r"信函"),
    ("e0_req_closed_on_time", r"按时办结"),
    ("e0_req_extended", r"延期"),
    ("e0_req_closed", r"办结|答复"),
    ("e0_req_received", r"申请"),
    ("e0_fee_waived", r"减免"),
    ("e0_fee_amount", r"收费|收取|费用"),
    ("e0_complaint", r"申诉|举报|投诉"),
    ("e0_review_total", r"行政复议|复议"),
    ("e0_lit_total", r"行政诉讼|诉讼"),
    ("e0_staff_reading_points", r"查阅点|查阅场所|查阅室"),
    ("e0_staff_bodies", r"专门机构|工作机构"),
    ("e0_staff_full_time", r"专职"),
    ("e0_staff_part_time", r"兼职"),
    ("e0_budget_wan", r"经费"),
    ("e0_training_trainees", r"受训|培训人"),
    ("e0_training_courses", r"培训"),
    ("e0_training_meetings", r"会议"),
    ("e0_active_total", r"^(?!.*申请).*主动公开"),
)
_COMPILED = tuple((code, re.compile(p)) for code, p in RULES)
# Result rows under a 复议 / 诉讼 group: 维持 (upheld), 纠错/纠正 (corrected), 其他 (other).
_GROUPS = {"e0_review_total": "e0_review", "e0_lit_total": "e0_lit"}
_RESULTS = (
    ("upheld", re.compile(r"维持")),
    ("corrected", re.compile(r"纠错|纠正|撤销")),
    ("other", re.compile(r"其他")),
)


def code_of(label: str, group: str | None = None) -> str | None:
    """The e0 code a label or clause names; `group` = the 复议/诉讼 group a result row sits under."""
    text = re.sub(r"\s+", "", label)
    if group:
        for suffix, pattern in _RESULTS:
            if pattern.search(text) and not any(p.search(text) for c, p in _COMPILED if c in _GROUPS):
                return f"{group}_{suffix}"
    for code, pattern in _COMPILED:
        if pattern.search(text):
            return code
    return None


def _number(token: str) -> int | float:
    value = float(token)
    return int(value) if value.is_integer() and "." not in token else value


# ------------------------------------------------------------------------------------------- 统计表


_HEADER = re.compile(r"指标名称|计量单位")
_UNIT_TOKEN = re.compile(rf"^(?:{_UNIT})$")
_NUM_TOKEN = re.compile(rf"^-?{_NUM}$")
_PROSE = re.compile(r"[。；;]")


def table_facts(lines: list[str]) -> list[Fact]:
    """Facts of an old 统计表 (指标名称 / 计量单位 / 本年度 [/ 历年累计]) in text lines: one row per line
    (tabs or spaces between cells) or flattened to one cell per line — read as one stream of tokens, each
    indicator = label, unit, this year's value[, the cumulative value]."""
    facts: list[Fact] = []
    start = next((i for i, ln in enumerate(lines) if _HEADER.search(ln)), None)
    if start is None:
        return facts
    tokens: list[tuple[str, int]] = []
    for n in range(start + 1, len(lines)):
        line = unicodedata.normalize("NFKC", lines[n]).strip()
        if not line:
            continue
        if _PROSE.search(line) or (len(line) > 60 and not re.search(r"\d", line)):
            break  # prose: the table is over (its own 一、二、 group rows are labels, not an end)
        if re.fullmatch(r"[\s本年度历年累计序号]+", line):
            continue  # the rest of a header printed one cell per line
        tokens.extend((t, n) for t in _cells(line))
    label, line_no = "", 0
    unit: str | None = None
    group: str | None = None
    values: list[str] = []
    for token, n in [*tokens, ("", -1)]:
        if _NUM_TOKEN.match(token) and label:
            values.append(token)
            continue
        if _UNIT_TOKEN.match(token) and label and not values:
            unit = token
            continue
        if label and values:
            code = code_of(label, group) or "e0_other"
            group = _GROUPS.get(code, group if code.startswith(("e0_review_", "e0_lit_")) else None)
            for period, raw in zip(("year", "cumulative"), values[:2], strict=False):
                row = "\t".join([label, unit or "", *values])
                facts.append(
                    Fact(code, label, _number(raw), unit, row, period, {"kind": "table", "line": line_no + 1})
                )
        elif label and not values:
            heading = code_of(label, group)
            if heading in _GROUPS:  # a group heading row without figures (行政复议 → 维持 / 纠错 …)
                group = _GROUPS[heading]
        label, unit, values, line_no = token, None, [], n
    return facts


def _cells(line: str) -> list[str]:
    """A table row's cells: tab- or space-separated; a label glued to its unit and numbers is split."""
    cells: list[str] = []
    for part in re.split(r"\t+|\s{2,}|\s+(?=[\d-])|(?<=\d)\s+", line):
        part = part.strip()
        m = re.fullmatch(rf"(.*?[\u4e00-\u9fff)）])\s*({_UNIT})?\s*((?:-?{_NUM}\s*)+)", part)
        if m and m.group(1) and not _UNIT_TOKEN.match(part):
            cells.append(m.group(1))
            if m.group(2):
                cells.append(m.group(2))
            cells.extend(m.group(3).split())
        elif part:
            cells.append(part)
    return cells


# ------------------------------------------------------------------------------------------- prose

_FIGURE = re.compile(rf"(?<![\d.])({_NUM})\s*({_UNIT})")
_CLAUSE = re.compile(r"[，,；;：:。、]")
_SENTENCE = re.compile(r"[^。；;!！?？\n]+[。；;!！?？]?")


def prose_facts(lines: list[str]) -> list[Fact]:
    """Figures stated in sentences: each number with a unit, named by the words of its clause (the text
    since the previous number or comma). Only clauses a rule names are kept: prose is too loose for
    `e0_other`."""
    facts: list[Fact] = []
    for n, raw in enumerate(lines):
        line = unicodedata.normalize("NFKC", raw)
        if "\t" in line or _HEADER.search(line):
            continue  # table rows are read by table_facts
        for sm in _SENTENCE.finditer(line):
            sentence = sm.group(0).strip()
            last = 0
            for m in _FIGURE.finditer(sentence):
                clause = _CLAUSE.split(sentence[last : m.start()])[-1]
                if len(clause) < 2 or re.search(r"\d{4}年$", clause):
                    clause = sentence[last : m.start()]
                code = code_of(clause)
                last = m.end()
                if code is None or (m.group(2) == "%" and code != "e0_fulltext_rate"):
                    continue
                facts.append(
                    Fact(
                        code,
                        clause.strip(),
                        _number(m.group(1)),
                        m.group(2),
                        sentence,
                        "year",
                        {"kind": "prose", "line": n + 1},
                    )
                )
    return facts


def read_facts(lines: list[str]) -> list[Fact]:
    """The 统计表's facts, then the prose's for codes the table does not give."""
    table = table_facts(lines)
    given = {f.code for f in table}
    return [*table, *(f for f in prose_facts(lines) if f.code not in given)]
