"""The HTML that programs, evaluations and compiled models show in Jupyter."""

from __future__ import annotations

import pytest

from rasp_ir.interpreter import interpret
from rasp_ir.notebook import html
from rasp_ir.syntax import parse_program

pygments_lexers = pytest.importorskip("pygments.lexers")
pygments_util = pytest.importorskip("pygments.util")

TRICKY = """\
%vocab {"<b>", "&"}
%max_len 3
is_tag = tokens == "<b>";
output is_tag;
"""


def _no_rasp_lexer(name: str) -> object:
    raise pygments_util.ClassNotFound(f"no lexer for alias {name!r} found")


def test_without_a_rasp_lexer_the_source_is_escaped_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pygments_lexers, "get_lexer_by_name", _no_rasp_lexer)
    assert html.highlighted('x = "<b>" & 1;') == (
        '<pre class="rasp-source">x = &quot;&lt;b&gt;&quot; &amp; 1;</pre>'
    )


def test_a_plugin_lexer_that_fails_to_load_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> object:
        raise ModuleNotFoundError("No module named 'rasp_ir.syntax.highlight'")

    monkeypatch.setattr(pygments_lexers, "get_lexer_by_name", broken)
    assert html.highlighted("x;").startswith('<pre class="rasp-source">')


def test_with_a_lexer_the_source_is_highlighted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        pygments_lexers, "get_lexer_by_name", lambda name: pygments_lexers.TextLexer()
    )
    shown = html.highlighted('x = "<b>";')
    assert shown.startswith('<div class="highlight"') and "&lt;b&gt;" in shown


def test_a_program_shows_its_layers_and_value_sets_with_every_value_escaped() -> None:
    shown = html.program_html(parse_program(TRICKY))
    assert "<p>layers: 0, heads per layer: -</p>" in shown
    assert "<td>0</td><td>embedding</td><td></td><td>is_tag</td>" in shown
    assert "<td>is_tag</td><td>cat</td><td>{false, true}</td>" in shown
    assert "<b>" not in shown and "&lt;b&gt;" in shown


def test_an_evaluation_shows_a_row_per_binding_and_selectors_as_matrices() -> None:
    program = parse_program(
        '%vocab {"<b>", "&"}\n%max_len 3\nsame = select(tokens, tokens, ==);\n'
        "n = selector_width(same);\noutput n;\n"
    )
    shown = html.evaluation_html(interpret(program, [["<b>", "&", "<b>"]]))
    header = "<th>binding</th><th>&lt;b&gt;</th><th>&amp;</th><th>&lt;b&gt;</th>"
    assert header in shown
    assert "<tr><td>n</td><td>2</td><td>1</td><td>2</td></tr>" in shown
    assert "<p>same</p>" in shown
    assert "<tr><td>&lt;b&gt;</td><td>1</td><td>0</td><td>1</td></tr>" in shown


def test_a_large_batch_shows_its_first_inputs() -> None:
    program = parse_program(TRICKY)
    shown = html.evaluation_html(interpret(program, [["&"]] * (html.SHOWN_EXAMPLES + 3)))
    assert shown.count("<table") == html.SHOWN_EXAMPLES
    assert "… and 3 more inputs" in shown


def test_a_compiled_model_shows_its_shape_and_program() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from rasp_ir.api import load_backend

    model = load_backend("torch").lower(parse_program(TRICKY))
    shown = model._repr_html_()
    assert f"<tr><td>layers</td><td>{model.config.n_layers}</td></tr>" in shown
    assert "<td>d_model</td>" in shown and "<td>is_tag</td><td>cat</td>" in shown
