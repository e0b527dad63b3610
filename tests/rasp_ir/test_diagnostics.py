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


def test_long_lines_are_shown_as_a_window_around_the_caret() -> None:
    names = ", ".join(f"a{i}" for i in range(60))
    line = f"y = map(fn({names}) -> zz, {names});"
    column = line.index("zz") + 1
    span = Span("f.rasp", 3, column, 3, column + 2, line)
    _, shown, carets, _ = Diagnostic("undefined", "'zz'", span, "bind it").render().splitlines()
    assert shown.startswith("    …") and shown.endswith("…") and len(shown) <= 4 + 102
    assert shown[carets.index("^") : carets.rindex("^") + 1] == "zz"


def test_a_span_running_past_a_long_line_keeps_its_carets_on_the_window() -> None:
    line = "x = " + "+".join(["ones"] * 80) + ";"
    span = Span("f.rasp", 1, 5, 2, 3, line)
    _, shown, carets, *_ = Diagnostic("code", "m", span).render().splitlines()
    assert shown == "    " + line[:100] + "…"
    assert carets == "    " + " " * 4 + "^" * 97
