"""Golden diagnostics: each ``diagnostics/*.rasp`` renders exactly as its ``.expected`` file."""

import os
from pathlib import Path

import pytest

from rasp_ir.check import load_program
from rasp_ir.diagnostics import Diagnostic, RaspError, Span

CASES = sorted((Path(__file__).parent / "diagnostics").glob("*.rasp"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_diagnostic_renders_exactly(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    with pytest.raises(RaspError) as raised:
        load_program(path.name)
    expected = path.with_suffix(".expected").read_text(encoding="utf-8")
    assert raised.value.render() + "\n" == expected


def test_render_puts_carets_under_the_span() -> None:
    span = Span("f.rasp", 2, 5, 2, 8, "x = abc;")
    diagnostic = Diagnostic("undefined", "'abc' is not defined", span, "bind it first")
    assert diagnostic.render().splitlines() == [
        "f.rasp:2:5: error: 'abc' is not defined [undefined]",
        "    x = abc;",
        "        ^^^",
        "  hint: bind it first",
    ]


def test_error_without_location_has_no_caret() -> None:
    assert RaspError.single("header", "no vocabulary").render() == "error: no vocabulary [header]"


def test_cases_exist() -> None:
    assert len(CASES) >= 10
    assert os.path.isdir(Path(__file__).parent / "diagnostics")
