"""The three statistical tables, read by labels rather than positions.

Every layout (tab rows, one cell per line, space-aligned text, extractor grids) is first turned into
logical rows: cells with provenance, label cells first, then the value run after the last label. The
readers below only see logical rows, so one label-driven reader serves every layout. Header rows say
which columns exist; rows are identified by distinctive key substrings (FORMAT.md §5.3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from .codes import (
    ACTIVE_LAYOUT_2019,
    ACTIVE_LAYOUT_2021,
    APPLICATION_COLUMNS,
    APPLICATION_ROW_CODES,
    RESULT_ROWS_2019,
    RESULT_ROWS_2021,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
)
from .extract.base import Grid
from .normalize import compact, is_blank, parse_value, strip_artifacts
from .report import Figure
from .runs import RunRow, is_run

APPLICATION_COLUMN_CODES = tuple(c.code for c in APPLICATION_COLUMNS)


@dataclass
class RowCell:
    text: str
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return compact(self.text)

    @property
    def numeric(self) -> bool:
        return parse_value(self.text) is not None


@dataclass
class Row:
    cells: list[RowCell]
    from_grid: bool = False  # grid rows are rectangular: a trailing blank is a real (empty) cell

    def split(self) -> tuple[list[RowCell], list[RowCell]]:
        """Label cells (non-blank, non-numeric) and the run of cells after the last label."""
        last = -1
        for i, c in enumerate(self.cells):
            if c.key and not c.numeric:
                last = i
        return [c for c in self.cells[: last + 1] if c.key], self.cells[last + 1 :]

    def label_key(self) -> str:
        return "".join(c.key for c in self.split()[0])

    def has_values(self) -> bool:
        return any(c.numeric for c in self.split()[1])

    def values(self, n: int) -> list[RowCell]:
        """The value run fitted to `n` columns: export debris (empty fields at either end) is dropped first."""
        run = list(self.split()[1])
        if not self.from_grid:  # in text, empty fields at the ends are merged-cell debris, never cells
            while run and is_blank(run[-1].text):
                run.pop()
            while run and is_blank(run[0].text):
                run.pop(0)
        while len(run) > n and is_blank(run[0].text):
            run.pop(0)
        while len(run) > n and is_blank(run[-1].text):
            run.pop()
        return run


# A label with its digits glued on ("行政规范性文件4129301", an archiver's dump): the digits are cells.
_GLUED = re.compile(r"(?<=[^\d\s.,，:：+\-/%(（])(?=\d[\d,.]*$)")
_MD_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")


def _space_row(line: str, src: dict[str, Any]) -> Row:
    """A line without tabs (pdftotext, pasted text): numbers are cells, words between them one label cell."""
    cells: list[RowCell] = []
    words: list[str] = []
    for token in (t for word in line.split() for t in _GLUED.split(word)):
        if parse_value(token) is None:
            words.append(token)
            continue
        if words:
            cells.append(RowCell(" ".join(words), dict(src)))
            words = []
        cells.append(RowCell(token, dict(src)))
    if words:
        cells.append(RowCell(" ".join(words), dict(src)))
    return Row(cells)


def rows_from_lines(lines: list[str], start: int, end: int) -> list[Row]:
    """Logical rows of lines[start:end]; sources are 1-based line numbers.

    Tab rows split on tabs. Lines that are one tab plus one cell are grouped into a row until a blank line
    (docx → text); a line without a tab right after such a cell is the same cell wrapped ("商业\\n企业").
    """
    rows: list[Row] = []
    block: list[RowCell] | None = None

    def flush() -> None:
        nonlocal block
        if block:
            rows.append(Row(block))
        block = None

    for i in range(start, min(end, len(lines))):
        line = strip_artifacts(lines[i])
        src = {"line": i + 1}
        if "\t" not in line and not line.strip():
            flush()
        elif line.lstrip().startswith("|"):  # a markdown pipe table row; |---| rules are not data
            flush()
            if not _MD_RULE.match(line.strip()):
                cells = line.strip().strip("|").split("|")
                rows.append(Row([RowCell(t.strip(), dict(src)) for t in cells]))
        elif line.startswith("\t") and "\t" not in line[1:]:
            block = block if block is not None else []
            block.append(RowCell(line[1:].strip(), src))
        elif "\t" in line:
            flush()
            rows.append(Row([RowCell(t.strip(), dict(src)) for t in line.split("\t")]))
        elif block:
            block[-1] = RowCell(block[-1].text + line.strip(), block[-1].source)
        else:
            rows.append(_space_row(line, src))
    flush()
    return rows


def rows_from_grid(grid: Grid) -> list[Row]:
    """Grid rows as logical rows. Copies of merged value cells are dropped (one value, one figure);
    copies of merged label cells are kept so every row carries its group labels."""
    rows: list[Row] = []
    width = max((len(r) for r in grid.rows), default=0)
    # A column blank in every row is layout (an empty spacer <td>, a trailing tab), not a cell of the table:
    # without it, trimming a row to the header's width cannot drop a real blank cell instead.
    empty = {i for i in range(width) if all(i >= len(r) or is_blank(r[i].text) for r in grid.rows)}
    for grid_row in grid.rows:
        cells = [
            RowCell(strip_artifacts(c.text).strip(), dict(c.source))
            for i, c in enumerate(grid_row)
            if i not in empty
            and not (c.source.get("merged") and (is_blank(c.text) or parse_value(c.text) is not None))
        ]
        rows.append(Row(cells, from_grid=True))
    return rows


_HINTS = {
    "active": (
        "第二十条",
        "信息内容",
        "规范性文件",
        "行政许可",
        "行政处罚",
        "行政事业性收费",
        "制发件数",
        "处理决定数量",
    ),
    "applications": (
        "申请人情况",
        "自然人",
        "本年新收",
        "上年结转",
        "予以公开",
        "国家秘密",
        "结转下年度",
        "不予处理",
        "无法提供",
        "重复申请",
    ),
    "review_litigation": ("行政复议", "行政诉讼", "结果维持", "尚未审结", "复议后起诉", "直接起诉"),
}


def classify(rows: list[Row]) -> str | None:
    """Which of the three tables a grid holds, by how many of each table's labels it contains."""
    text = "".join(c.key for r in rows for c in r.cells)
    scores = {table: sum(h in text for h in hints) for table, hints in _HINTS.items()}
    best = max(scores, key=lambda t: scores[t])
    return best if scores[best] else None


# ---------------------------------------------------------------- cells → figures

COUNT, MONEY, SIGNED = "count", "money", "signed"


@dataclass
class TableRead:
    """What a reader got from one table: figures, rows read in order, the template its labels show."""

    table: str
    found: bool = False
    template: str | None = None
    figures: list[Figure] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)  # rows whose cells ran together: runs.resolve

    def add_run(self, row: str, columns: list[str], cells: list[RowCell]) -> None:
        """A row whose digits ran together: its figures come from runs.resolve, by the arithmetic."""
        if row in self.rows:
            return
        self.rows.append(row)
        tokens = [c.key for c in cells if c.key]
        self.runs.append(RunRow(self.table, row, list(columns), tokens, [dict(c.source) for c in cells]))

    def add_row(self, row: str, figures: list[Figure]) -> None:
        if row in self.rows:
            self.problems.append(f"{self.table} table: row {row} printed twice; kept the first")
            return
        self.rows.append(row)
        self.figures.extend(figures)

    def figures_of(
        self,
        row: str,
        cells: Iterable[tuple[str, RowCell]],
        kind: Callable[[str], str] = lambda _column: COUNT,
        yuan: Container[str] = (),
    ) -> list[Figure]:
        """(column, cell) pairs of one row as Figures; a cell that is not a number is recorded as a problem."""
        figures = []
        for column, cell in cells:
            fig, problem = to_figure(self.table, row, column, cell, kind(column), column in yuan)
            unsure = cell.source.get("ocr_uncertain") or (
                kind(column) == SIGNED and cell.source.get("ocr_sign_unsure")  # a mark not clearly a minus
            )
            fig.flags += ["ocr_uncertain"] if unsure else []  # unconfirmed scan
            figures.append(fig)
            if problem:
                self.problems.append(problem)
        return figures


def to_figure(
    table: str, row: str, column: str, cell: RowCell, kind: str = COUNT, yuan: bool = False
) -> tuple[Figure, str | None]:
    """One cell as a Figure. A dash cell is 0 (flagged, raw kept); a blank cell is null and flagged `blank`
    (derive.py solves it from the relations, never as a printed 0); money is 万元 (元 converted when the
    cell or its header says 元); counts must be whole and non-negative."""
    fig = Figure(table, row, column, None, raw=cell.text, source=dict(cell.source) or None)
    parsed = parse_value(cell.text)
    if parsed is None:
        if is_blank(cell.text):
            fig.flags = ["blank"]
            return fig, None
        fig.flags = ["invalid_number"]
        return fig, f"{table} table: {row}/{column} '{cell.text}' is not a number"
    fig.flags = list(parsed.flags)
    value = parsed.value
    if kind == MONEY:
        if parsed.unit == "元" or (yuan and parsed.unit != "万元"):
            value = round(value / 10000, 6)
            fig.flags.append("yuan_to_10k_yuan")
        fig.value = float(value)
    elif not parsed.decimal and (kind == SIGNED or value >= 0):
        fig.value = int(value)
    else:
        fig.flags.append("invalid_number")
        return fig, f"{table} table: {row}/{column} '{cell.text}' is not a count"
    return fig, None


def _tokens_in_order(
    cells: list[RowCell], keys: tuple[tuple[str, str], ...], drop: tuple[str, ...] = (), max_len: int = 40
) -> list[str]:
    """Codes of the header labels found in `cells`, in reading order, each once."""
    found: list[tuple[int, int, str]] = []
    for i, cell in enumerate(cells):
        text = cell.key
        if len(text) > max_len or "," in text:
            continue  # prose, or the table's 勾稽 note
        for d in drop:
            text = text.replace(d, "#" * len(d))
        for needle, code in keys:
            pos = text.find(needle)
            while pos >= 0:
                found.append((i, pos, code))
                text = text[:pos] + "#" * len(needle) + text[pos + len(needle) :]
                pos = text.find(needle)
    out: list[str] = []
    for _, _, code in sorted(found):
        if code not in out:
            out.append(code)
    return out


# ---------------------------------------------------------------- table 2: 主动公开

_ACTIVE_ROWS = (
    ("其他对外管理服务", "other_services"),
    ("集中采购", "procurement"),
    ("行政事业性收费", "fees"),
    ("行政许可", "licensing"),
    ("行政处罚", "penalty"),
    ("行政强制", "coercion"),
    ("规范性文件", "normative_documents"),
    ("规章", "regulations"),
)
_ACTIVE_COLUMNS = (
    ("制发", "issued"),
    ("废止", "repealed"),
    ("现行有效", "in_force"),
    ("收费金额", "amount_10k_yuan"),
    ("新制作", "new_made"),
    ("新公开", "new_published"),
    ("公开总数", "total_published"),
    ("上一年项目", "items_last_year"),
    ("上年项目", "items_last_year"),
    ("增/减", "items_change"),
    ("增减", "items_change"),
    ("增(减)", "items_change"),
    ("处理决定", "decisions"),
    ("采购项目", "projects"),
    ("采购总金额", "amount"),
    ("采购金额", "amount"),
)
_ACTIVE_KIND = {"amount_10k_yuan": MONEY, "amount": MONEY, "items_change": SIGNED}
_ACTIVE_2021 = {"issued", "repealed", "in_force", "amount_10k_yuan"}
_ACTIVE_2019 = {
    "new_made",
    "new_published",
    "total_published",
    "items_last_year",
    "items_change",
    "projects",
    "amount",
    "other_services",
    "procurement",
}


def _first(key: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((code for needle, code in table if needle in key), None)


def _active_template(rows: list[Row]) -> str | None:
    seen: set[str] = set()
    for row in rows:
        labels = row.split()[0]
        seen.update(_tokens_in_order(labels, _ACTIVE_COLUMNS))
        if row.has_values() and (code := _first(row.label_key(), _ACTIVE_ROWS)):
            seen.add(code)
    if seen & _ACTIVE_2021:
        return "2021"
    if seen & _ACTIVE_2019 or any("第二十条第(九)项" in r.label_key() for r in rows):
        return "2019"
    return None


def read_active(rows: list[Row]) -> TableRead:
    """Table 2: blocks 第二十条第（X）项, each with its own header row naming the columns."""
    out = TableRead("active", template=_active_template(rows))
    layout = ACTIVE_LAYOUT_2019 if out.template == "2019" else ACTIVE_LAYOUT_2021
    columns: list[str] = []
    yuan: set[str] = set()
    unsure: set[str] = set()
    for row in rows:
        key = row.label_key()
        if "第二十条" in key:
            out.found, columns = True, []
            continue
        if not row.has_values():
            header = _tokens_in_order(row.split()[0], _ACTIVE_COLUMNS)
            if header:
                columns = header
                yuan = _yuan_columns(row.split()[0])
                unsure = _unsure_unit(row.split()[0])
            continue
        code = _first(key, _ACTIVE_ROWS)
        if code is None:
            continue
        out.found = out.found or bool(columns)
        expected = list(layout.get(code) or ACTIVE_LAYOUT_2019[code])
        use = columns if columns else expected
        cells = row.values(len(use))
        if len(cells) != len(use) and len(row.values(len(expected))) == len(expected):
            use, cells = expected, row.values(len(expected))
        if len(cells) != len(use) and is_run([c.text for c in cells], len(use)):
            out.add_run(code, use, cells)
            continue
        if len(cells) != len(use):
            out.problems.append(
                f"active table: row {code} has {len(cells)} values for {len(use)} columns; not read"
            )
            continue
        figures = out.figures_of(
            code, zip(use, cells, strict=True), kind=lambda c: _ACTIVE_KIND.get(c, COUNT), yuan=yuan
        )
        for fig in figures:
            if fig.column in unsure and "ocr_uncertain" not in fig.flags:
                fig.flags.append("ocr_uncertain")
                out.problems.append(
                    f"active table: {code}/{fig.column}: the unit in the scanned header is neither 万元 nor 元 as "
                    "read; the figure is flagged ocr_uncertain"
                )
        out.add_row(code, figures)
    return out


# 元 stated as the unit: in brackets or after 单位/a colon, not glued to a character OCR may have misread (万)
_YUAN_UNIT = re.compile(r"(?:^|[(（:：/、]|单位)元")


def _yuan_columns(labels: list[RowCell]) -> set[str]:
    """Money columns whose header states the unit as 元 rather than 万元. In a scan's header "X元" may be a
    misread "万元" (a factor of 10 000): only a 元 that stands as the unit counts; see `_unsure_unit`."""
    out: set[str] = set()
    for cell in labels:
        if "元" in cell.key and "万元" not in cell.key:
            if cell.source.get("ocr") and not _YUAN_UNIT.search(cell.key):
                continue
            out.update(c for c in _tokens_in_order([cell], _ACTIVE_COLUMNS) if _ACTIVE_KIND.get(c) == MONEY)
    return out


def _unsure_unit(labels: list[RowCell]) -> set[str]:
    """Money columns of a scan whose unit was read as neither 万元 nor a plain 元 ("方元": 万 misread?): their
    figures are flagged `ocr_uncertain`, never silently taken in one unit."""
    out: set[str] = set()
    for cell in labels:
        if (
            cell.source.get("ocr")
            and "元" in cell.key
            and "万元" not in cell.key
            and not _YUAN_UNIT.search(cell.key)
        ):
            out.update(c for c in _tokens_in_order([cell], _ACTIVE_COLUMNS) if _ACTIVE_KIND.get(c) == MONEY)
    return out


# ---------------------------------------------------------------- table 3: 收到和处理申请

_APPLICATION_ROWS = (
    ("国家秘密", "denied_state_secret"),
    ("禁止公开", "denied_prohibited_by_law"),
    ("三安全一稳定", "denied_three_safety_one_stability"),
    ("第三方合法权益", "denied_third_party"),
    ("保护第三方", "denied_third_party"),
    ("内部事务", "denied_internal_affairs"),
    ("过程性信息", "denied_process_info"),
    ("执法案卷", "denied_enforcement_file"),
    ("行政查询", "denied_inquiry_matter"),
    ("不掌握", "unable_not_held"),
    ("另行制作", "unable_needs_creation"),
    ("补正后", "unable_unclear_after_correction"),
    ("信访", "rejected_petition_complaint"),
    ("重复申请", "rejected_duplicate"),
    ("出版物", "rejected_publication"),
    ("大量反复", "rejected_mass_repeated"),
    ("确认或重新出具", "rejected_confirm_or_reissue"),
    ("逾期不补正", "other_no_correction"),
    ("收费通知", "other_unpaid_fee"),
    ("缴纳费用", "other_unpaid_fee"),
    # labels cut short by a converter (PATTERNS A3): the distinctive start of each sub-item
    ("其他法律行政法规", "denied_prohibited_by_law"),
    ("四类过程", "denied_process_info"),
    ("三类内部", "denied_internal_affairs"),
    ("行政执法案", "denied_enforcement_file"),
    ("没有现成信息", "unable_needs_creation"),
    ("要求提供公开出版", "rejected_publication"),
    ("无正当理由大量", "rejected_mass_repeated"),
    ("要求行政机关确认", "rejected_confirm_or_reissue"),
    ("无正当理由逾期", "other_no_correction"),
    ("逾期未按收费", "other_unpaid_fee"),
)
_APPLICATION_TAIL = (
    ("其他处理", "other"),
    ("总计", "total_handled"),
    ("结转下年", "carried_forward"),
    ("本年新收", "new_received"),
    ("新收", "new_received"),
    ("上年结转", "carried_over"),
    ("部分公开", "partly_granted"),
    ("不予公开", ""),
    ("无法提供", ""),
    ("不予处理", ""),
    ("予以公开", "granted"),
)
_APPLICANT_HEADER = (
    ("自然人", "natural_person"),
    ("商业企业", "commercial_enterprise"),
    ("科研机构", "research_institution"),
    ("社会公益组织", "social_welfare_org"),
    ("法律服务机构", "legal_service_org"),
    ("其他", "other_org"),
    ("其它", "other_org"),
    ("小计", "org_subtotal"),
    ("总计", "total"),
)
_OTHER_SUBITEM = re.compile(r"(?:^|\D)3\.?其[他它]$")


def application_row(key: str, previous: str | None) -> str | None:
    """Row code of a table-3 label (group labels of the row included), or None for group-only labels."""
    code = _first(key, _APPLICATION_ROWS)
    if code:
        return code
    if _OTHER_SUBITEM.search(key) or (
        key.endswith(("其他", "其它")) and previous in ("other_no_correction", "other_unpaid_fee")
    ):
        return "other_other"
    return _first(key, _APPLICATION_TAIL) or None


_GROUP_WORDS = (
    ("不予公开", "denied_"),
    ("无法提供", "unable_"),
    ("不予处理", "rejected_"),
    ("其他处理", "other_"),
)
_GROUP_ROWS = {
    prefix: [c for c in APPLICATION_ROW_CODES if c.startswith(prefix)] for _, prefix in _GROUP_WORDS
}
_ITEM_NUMBER = re.compile(r"(?:^|\D)([1-8])\.[^\d]*$")


def row_by_position(key: str, previous: str | None) -> str | None:
    """A numbered sub-item whose label is garbled ("2.其他法律行政止公开": characters missing in the document
    itself, or OCR noise): its group (the group label in the row, else the previous row's group) and its
    number name the row."""
    m = _ITEM_NUMBER.search(key)
    if not m:
        return None
    prefix = next((p for word, p in reversed(_GROUP_WORDS) if word in key), None)
    if prefix is None and previous:
        prefix = next((p for _, p in _GROUP_WORDS if previous.startswith(p)), None)
    rows = _GROUP_ROWS.get(prefix or "", [])
    n = int(m.group(1))
    return rows[n - 1] if 0 < n <= len(rows) else None


def _applicant_columns(header: list[RowCell], max_len: int = 40) -> list[str]:
    """Columns in template order: 自然人, the 法人或其他组织 sub-columns as printed, 总计."""
    codes = _tokens_in_order(
        header,
        _APPLICANT_HEADER,
        drop=("法人或其他组织", "或其他组织", "法人或其他"),
        max_len=max_len,
    )
    middle = [c for c in codes if c not in ("natural_person", "total")]
    return [c for c in ("natural_person",) if c in codes] + middle + [c for c in ("total",) if c in codes]


def _loose_label(loose: list[str], previous: str | None) -> str:
    """The label of a value row printed without one: the last loose label line that names a row, with the
    group label above it ("（三）不予公开" / "4.保护第三方合法权益") when the item alone does not."""
    last = loose[-1]
    if application_row(last, previous):
        return last
    joined = "".join(loose[-2:])
    return joined if any(word in joined for word, _ in _GROUP_WORDS) else last


def _header_word(cell: RowCell) -> bool:
    """A header cell's words (not the table's 勾稽 note, not prose)."""
    return bool(cell.key) and len(cell.key) <= 40 and "," not in cell.key


def _grid_value_cells(row: Row, n: int) -> list[RowCell] | None:
    """In a grid the value columns are the last `n` cells, whatever a cell holds: a digit the OCR read as
    "于" must not end the label run and shift the row. None when the row is too short or mostly not numbers."""
    first_label = next((i for i, c in enumerate(row.cells) if c.key and not c.numeric), None)
    if first_label is None or len(row.cells) - n <= first_label:
        return None
    tail = row.cells[-n:]
    if sum(c.numeric or is_blank(c.text) for c in tail) * 2 < n:
        return None
    return tail


def _typical_width(rows: list[Row]) -> int | None:
    """The most common number of value cells in the table's data rows (None if no row has values)."""
    widths = [len(row.values(99)) for row in rows if row.has_values()]
    return max(set(widths), key=widths.count) if widths else None


_DIGIT = re.compile(r"\d")


def _scanned(row: Row) -> bool:
    """A row of a grid recognised from an image (OCR): its geometry is exact, its words are not."""
    return row.from_grid and any(c.source.get("ocr") for c in row.cells)


_TEMPLATE_ROWS = {
    "2021": ("new_received", "carried_over", *RESULT_ROWS_2021, "total_handled", "carried_forward"),
    "2019": ("new_received", "carried_over", *RESULT_ROWS_2019, "total_handled", "carried_forward"),
}


def rows_by_position(rows: list[Row]) -> dict[int, str]:
    """Row codes of a scanned table 3 by position: the template fixes the order and number of its value rows,
    so when the grid holds exactly that many, the n-th is the template's n-th — provided the labels OCR did
    read agree (at least 3 of them, and 4 in 5 of those that name a row). A misread label ("1.属于国家秘",
    "(人直人开") then cannot drop or shift a row. {} when the count or the labels do not fit a template."""
    width = len(APPLICATION_COLUMN_CODES)  # a continued row's piece (specks, no digits) is not a value row
    data = [
        i
        for i, row in enumerate(rows)
        if row.has_values() and sum(bool(_DIGIT.search(c.text)) for c in row.cells[-width:]) * 2 >= width
    ]
    if len(data) - 1 in {len(t) for t in _TEMPLATE_ROWS.values()}:
        # one row too many: a piece of a row cut by the page break whose specks read as digits, every one
        # of them unconfirmed, is not a value row (a real row wholly unconfirmed is kept when counts fit)
        doubtful = [i for i in data if all(c.source.get("ocr_uncertain") for c in rows[i].cells[-width:])]
        if len(doubtful) == 1:
            data.remove(doubtful[0])
    labels: list[str | None] = []
    previous: str | None = None
    for i in data:
        code = application_row(rows[i].label_key(), previous)
        labels.append(code)
        previous = code or previous
    for template_rows in _TEMPLATE_ROWS.values():
        if len(template_rows) != len(data):
            continue
        named = [(got, want) for got, want in zip(labels, template_rows, strict=True) if got]
        agree = sum(got == want for got, want in named)
        if agree >= 3 and agree * 5 >= len(named) * 4:
            return dict(zip(data, template_rows, strict=True))
    return {}


def read_applications(rows: list[Row]) -> TableRead:
    """Table 3: applicant columns from the header rows, rows by label, numbers left to right."""
    out = TableRead("applications")
    header: list[RowCell] = []
    columns: list[str] = []
    previous: str | None = None
    loose: list[str] = []  # label-only lines since the last value row (a converter put the values below)
    by_position = rows_by_position(rows) if any(_scanned(r) for r in rows) else {}
    for at, row in enumerate(rows):
        if not row.has_values():
            if not columns:
                header.extend(row.split()[0])
            loose.append(row.label_key())
            continue
        key = row.label_key()
        if not key and loose and len(row.values(99)) >= len(columns or APPLICATION_COLUMN_CODES) - 1:
            key = _loose_label(loose, previous)  # a value row with no label, right after its loose label
        group = loose[-1] if loose and any(word in loose[-1] for word, _ in _GROUP_WORDS) else ""
        loose = []
        code = application_row(key, previous)
        if by_position and at not in by_position:
            continue  # no digits in its value cells: the piece of a row the page break cut off
        if at in by_position:
            if code != by_position[at]:
                out.problems.append(
                    f"applications table: row {by_position[at]} identified by its position in the template "
                    f"(label read as {key[-24:]!r})"
                )
            code = by_position[at]
        if (
            not code
        ):  # a garbled item: its number within the group label printed above it, or the previous row's
            code = row_by_position(group + key, previous)
            if not code or code in out.rows:
                continue
            out.problems.append(
                f"applications table: row {code} recognised by its number only "
                f"(label printed as {row.split()[0][-1].text if row.split()[0] else key!r})"
            )
        previous = code
        if not columns:
            columns = _applicant_columns(header)
            words = "".join(c.text for c in header if _header_word(c))
            joined = _applicant_columns([RowCell(words)], max_len=len(compact(words)))
            if len(joined) > len(columns):  # header words broken over cells ("商业" | "企业")
                columns = joined
            width = _typical_width(rows)
            if len(columns) < 2:
                columns = list(APPLICATION_COLUMN_CODES)
                out.problems.append("applications table: header not found; assumed the template's 7 columns")
            elif width == len(APPLICATION_COLUMN_CODES) and len(columns) != width:
                out.problems.append(
                    f"applications table: header read as {len(columns)} columns ({', '.join(columns)}) but the rows "
                    f"carry {width} numbers; assumed the template's 7 columns (garbled header, e.g. OCR)"
                )
                columns = list(APPLICATION_COLUMN_CODES)
            elif columns != list(APPLICATION_COLUMN_CODES) and any(_scanned(r) for r in rows):
                # Both templates print the same 7 applicant columns in one order; a scan's header words may
                # be garbled or placed in another cell (法人或其他组织 read short: its 其他 taken for a
                # column), and a column out of order would move every figure silently.
                out.problems.append(
                    f"applications table: scanned header read as {', '.join(columns)}; taken as the template's "
                    "7 columns in their printed order"
                )
                columns = list(APPLICATION_COLUMN_CODES)
        cells = row.values(len(columns))
        if _scanned(
            row
        ):  # the value columns are the grid's last ones: a junk cell is a bad cell, not a label
            cells = _grid_value_cells(row, len(columns)) or cells
        if is_run([c.text for c in cells], len(columns)):
            out.add_run(code, columns, cells)
            continue
        if len(cells) not in (len(columns), len(columns) - 1) and row.from_grid:
            cells = _grid_value_cells(row, len(columns)) or cells
        if len(cells) not in (len(columns), len(columns) - 1):
            out.problems.append(
                f"applications table: row {code} has {len(cells)} values for {len(columns)} columns; not read"
            )
            continue
        figures = out.figures_of(code, zip(columns, cells, strict=False))
        if len(cells) < len(columns):
            line = cells[-1].source.get("line") if cells else None
            figures.append(
                Figure(
                    "applications",
                    code,
                    columns[-1],
                    None,
                    flags=["truncated_row"],
                    source={"line": line} if line else None,
                )
            )
            out.truncated.append(code)
        out.add_row(code, figures)
    # Pre-2019 statistics tables share some labels (国家秘密…); the template's header or many rows decide.
    out.found = len(_applicant_columns(header)) >= 2 or len(out.rows) >= 5
    if out.truncated:
        out.problems.append(
            f"applications table: {len(out.truncated)} rows have one value fewer than the header (the export cut "
            f"the grid); their {columns[-1]} cell is recorded as null (truncated_row): {', '.join(out.truncated)}"
        )
    subitems = {"other_no_correction", "other_unpaid_fee", "other_other"} & set(out.rows)
    if subitems and "other" in out.rows:
        out.problems.append("applications table: both a single (六)其他处理 row and its 2021 sub-items")
    out.template = "2021" if subitems else "2019" if "other" in out.rows else None
    return out


# ---------------------------------------------------------------- table 4: 行政复议、行政诉讼

_REVIEW_HEADER = ("维持", "纠正", "审结")
REVIEW_ROW_CODES = tuple(r.code for r in REVIEW_ROWS)
REVIEW_COLUMN_CODES = tuple(c.code for c in REVIEW_COLUMNS)


def _numeric_run(row: Row) -> list[RowCell]:
    """A row's cells from its first to its last number (blanks between are real, empty cells)."""
    idx = [i for i, c in enumerate(row.cells) if c.numeric]
    return row.cells[idx[0] : idx[-1] + 1] if idx else []


def read_review(rows: list[Row]) -> TableRead:
    """Table 4: 15 numbers in order (FORMAT.md §3) — one row, one per line, or one row per case type."""
    out = TableRead("review_litigation")
    runs: list[list[RowCell]] = []
    for row in rows:
        labels = [c for c in row.cells if c.key and not c.numeric]
        if any(h in c.key for c in labels for h in _REVIEW_HEADER):
            out.found = True  # 结果维持 / 尚未审结: the 2019+ header (pre-2019 tables count 复议 differently)
        if (
            row.from_grid
            and len(row.cells) == 15
            and sum(c.numeric for c in row.cells) >= 8
            and not any(h in c.key for c in labels for h in _REVIEW_HEADER)
        ):
            runs.append(
                list(row.cells)
            )  # the data row of a 15-column grid: junk (OCR) is a bad cell, not a gap
            continue
        run = _numeric_run(row)
        if run and (not labels or (len(labels) == 1 and len(labels[0].key) <= 8)):
            runs.append(run)
    cells = next((r for r in runs if len(r) == 15), None) or [c for r in runs for c in r]
    if out.found and len(cells) < 15:
        glued = cells or [
            c
            for row in rows
            if all(not c.key or c.numeric or any(h in c.key for h in _REVIEW_HEADER) for c in row.cells)
            or not any(c.key and not c.numeric for c in row.cells)
            for c in _numeric_run(row)
        ]
        if is_run([c.text for c in glued], 15):
            columns = [f"{r}:{c}" for r in REVIEW_ROW_CODES for c in REVIEW_COLUMN_CODES]
            out.add_run(REVIEW_ROW_CODES[0], columns, glued)
            out.rows[:] = list(REVIEW_ROW_CODES)
            return out
    if out.found and len(cells) > 15:
        out.problems.append(f"review_litigation table: {len(cells)} numbers where 15 are expected; not read")
        return out
    if not out.found:
        return out
    if len(cells) < 15:
        out.problems.append(f"review_litigation table: {len(cells)} of 15 numbers found")
    for i, code in enumerate(REVIEW_ROW_CODES):
        group = cells[i * 5 : i * 5 + 5]
        if len(group) < 5:
            break
        out.add_row(code, out.figures_of(code, zip(REVIEW_COLUMN_CODES, group, strict=True)))
    return out
