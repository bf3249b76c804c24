"""Machine codes for the report format's sections, tables, rows and columns, with their Chinese labels.

These names are the archive's contract with researchers (see docs/data-dictionary.md): change them only
with a migration and a changelog entry. FORMAT.md §1-§3 is the source of every label.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- sections (一 … 六)


@dataclass(frozen=True)
class SectionCode:
    code: str
    number: int
    label: str  # canonical heading (2021 format)
    label_en: str
    keywords: tuple[str, ...]  # distinctive substrings of the heading and its real variants


SECTIONS: tuple[SectionCode, ...] = (
    SectionCode("overview", 1, "总体情况", "Overview", ("总体情况", "概述", "基本情况")),
    SectionCode(
        "active",
        2,
        "主动公开政府信息情况",
        "Proactive disclosure",
        ("主动公开政府信息情况", "主动公开政府信息"),
    ),
    SectionCode(
        "applications",
        3,
        "收到和处理政府信息公开申请情况",
        "Applications received and handled",
        ("收到和处理政府信息公开申请", "收到和处理政府信息公开申请情况", "依申请公开政府信息情况"),
    ),
    SectionCode(
        "review_litigation",
        4,
        "政府信息公开行政复议、行政诉讼情况",
        "Administrative review and litigation",
        ("行政复议、行政诉讼", "行政复议和提起行政诉讼", "行政复议、提起行政诉讼", "行政复议行政诉讼"),
    ),
    SectionCode(
        "problems",
        5,
        "存在的主要问题及改进情况",
        "Main problems and improvements",
        ("存在的主要问题", "主要问题及改进", "存在问题"),
    ),
    SectionCode("other", 6, "其他需要报告的事项", "Other matters", ("其他需要报告的事项",)),
)

# Text before 一、 (title, legal basis, statistics period) is kept as this section.
PREAMBLE = "preamble"

# ---------------------------------------------------------------- tables

TABLES = {
    "active": ("主动公开政府信息情况", "Proactive disclosure (Art. 20)"),
    "applications": ("收到和处理政府信息公开申请情况", "Applications received and handled"),
    "review_litigation": ("政府信息公开行政复议、行政诉讼情况", "Administrative review and litigation"),
}


@dataclass(frozen=True)
class Label:
    code: str
    label: str
    label_en: str


# Table 2 (active), 2021 template (国办公开办函〔2021〕30号)
ACTIVE_ROWS_2021 = (
    Label("regulations", "规章", "Rules (规章)"),
    Label("normative_documents", "行政规范性文件", "Administrative normative documents"),
    Label("licensing", "行政许可", "Administrative licensing"),
    Label("penalty", "行政处罚", "Administrative penalties"),
    Label("coercion", "行政强制", "Administrative coercion"),
    Label("fees", "行政事业性收费", "Administrative fees"),
)
ACTIVE_COLUMNS_2021 = (
    Label("issued", "本年制发件数", "Issued this year"),
    Label("repealed", "本年废止件数", "Repealed this year"),
    Label("in_force", "现行有效件数", "In force"),
    Label("decisions", "本年处理决定数量", "Decisions this year"),
    Label("amount_10k_yuan", "本年收费金额（单位：万元）", "Fees collected this year (10,000 yuan)"),
)
# Which columns each row has in the 2021 template.
ACTIVE_LAYOUT_2021 = {
    "regulations": ("issued", "repealed", "in_force"),
    "normative_documents": ("issued", "repealed", "in_force"),
    "licensing": ("decisions",),
    "penalty": ("decisions",),
    "coercion": ("decisions",),
    "fees": ("amount_10k_yuan",),
}

# Table 2 (active), 2019 template (国办公开办函〔2019〕60号)
ACTIVE_ROWS_2019 = (
    Label("regulations", "规章", "Rules (规章)"),
    Label("normative_documents", "规范性文件", "Normative documents"),
    Label("licensing", "行政许可", "Administrative licensing"),
    Label("other_services", "其他对外管理服务事项", "Other external management services"),
    Label("penalty", "行政处罚", "Administrative penalties"),
    Label("coercion", "行政强制", "Administrative coercion"),
    Label("fees", "行政事业性收费", "Administrative fees"),
    Label("procurement", "政府集中采购", "Government centralised procurement"),
)
ACTIVE_COLUMNS_2019 = (
    Label("new_made", "本年新制作数量", "Newly made this year"),
    Label("new_published", "本年新公开数量", "Newly published this year"),
    Label("total_published", "对外公开总数量", "Total published"),
    Label("items_last_year", "上一年项目数量", "Items last year"),
    Label("items_change", "本年增/减", "Change this year (signed)"),
    Label("decisions", "处理决定数量", "Decisions"),
    Label("projects", "采购项目数量", "Procurement projects"),
    Label("amount", "采购总金额", "Total procurement amount (as printed; unit in raw)"),
)
ACTIVE_LAYOUT_2019 = {
    "regulations": ("new_made", "new_published", "total_published"),
    "normative_documents": ("new_made", "new_published", "total_published"),
    "licensing": ("items_last_year", "items_change", "decisions"),
    "other_services": ("items_last_year", "items_change", "decisions"),
    "penalty": ("items_last_year", "items_change", "decisions"),
    "coercion": ("items_last_year", "items_change", "decisions"),
    "fees": ("items_last_year", "items_change"),
    "procurement": ("projects", "amount"),
}

# Table 3 (applications): columns, identical in both templates.
APPLICANT_COLUMNS = (
    Label("natural_person", "自然人", "Natural persons"),
    Label("commercial_enterprise", "商业企业", "Commercial enterprises"),
    Label("research_institution", "科研机构", "Research institutions"),
    Label("social_welfare_org", "社会公益组织", "Social welfare organisations"),
    Label("legal_service_org", "法律服务机构", "Legal service organisations"),
    Label("other_org", "其他", "Other organisations"),
)
APPLICATION_COLUMNS = (*APPLICANT_COLUMNS, Label("total", "总计", "Total"))
APPLICANT_CODES = tuple(c.code for c in APPLICANT_COLUMNS)

# Table 3 rows, in template order. `templates` says which template has the row.
APPLICATION_ROWS: tuple[tuple[Label, tuple[str, ...]], ...] = (
    (
        Label("new_received", "一、本年新收政府信息公开申请数量", "New applications received this year"),
        ("2019", "2021"),
    ),
    (
        Label("carried_over", "二、上年结转政府信息公开申请数量", "Carried over from last year"),
        ("2019", "2021"),
    ),
    (Label("granted", "（一）予以公开", "Granted"), ("2019", "2021")),
    (
        Label("partly_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "Partly granted"),
        ("2019", "2021"),
    ),
    (Label("denied_state_secret", "（三）不予公开 1.属于国家秘密", "Denied: state secret"), ("2019", "2021")),
    (
        Label(
            "denied_prohibited_by_law",
            "（三）不予公开 2.其他法律行政法规禁止公开",
            "Denied: prohibited by other laws",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "denied_three_safety_one_stability",
            "（三）不予公开 3.危及“三安全一稳定”",
            "Denied: endangers the 'three securities, one stability'",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "denied_third_party", "（三）不予公开 4.保护第三方合法权益", "Denied: protects third-party rights"
        ),
        ("2019", "2021"),
    ),
    (
        Label("denied_internal_affairs", "（三）不予公开 5.属于三类内部事务信息", "Denied: internal affairs"),
        ("2019", "2021"),
    ),
    (
        Label("denied_process_info", "（三）不予公开 6.属于四类过程性信息", "Denied: process information"),
        ("2019", "2021"),
    ),
    (
        Label(
            "denied_enforcement_file", "（三）不予公开 7.属于行政执法案卷", "Denied: law-enforcement files"
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "denied_inquiry_matter",
            "（三）不予公开 8.属于行政查询事项",
            "Denied: administrative inquiry matters",
        ),
        ("2019", "2021"),
    ),
    (
        Label("unable_not_held", "（四）无法提供 1.本机关不掌握相关政府信息", "Unable: not held"),
        ("2019", "2021"),
    ),
    (
        Label(
            "unable_needs_creation",
            "（四）无法提供 2.没有现成信息需要另行制作",
            "Unable: would need creating",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "unable_unclear_after_correction",
            "（四）无法提供 3.补正后申请内容仍不明确",
            "Unable: unclear after correction",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "rejected_petition_complaint",
            "（五）不予处理 1.信访举报投诉类申请",
            "Not processed: petitions/complaints",
        ),
        ("2019", "2021"),
    ),
    (Label("rejected_duplicate", "（五）不予处理 2.重复申请", "Not processed: duplicate"), ("2019", "2021")),
    (
        Label(
            "rejected_publication",
            "（五）不予处理 3.要求提供公开出版物",
            "Not processed: asks for publications",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "rejected_mass_repeated",
            "（五）不予处理 4.无正当理由大量反复申请",
            "Not processed: mass repeated",
        ),
        ("2019", "2021"),
    ),
    (
        Label(
            "rejected_confirm_or_reissue",
            "（五）不予处理 5.要求行政机关确认或重新出具已获取信息",
            "Not processed: confirm or reissue",
        ),
        ("2019", "2021"),
    ),
    (Label("other", "（六）其他处理", "Other handling (2019 template: one row)"), ("2019",)),
    (
        Label(
            "other_no_correction",
            "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "Other: no correction in time",
        ),
        ("2021",),
    ),
    (
        Label(
            "other_unpaid_fee",
            "（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "Other: fee not paid",
        ),
        ("2021",),
    ),
    (Label("other_other", "（六）其他处理 3.其他", "Other: other"), ("2021",)),
    (Label("total_handled", "（七）总计", "Total handled"), ("2019", "2021")),
    (Label("carried_forward", "四、结转下年度继续办理", "Carried forward to next year"), ("2019", "2021")),
)
APPLICATION_ROW_CODES = tuple(r.code for r, _ in APPLICATION_ROWS)
# The result rows whose sum is (七)总计, per template.
RESULT_ROWS_2021 = (*APPLICATION_ROW_CODES[2:20], "other_no_correction", "other_unpaid_fee", "other_other")
RESULT_ROWS_2019 = (*APPLICATION_ROW_CODES[2:20], "other")

# Table 4 (review_litigation)
REVIEW_ROWS = (
    Label("review", "行政复议", "Administrative review"),
    Label("litigation_direct", "行政诉讼 未经复议直接起诉", "Litigation without prior review"),
    Label("litigation_after_review", "行政诉讼 复议后起诉", "Litigation after review"),
)
REVIEW_COLUMNS = (
    Label("upheld", "结果维持", "Upheld"),
    Label("corrected", "结果纠正", "Corrected"),
    Label("other_result", "其他结果", "Other result"),
    Label("pending", "尚未审结", "Pending"),
    Label("total", "总计", "Total"),
)

# ---------------------------------------------------------------- check rules (DESIGN.md)

RULES = {
    "applications.balance": (
        "new_received + carried_over = total_handled + carried_forward, per column",
        "第一项加第二项之和，等于第三项加第四项之和",
    ),
    "applications.total_handled": (
        "total_handled = sum of all result rows (予以公开 … 其他处理), per column",
        "（七）总计等于（一）至（六）各项之和",
    ),
    "applications.row_total": ("total = sum of the applicant columns, per row", "总计等于各类申请人之和"),
    "review_litigation.total": (
        "total = upheld + corrected + other_result + pending, per row",
        "总计等于维持、纠正、其他结果、尚未审结之和",
    ),
}


def all_labels() -> dict[tuple[str, str, str], str]:
    """(kind, table, code) → Chinese label, for the data dictionary and Datasette metadata."""
    out: dict[tuple[str, str, str], str] = {}
    for lab in (*ACTIVE_ROWS_2021, *ACTIVE_ROWS_2019):
        out.setdefault(("row", "active", lab.code), lab.label)
    for lab in (*ACTIVE_COLUMNS_2021, *ACTIVE_COLUMNS_2019):
        out.setdefault(("column", "active", lab.code), lab.label)
    for lab, _ in APPLICATION_ROWS:
        out[("row", "applications", lab.code)] = lab.label
    for lab in APPLICATION_COLUMNS:
        out[("column", "applications", lab.code)] = lab.label
    for lab in REVIEW_ROWS:
        out[("row", "review_litigation", lab.code)] = lab.label
    for lab in REVIEW_COLUMNS:
        out[("column", "review_litigation", lab.code)] = lab.label
    return out
