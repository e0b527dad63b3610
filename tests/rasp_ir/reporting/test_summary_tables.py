"""A view's summary tables (a population's members, say) on the report page: each under its own
heading and link, every cell escaped, and a row of the wrong width refused where it is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.api import ArtifactView, SummaryTable
from rasp_ir.check import load_program
from rasp_ir.reporting.collect import collect
from rasp_ir.reporting.page import render_page
from rasp_ir.reporting.sources import Opened

REVERSE = Path(__file__).parents[3] / "examples" / "reverse.rasp"


def test_tables_are_shown_with_a_link_and_escaped() -> None:
    table = SummaryTable(
        "Population",
        ("seed", "final val"),
        (("0", "50.00%"), ("<b>1</b>", "a & b")),
        note="final: <the last epoch>",
    )
    text = REVERSE.read_text(encoding="utf-8")
    view = ArtifactView("a run", str(REVERSE), text, tables=(table,))
    page = render_page(collect(Opened(view, load_program(str(REVERSE))), []))
    assert '<nav><a href="#table-1">Population</a>' in page
    assert '<h2 id="table-1">Population</h2>' in page
    assert "<tr><th>seed</th><th>final val</th></tr>" in page
    assert "<tr><td>0</td><td>50.00%</td></tr>" in page
    assert "<tr><td>&lt;b&gt;1&lt;/b&gt;</td><td>a &amp; b</td></tr>" in page
    assert '<p class="note">final: &lt;the last epoch&gt;</p>' in page


def test_a_view_without_tables_has_no_table_section() -> None:
    text = REVERSE.read_text(encoding="utf-8")
    view = ArtifactView("a program", str(REVERSE), text)
    page = render_page(collect(Opened(view, load_program(str(REVERSE))), []))
    assert 'id="table-' not in page


def test_a_row_must_have_a_cell_per_column() -> None:
    with pytest.raises(ValueError, match="Population: a row of 1 cells, not 2"):
        SummaryTable("Population", ("seed", "final val"), (("0",),))
