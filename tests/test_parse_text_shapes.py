"""Report text as other tools hand it over (PATTERNS A1–A3, A7): run-together cells, a whole report on one
line, markdown pipe tables, garbled labels, blank cells. Fictional agencies, real shapes; exact figures,
flags and problems."""

from __future__ import annotations

from pathlib import Path

from pipelines import codes
from pipelines.codes import APPLICANT_CODES
from pipelines.parse import parse_text
from pipelines.read import read_report
from pipelines.report import Check, Report
from pipelines.runs import splits

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"
COLS7 = [*APPLICANT_CODES, "total"]
REVIEW_COLS = ["upheld", "corrected", "other_result", "pending", "total"]

# The figures of run_together_cells.txt / one_line_report.txt (every relation holds).
RUN_TOGETHER = {
    "new_received": [51, 2, 0, 0, 0, 0, 53],
    "carried_over": [3, 0, 0, 0, 0, 0, 3],
    "granted": [30, 0, 0, 0, 0, 0, 30],
    "partly_granted": [5, 1, 0, 0, 0, 0, 6],
    "denied_third_party": [2, 0, 0, 0, 0, 0, 2],
    "unable_not_held": [10, 1, 0, 0, 0, 0, 11],
    "rejected_duplicate": [1, 0, 0, 0, 0, 0, 1],
    "other_no_correction": [1, 0, 0, 0, 0, 0, 1],
    "total_handled": [49, 2, 0, 0, 0, 0, 51],
    "carried_forward": [5, 0, 0, 0, 0, 0, 5],
}


def _core(r: Report) -> list[Check]:
    """The four original arithmetic rules (the auditor's newer rules are counted in tests/test_rules.py)."""
    return [c for c in r.checks if c.rule in codes.RULES]


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def row(report: Report, table: str, name: str) -> list[object]:
    return [f.value for f in report.figures if f.table == table and f.row == name]


def nonzero(report: Report) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for f in report.figures:
        if f.table == "applications":
            out.setdefault(f.row, []).append(f.value)
    return {r: v for r, v in out.items() if any(v)}


def assert_run_together(r: Report) -> None:
    assert (r.status, r.template, r.year) == ("complete", "2021", 2023), r.problems
    assert nonzero(r) == RUN_TOGETHER
    assert len([f for f in r.figures if f.table == "applications"]) == 25 * 7
    assert row(r, "active", "regulations") == [0, 0, 0]
    assert row(r, "active", "normative_documents") == [41, 29, 301]
    assert r.figure("active", "normative_documents", "issued").flags == ["split_by_checks", "split_by_prose"]
    assert row(r, "active", "licensing") == [1234]
    assert row(r, "review_litigation", "review") == [1, 1, 0, 0, 2]
    assert row(r, "review_litigation", "litigation_direct") == [0, 0, 0, 1, 1]
    assert row(r, "review_litigation", "litigation_after_review") == [0, 0, 0, 0, 0]
    new = r.figure("applications", "new_received", "total")
    assert (new.value, new.raw, new.flags) == (53, "53", ["split_by_checks"])
    assert all(c.ok for c in r.checks) and len(_core(r)) == 7 + 7 + 25 + 3


def test_run_together_cells_split_by_the_relations() -> None:
    r = parse_text(read("run_together_cells.txt"))
    assert_run_together(r)
    assert r.agency == "示例市北关区民政局" and r.problems == []
    assert r.figure("applications", "new_received", "total").source == {"line": 23}


def test_whole_report_on_one_line() -> None:
    text = read("one_line_report.txt")
    assert text.count("\n") == 1
    r = parse_text(text)
    assert_run_together(r)
    assert r.agency == "示例市南岭区民政局"
    assert list(r.sections) == [
        "preamble",
        "overview",
        "active",
        "applications",
        "review_litigation",
        "problems",
        "other",
    ]
    assert r.meta["reshaped"] == [
        "text: 1 run-together line(s) re-broken at the report's row and heading marks"
    ]


def test_split_enumeration_is_exact_and_bounded() -> None:
    assert splits(["512000053"], [(7, True)]) == [(51, 2, 0, 0, 0, 0, 53)]
    assert sorted(splits(["110000011"], [(7, True)]) or []) == [
        (1, 10, 0, 0, 0, 0, 11),
        (11, 0, 0, 0, 0, 0, 11),
    ]
    assert splits(["05", "1"], [(2, False)]) == []  # no leading zeros, no cell across a printed gap
    assert len(splits(["4129301"], [(3, False)]) or []) == 11  # 15 cuts less 4 with a leading 0
    assert splits(["9" * 60], [(7, True)]) == []  # 60 digits cannot be 7 cells of at most 7 digits
    assert splits(["1" * 40], [(40, False)], budget=5) is None  # over budget: said, not exploded


def test_tie_broken_by_the_column_relations() -> None:
    # granted 11/0 or 1/10 by its own row total; the 商业企业 column's (七)总计 leaves one.
    text = read("run_together_cells.txt").replace("（一）予以公开300000030", "（一）予以公开110000011")
    text = text.replace("（七）总计492000051", "（七）总计302000032")
    text = text.replace("数量512000053", "数量322000034")
    r = parse_text(text)
    assert r.status == "complete", r.problems
    assert row(r, "applications", "granted") == [11, 0, 0, 0, 0, 0, 11]
    assert all(c.ok for c in r.checks)


def test_ambiguous_split_is_null_with_the_candidates_named() -> None:
    text = read("run_together_cells.txt").replace("行政规范性文件41件，现行有效行政规范性文件301件", "")
    text = text.replace("（一）予以公开300000030", "（一）予以公开110000011")
    text = text.replace("1.本机关不掌握相关政府信息101000011", "1.本机关不掌握相关政府信息110000011")
    text = text.replace("（七）总计492000051", "（七）总计3011000041").replace(
        "数量512000053", "数量5011000061"
    )
    r = parse_text(text)
    assert r.status == "partial"
    assert row(r, "active", "normative_documents") == [None, None, None]
    assert r.figure("active", "normative_documents", "issued").flags == ["split_ambiguous"]
    assert any(
        p.startswith("active table: row normative_documents: the run '4129301' splits 11 ways")
        for p in r.problems
    )
    assert row(r, "applications", "granted") == [None] * 7
    assert row(r, "applications", "unable_not_held") == [None] * 7
    assert (
        "applications table: row granted: the run '110000011' splits 2 ways satisfying the relations: "
        "11/0/0/0/0/0/11; 1/10/0/0/0/0/11; left null"
    ) in r.problems or (
        "applications table: row granted: the run '110000011' splits 2 ways satisfying the relations: "
        "1/10/0/0/0/0/11; 11/0/0/0/0/0/11; left null"
    ) in r.problems


def test_markdown_pipe_tables_per_row_group_with_invented_header() -> None:
    r = parse_text(read("markdown_pipe_tables.md"))
    assert (r.status, r.template, r.agency, r.year) == ("complete", "2021", "示例县某某镇人民政府", 2023)
    assert r.title == "示例县某某镇人民政府2023年政府信息公开工作年度报告"
    assert r.problems == ["applications table: header not found; assumed the template's 7 columns"]
    assert row(r, "active", "normative_documents") == [3, 1, 12]
    assert row(r, "active", "fees") == [62.336]
    assert nonzero(r) == {
        "new_received": [8, 2, 0, 0, 1, 0, 11],
        "carried_over": [1, 0, 0, 0, 0, 0, 1],
        "granted": [3, 1, 0, 0, 1, 0, 5],
        "partly_granted": [1, 0, 0, 0, 0, 0, 1],
        "denied_third_party": [1, 0, 0, 0, 0, 0, 1],  # label split over two cells: （三）不 | 4.保护第三方…
        "unable_not_held": [2, 1, 0, 0, 0, 0, 3],
        "other_no_correction": [1, 0, 0, 0, 0, 0, 1],
        "total_handled": [8, 2, 0, 0, 1, 0, 11],
        "carried_forward": [1, 0, 0, 0, 0, 0, 1],
    }
    assert row(r, "review_litigation", "review") == [1, 0, 0, 0, 1]
    assert r.sections["problems"] == "问题：政务公开专业人员不足。"
    assert all(c.ok for c in r.checks) and len(_core(r)) == 42


def test_blank_totals_of_a_2019_page_are_derived() -> None:
    name = "2019_blank_totals.html"
    r = read_report((FIXTURES / name).read_bytes(), name)
    assert (r.status, r.template, r.problems) == ("complete", "2019", [])
    granted = r.figure("applications", "granted", "total")
    assert (granted.value, granted.flags) == (4, ["blank", "derived"])
    research = r.figure("applications", "granted", "research_institution")  # <o:p> </o:p>
    assert (research.value, research.flags) == (1, ["blank", "derived"])
    assert r.figure("applications", "denied_state_secret", "total").value == 0
    derived = [f for f in r.figures if "derived" in f.flags]
    assert len(derived) == 21 and all(f.value is not None for f in derived)
    assert row(r, "applications", "total_handled") == [5, 0, 1, 0, 0, 0, 6]
    assert all(c.ok for c in r.checks)


def test_blank_cells_no_relation_determines_stay_null() -> None:
    name = "2019_blank_undetermined.html"
    r = read_report((FIXTURES / name).read_bytes(), name)
    assert r.status == "partial"
    for cell in ("natural_person", "total"):
        for rw in ("granted", "partly_granted"):
            f = r.figure("applications", rw, cell)
            assert (f.value, f.flags) == (None, ["blank"])
    assert (
        "applications table: blank cells not determined by the relations, left null: granted/natural_person, "
        "granted/total, partly_granted/natural_person, partly_granted/total"
    ) in r.problems
    assert r.figure("applications", "granted", "research_institution").value == 1  # still derived


# ---------------------------------------------------------------- titles behind labels, strips and markup (A5, A6)


def test_title_behind_capture_wrapper_strip_and_label_joined_across_the_break() -> None:
    r = parse_text(read("capture_wrapper_metadata_strip.txt"))
    assert r.title == "示例市西岭区卫生健康委员会2023年政府信息公开工作年度报告"
    assert (r.agency, r.year) == ("示例市西岭区卫生健康委员会", 2023)
    assert r.status == "partial"  # the standard tables are missing, and the problems say so
    assert r.problems[0].startswith("no standard tables found")


def test_field_labels_and_markdown_never_end_up_in_a_title() -> None:
    for first in (
        "名称 示例县交通运输局2022年政府信息公开工作年度报告",
        "# 示例县交通运输局2022年政府信息公开工作年度报告",
        "标题：**示例县交通运输局2022年政府信息公开工作年度报告**",
    ):
        r = parse_text(first + "\n一、总体情况\n2022年，本局坚持公开为常态。\n")
        assert (r.title, r.agency, r.year) == (
            "示例县交通运输局2022年政府信息公开工作年度报告",
            "示例县交通运输局",
            2022,
        )


def test_free_form_report_without_headings_is_kept_not_failed() -> None:
    r = parse_text("示例县档案局2013年信息公开年度报告\n本年度主动公开信息120条，收到申请3件，均已答复。\n")
    assert (r.status, r.template, r.year) == ("complete", "free", 2013)
    assert "no section headings found: the text is kept as one body" in r.problems


# ---------------------------------------------------------------- garbled conversions (A3 leftovers)

GARBLED = {
    "new_received": [12, 1, 0, 0, 0, 0, 13],
    "carried_over": [1, 0, 0, 0, 0, 0, 1],
    "granted": [6, 1, 0, 0, 0, 0, 7],
    "partly_granted": [2, 0, 0, 0, 0, 0, 2],
    "denied_third_party": [1, 0, 0, 0, 0, 0, 1],
    "unable_not_held": [2, 0, 0, 0, 0, 0, 2],
    "rejected_duplicate": [1, 0, 0, 0, 0, 0, 1],
    "other_no_correction": [1, 0, 0, 0, 0, 0, 1],
    "total_handled": [13, 1, 0, 0, 0, 0, 14],
}


def test_garbled_conversion_loose_labels_truncated_labels_broken_and_mid_table_headers() -> None:
    """Value rows right after a loose label line (一、本年新收… / 4.保护第三方合法权益), header words broken over
    cells (商业 | 企业), a page footer and the header repeated mid-table, labels cut short
    (…不再处理其政府信息公): every row by its distinctive key, numbers from the row's end."""
    r = parse_text(read("garbled_conversion.txt"))
    assert (r.status, r.template, r.agency, r.year) == ("complete", "2021", "示例县农业农村局", 2023)
    assert r.problems == []  # the broken header is read as the template's 7 columns, not assumed
    assert nonzero(r) == GARBLED
    assert len([f for f in r.figures if f.table == "applications"]) == 25 * 7
    assert r.figure("applications", "new_received", "total").source == {"line": 24}
    assert r.figure("applications", "denied_third_party", "natural_person").source == {"line": 34}
    assert row(r, "applications", "other_unpaid_fee") == [0] * 7
    assert row(r, "active", "normative_documents") == [2, 0, 9]
    assert all(c.ok for c in r.checks) and len(_core(r)) == 7 + 7 + 25 + 3


def test_loose_group_label_names_a_garbled_item_below_it() -> None:
    text = (
        read("garbled_conversion.txt")
        .replace("1.本机关不掌握相关政府信息\t2", "1.本机关不掌\t2")
        .replace("（四）无法提供\n1.本机关不掌\t", "（四）无法提供\n1.本机关不掌\n")
    )
    r = parse_text(text)
    assert row(r, "applications", "unable_not_held") == [2, 0, 0, 0, 0, 0, 2]
    assert "applications table: row unable_not_held recognised by its number only" in " ".join(r.problems)
    assert all(c.ok for c in r.checks)


def test_a_page_number_is_never_bound_to_a_loose_label() -> None:
    text = read("garbled_conversion.txt").replace(
        "4.保护第三方合法权益\n1\t0\t0\t0\t0\t0\t1", "4.保护第三方合法权益\n— 3 —"
    )
    r = parse_text(text)
    assert row(r, "applications", "denied_third_party") == []
    assert "applications table: row denied_third_party not found" in r.problems
