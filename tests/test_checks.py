"""Each arithmetic rule, passing and failing, on fictional numbers."""

from __future__ import annotations

from pipelines.checks import evaluate, run_checks
from pipelines.codes import RESULT_ROWS_2021
from pipelines.report import Check, Figure, Report


def report(cells: dict[tuple[str, str, str], int | None], template: str = "2021") -> Report:
    r = Report(template=template)  # type: ignore[arg-type]
    r.meta["table_templates"] = {"applications": template}
    r.figures = [
        Figure(t, row, col, v, flags=[] if v is not None else ["truncated_row"])
        for (t, row, col), v in cells.items()
    ]
    return r


def apps(rows: dict[str, list[int | None]], template: str = "2021") -> Report:
    cols = ["natural_person", "commercial_enterprise", "total"]
    return report(
        {("applications", row, c): v for row, vals in rows.items() for c, v in zip(cols, vals, strict=True)},
        template,
    )


def zero_results(template: str = "2021") -> dict[str, list[int | None]]:
    rows = RESULT_ROWS_2021 if template == "2021" else (*RESULT_ROWS_2021[:-3], "other")
    return {row: [0, 0, 0] for row in rows}


def find(checks: list[Check], rule: str, column: str = "total", row: str | None = None) -> Check:
    return next(c for c in checks if c.rule == rule and c.column == column and c.row == row)


def balanced(fail: bool = False, template: str = "2021") -> Report:
    rows = zero_results(template)
    rows["granted"] = [20, 1, 21]
    rows["partly_granted"] = [6, 0, 6]
    rows["new_received"] = [25, 1, 26]
    rows["carried_over"] = [2, 0, 2]
    rows["total_handled"] = [26, 1, 27]
    rows["carried_forward"] = [1, 0, 0 if fail else 1]
    return apps(rows, template)


def test_balance_passes() -> None:
    c = find(run_checks(balanced()), "applications.balance")
    assert c.ok and c.detail == "26+2 = 27+1" and c.row is None
    commercial = find(run_checks(balanced()), "applications.balance", "commercial_enterprise")
    assert commercial.ok and commercial.detail == "1+0 = 1+0"


def test_balance_fails() -> None:
    c = find(run_checks(balanced(fail=True)), "applications.balance")
    assert not c.ok and c.detail == "26+2 ≠ 27+0"


def test_total_handled_passes_and_fails() -> None:
    checks = run_checks(balanced())
    total = find(checks, "applications.total_handled")
    assert total.ok and total.detail == "27 = 21+6"
    assert find(checks, "applications.total_handled", "natural_person").detail == "26 = 20+6"
    r = balanced()
    r.figure("applications", "granted", "natural_person").value = 19
    natural = find(run_checks(r), "applications.total_handled", "natural_person")
    assert not natural.ok and natural.detail == "26 ≠ 19+6 = 25"


def test_total_handled_uses_the_2019_rows() -> None:
    r = balanced(template="2019")
    r.figure("applications", "other", "total").value = 3
    c = find(run_checks(r), "applications.total_handled")
    assert not c.ok and c.detail == "27 ≠ 21+6+3 = 30"


def test_row_total_passes_and_fails() -> None:
    r = apps({"new_received": [25, 1, 26], "granted": [20, 2, 21]})
    checks = run_checks(r)
    ok = find(checks, "applications.row_total", row="new_received")
    bad = find(checks, "applications.row_total", row="granted")
    assert ok.ok and ok.detail == "26 = 25+1"
    assert not bad.ok and bad.detail == "21 ≠ 20+2"


def test_row_total_with_lost_cell_is_skipped_and_said() -> None:
    r = apps(
        {"new_received": [25, 1, 26], "denied_state_secret": [0, 0, None], "unable_not_held": [1, 0, None]}
    )
    checks, notes = evaluate(r)
    assert {c.row for c in checks if c.rule == "applications.row_total"} == {"new_received"}
    assert (
        "applications.row_total not checked for rows denied_state_secret, unable_not_held: "
        "cell lost (truncated_row)"
    ) in notes


def test_review_total_passes_and_fails() -> None:
    cols = ["upheld", "corrected", "other_result", "pending", "total"]
    cells = {("review_litigation", "review", c): v for c, v in zip(cols, [3, 1, 0, 1, 5], strict=True)}
    cells |= {
        ("review_litigation", "litigation_direct", c): v for c, v in zip(cols, [1, 0, 0, 0, 2], strict=True)
    }
    checks = run_checks(report(cells))
    review = find(checks, "review_litigation.total", row="review")
    direct = find(checks, "review_litigation.total", row="litigation_direct")
    assert review.ok and review.detail == "5 = 3+1+0+1"
    assert not direct.ok and direct.detail == "2 ≠ 1+0+0+0"
    assert len([c for c in checks if c.rule == "review_litigation.total"]) == 2


def test_missing_row_skips_balance_with_a_note() -> None:
    r = apps({"new_received": [1, 0, 1], "carried_over": [0, 0, 0], "total_handled": [1, 0, 1]})
    checks, notes = evaluate(r)
    assert not any(c.rule == "applications.balance" for c in checks)
    assert any(n.startswith("applications.balance not checked for columns natural_person") for n in notes)
