"""Every within-report rule of FORMAT.md §4 (pipelines/rules.py), each passing and failing, on hand-made
reports of fictional agencies in the real shapes."""

from __future__ import annotations

from pipelines.checks import evaluate
from pipelines.report import Figure, Report
from pipelines.rules import RULES, rule_info


def report(cells: dict[tuple[str, str, str], float | int | None], template: str = "2021") -> Report:
    return Report(
        agency="示例县某某局",
        year=2024,
        template=template,  # type: ignore[arg-type]
        status="complete",
        figures=[Figure(t, r, c, v, raw=None if v is None else str(v)) for (t, r, c), v in cells.items()],
    )


def by_rule(rep: Report, rule: str) -> list:
    checks, _ = evaluate(rep)
    return [c for c in checks if c.rule == rule]


A = "applications"


def test_every_check_has_a_severity_and_names_the_cells_it_read() -> None:
    rep = report(
        {
            (A, "new_received", "total"): 5,
            (A, "carried_over", "total"): 1,
            (A, "total_handled", "total"): 5,
            (A, "carried_forward", "total"): 1,
        }
    )
    checks, _ = evaluate(rep)
    balance = [c for c in checks if c.rule == "applications.balance"]
    assert balance and balance[0].ok and balance[0].severity == "hard"
    assert balance[0].cells == [
        f"applications.{r}.total"
        for r in ("new_received", "carried_over", "total_handled", "carried_forward")
    ]
    assert all(c.severity in ("hard", "soft") for c in checks)
    assert (
        rule_info("prose.penalty").format_id == "S-NARR"
        and RULES["cross_year.carried_over"].format_id == "S-XYEAR"
    )


def test_org_subtotal_column_pass_and_fail() -> None:
    orgs = (
        "commercial_enterprise",
        "research_institution",
        "social_welfare_org",
        "legal_service_org",
        "other_org",
    )
    good = {(A, "granted", c): 1 for c in orgs} | {(A, "granted", "org_subtotal"): 5}
    [ok] = by_rule(report(good), "applications.org_subtotal")
    assert ok.ok and ok.detail.startswith("5 = 1+1+1+1+1")
    bad = good | {(A, "granted", "org_subtotal"): 6}
    [failed] = by_rule(report(bad), "applications.org_subtotal")
    assert not failed.ok and "6 ≠" in failed.detail and "applications.granted.org_subtotal" in failed.cells


def test_printed_group_total_pass_and_fail() -> None:
    cells = {
        (A, "denied_state_secret", "total"): 1,
        (A, "denied_third_party", "total"): 2,
        (A, "denied_total", "total"): 3,
    }
    [ok] = by_rule(report(cells), "applications.group_total")
    assert ok.ok and ok.row == "denied_total"
    [bad] = by_rule(report(cells | {(A, "denied_total", "total"): 4}), "applications.group_total")
    assert not bad.ok and bad.detail == "4 ≠ 1+2 = 3"


def test_nonnegative_integer_cells_per_table() -> None:
    clean = {
        (A, "granted", "total"): 2,
        ("review_litigation", "review", "total"): 0,
        ("active", "fees", "amount_10k_yuan"): 3.3,
    }
    for table in ("applications", "review_litigation", "active"):
        [ok] = by_rule(report(clean), f"{table}.nonnegative")
        assert ok.ok and ok.column == "*"
    bad = report(
        {
            (A, "granted", "total"): -1,
            (A, "partly_granted", "natural_person"): 2.5,
            ("active", "licensing", "items_change"): -3,
        },
        template="2019",
    )
    failed = by_rule(bad, "applications.nonnegative")
    assert {(c.row, c.column) for c in failed} == {("granted", "total"), ("partly_granted", "natural_person")}
    assert all(not c.ok for c in failed) and any("not an integer" in c.detail for c in failed)
    # A signed 本年增/减 (2019 template) may be negative.
    [active] = by_rule(bad, "active.nonnegative")
    assert active.ok


def test_carry_forward_bound() -> None:
    base = {(A, "new_received", "total"): 3, (A, "carried_over", "total"): 1}
    [ok] = by_rule(report(base | {(A, "carried_forward", "total"): 4}), "applications.carry_forward_bound")
    assert ok.ok and ok.severity == "soft"
    [bad] = by_rule(report(base | {(A, "carried_forward", "total"): 5}), "applications.carry_forward_bound")
    assert not bad.ok and bad.detail == "结转下年度 5 > 新收 3 + 上年结转 1"


def test_all_zero_when_nothing_was_received() -> None:
    zero = {(A, "new_received", "total"): 0, (A, "carried_over", "total"): 0, (A, "granted", "total"): 0}
    [ok] = by_rule(report(zero), "applications.all_zero")
    assert ok.ok
    [bad] = by_rule(report(zero | {(A, "granted", "natural_person"): 2}), "applications.all_zero")
    assert not bad.ok and "granted.natural_person = 2" in bad.detail
    assert by_rule(report(zero | {(A, "new_received", "total"): 1}), "applications.all_zero") == []


def test_2019_published_bound() -> None:
    cells = {
        ("active", "regulations", c): v
        for c, v in (("new_made", 3), ("new_published", 3), ("total_published", 40))
    }
    [ok] = by_rule(report(cells, "2019"), "active.published_bound")
    assert ok.ok
    [bad] = by_rule(
        report(cells | {("active", "regulations", "new_published"): 5}, "2019"), "active.published_bound"
    )
    assert not bad.ok and "新公开 5 > 新制作 3" in bad.detail


def test_fee_written_in_yuan() -> None:
    [ok] = by_rule(report({("active", "fees", "amount_10k_yuan"): 62.336}), "active.fee_unit")
    assert ok.ok
    [bad] = by_rule(report({("active", "fees", "amount_10k_yuan"): 251000}), "active.fee_unit")
    assert not bad.ok and "probably 251000 元 = 25.1 万元" in bad.detail
    # A city's consolidated report: 96171.6 万元 is large but keeps its decimals (淮安市 2024, real).
    [city] = by_rule(report({("active", "fees", "amount_10k_yuan"): 96171.6}), "active.fee_unit")
    assert city.ok


def test_missing_cells_are_not_checked() -> None:
    rep = report(
        {
            (A, "new_received", "total"): 3,
            (A, "carried_over", "total"): None,
            (A, "carried_forward", "total"): 9,
        }
    )
    assert by_rule(rep, "applications.carry_forward_bound") == []
