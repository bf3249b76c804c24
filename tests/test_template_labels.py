"""The official blank 2021 template (../shared/corpus) is the canonical label set: every row label maps."""

from __future__ import annotations

import pytest

from pipelines.codes import APPLICATION_ROWS
from pipelines.extract import extract_path
from pipelines.tables import application_row, classify, rows_from_grid

from .helpers_shared import require_shared

pytestmark = pytest.mark.corpus


def test_every_row_of_the_official_template_maps_to_its_code() -> None:
    template = require_shared("corpus", "template-guoban_2021format.docx")
    grids = extract_path(template).grids
    tables = {classify(rows_from_grid(g)): rows_from_grid(g) for g in grids}
    assert set(tables) == {"active", "applications", "review_litigation"}
    codes, previous = [], None
    for row in tables["applications"]:
        key = row.label_key()
        if "申请人情况" in key or "自然人" in key or "法人或其他组织" in key:
            continue  # header rows
        code = application_row(key, previous)
        codes.append(code)
        previous = code
    assert codes == [r.code for r, templates in APPLICATION_ROWS if "2021" in templates]
