"""Parsing statement by statement gives exactly what parsing the whole text gives (the same
AST, the same source lines in its spans, the same syntax errors) and re-parses only what an
edit changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rasp_ir.diagnostics import RaspError, Span
from rasp_ir.lsp.incremental import IncrementalParser, resplit_statements, split_statements
from rasp_ir.syntax import ast, parse_module

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.rasp"))

TRICKY = """\
%vocab {"a;", "#"}  # a directive without ';'
%max_len 4
%causal
define = tokens == "a;";   x = {1, 2};
def f(a) {
    b = a == "}"; return b;
}
y = map(fn(t) -> t if t == "#" else "a;", tokens);
output define, y;
"""


def _line_texts(node: object) -> list[tuple[Span, str]]:
    """Every span inside an AST node with the source line it carries (not part of equality)."""
    if isinstance(node, Span):
        return [(node, node.line_text)]
    if isinstance(node, tuple):
        return [pair for item in node for pair in _line_texts(item)]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return [p for f in dataclasses.fields(node) for p in _line_texts(getattr(node, f.name))]
    return []


def _whole(text: str) -> ast.Module | RaspError:
    parse_module.cache_clear()
    try:
        return parse_module(text, "f.rasp")
    except RaspError as error:
        return error


def _pieces(text: str) -> ast.Module | RaspError:
    try:
        return IncrementalParser().parse(text, "f.rasp")
    except RaspError as error:
        return error


def _same(text: str) -> None:
    whole, pieces = _whole(text), _pieces(text)
    if isinstance(whole, RaspError):
        assert isinstance(pieces, RaspError) and pieces.render() == whole.render()
    else:
        assert pieces == whole
        assert _line_texts(pieces) == _line_texts(whole)


@pytest.mark.parametrize("text", [TRICKY, *(p.read_text(encoding="utf-8") for p in EXAMPLES)])
def test_every_example_parses_to_the_same_ast_piece_by_piece(text: str) -> None:
    _same(text)


def test_pieces_end_at_statements_not_inside_strings_comments_sets_or_defs() -> None:
    starts = [(p.line, p.column) for p in split_statements(TRICKY)]
    assert starts == [(1, 1), (2, 1), (3, 1), (4, 1), (4, 28), (5, 1), (8, 1), (9, 1)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_prefixes_give_the_same_ast_or_the_same_syntax_error(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    for cut in range(0, len(text) + 1, max(1, len(text) // 40)):
        _same(text[:cut])


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("x = {1, 2};", "x = {1, 3};"),
        lambda t: t.replace("%causal\n", '%causal\nz = 1;\n%bos "a"\n'),  # directive too late
        lambda t: t.replace("output define, y;", "output define, y"),  # unfinished
        lambda t: t.replace('"a;", "#"', '"a;" "#"'),
        lambda t: "\n\n" + t,  # every piece moves
    ],
)
def test_an_edited_version_matches_a_whole_parse(edit: object) -> None:
    assert callable(edit)
    parser = IncrementalParser()
    parser.parse(TRICKY, "f.rasp")
    text = edit(TRICKY)
    whole = _whole(text)
    try:
        found: ast.Module | RaspError = parser.parse(text, "f.rasp")
    except RaspError as error:
        found = error
    if isinstance(whole, RaspError):
        assert isinstance(found, RaspError) and found.render() == whole.render()
    else:
        assert found == whole and _line_texts(found) == _line_texts(whole)


def test_an_edit_inside_one_statement_reparses_only_that_statement() -> None:
    parser = IncrementalParser()
    parser.parse(TRICKY, "f.rasp")
    parser.parse(TRICKY.replace("x = {1, 2};", "x = {1, 3};"), "f.rasp")
    # the edited line holds two statements: both are parsed again, the other six are kept
    assert parser.reused == len(split_statements(TRICKY)) - 2


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([TRICKY, *(p.read_text(encoding="utf-8") for p in EXAMPLES)]),
    st.integers(0, 10_000),
    st.integers(0, 40),
    st.text(alphabet=' \n;#"{}()[]%abdef=1', max_size=6),
)
@example(TRICKY, TRICKY.index('"a;";'), 0, "xx")  # the next statement on the line moves right
@example(TRICKY, TRICKY.index("%max_len"), 0, "\n")  # every later statement moves down
def test_cutting_again_after_an_edit_gives_what_cutting_the_new_text_gives(
    text: str, at: int, removed: int, inserted: str
) -> None:
    start = at % (len(text) + 1)
    edited = text[:start] + inserted + text[start + removed :]
    again = resplit_statements(text, split_statements(text), edited)
    assert again == split_statements(edited)


def test_statements_moved_by_an_added_line_are_moved_not_parsed_again() -> None:
    parser = IncrementalParser()
    parser.parse(TRICKY, "f.rasp")
    moved = "# a new first line\n" + TRICKY
    assert parser.parse(moved, "f.rasp") == _whole(moved)
    assert parser.reused == len(split_statements(TRICKY))
    found = parser.parse(TRICKY, "f.rasp")  # and back
    assert found == _whole(TRICKY) and _line_texts(found) == _line_texts(_whole(TRICKY))
    assert parser.reused == len(split_statements(TRICKY))
