"""The parsers' stored tables: they match the grammar, load without analysing it, and parse
every program as the grammar's own parser does (the IR parser: the same trees, positions and
syntax errors); stale tables are ignored."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import grammar_text
from rasp_ir.syntax import concrete_tables_data as stored
from rasp_ir.syntax import ir_tables_data, tree
from rasp_ir.syntax.parser_tables import (
    CONCRETE_OPTIONS,
    build_concrete_parser,
    build_ir_parser,
    grammar_digest,
    load_tables,
    stored_concrete_parser,
    stored_ir_parser,
)

ROOT = Path(__file__).parents[3]
PROGRAMS = sorted(ROOT.glob("examples/**/*.rasp")) + sorted(ROOT.glob("tests/**/*.rasp"))


def test_the_stored_tables_match_the_grammar_and_lark() -> None:
    current = (grammar_digest(grammar_text()), lark.__version__)
    assert current == (stored.GRAMMAR_SHA256, stored.LARK_VERSION), (
        "run: python -m rasp_ir.syntax.parser_tables"
    )
    assert stored_concrete_parser() is not None


def _tokens(parser: Lark, text: str) -> list[tuple[str, str, int | None]]:
    tree = parser.parse(text)
    return [(t.type, str(t), t.start_pos) for t in tree.scan_values(lambda v: isinstance(v, Token))]


def test_the_stored_tables_parse_every_program_as_the_grammar_does() -> None:
    loaded = stored_concrete_parser()
    assert loaded is not None
    built = build_concrete_parser()
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            expected = built.parse(text)
        except UnexpectedInput:
            with pytest.raises(UnexpectedInput):
                loaded.parse(text)
            continue
        assert loaded.parse(text) == expected, path
        assert _tokens(loaded, text) == _tokens(built, text), path


def test_tables_of_another_grammar_or_lark_are_ignored() -> None:
    digest = grammar_digest(grammar_text())
    edited = grammar_text() + "\n// edited\n"
    assert load_tables(stored.TABLES, digest, lark.__version__, edited) is None
    assert load_tables(stored.TABLES, digest, "0.0.1", grammar_text()) is None
    assert load_tables(stored.TABLES, digest, lark.__version__, grammar_text()) is not None


def test_the_concrete_parser_builds_in_strict_mode_too() -> None:
    """It is built without ``strict`` (faster); strict, any grammar conflict would fail."""
    Lark(grammar_text(), strict=True, **CONCRETE_OPTIONS)


BROKEN = [
    "x = map(fn(t) -> t, tokens)\ny = x;\noutput y;\n",
    "%vocab {1, 2\n",
    "x = select(tokens, tokens, ==;\n",
    "x = 'a';\n",
    "x = 1 < 2 < 3;\noutput x;\n",
    "output",
]


@pytest.fixture(scope="module")
def ir_parsers() -> tuple[Lark, Lark]:
    loaded = stored_ir_parser()
    assert loaded is not None, "stale tables: run python -m rasp_ir.syntax.parser_tables"
    return loaded, build_ir_parser()


def test_the_stored_ir_tables_match_the_grammar_and_lark() -> None:
    current = (grammar_digest(grammar_text()), lark.__version__)
    assert current == (ir_tables_data.GRAMMAR_SHA256, ir_tables_data.LARK_VERSION), (
        "run: python -m rasp_ir.syntax.parser_tables"
    )
    assert tree.grammar_parser().source_path == "<deserialized>"


def _layout(node: Tree[Token] | Token) -> object:
    """A node with every position in it (trees compare without their positions)."""
    if isinstance(node, Token):
        return (node.type, str(node), node.line, node.column, node.end_line, node.end_column)
    meta = node.meta
    where = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
    return (node.data, where, [_layout(child) for child in node.children])


def test_the_stored_ir_parser_gives_the_same_trees_and_positions(
    ir_parsers: tuple[Lark, Lark],
) -> None:
    loaded, built = ir_parsers
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            expected = _layout(built.parse(text))
        except UnexpectedInput as error:
            with pytest.raises(type(error)):
                loaded.parse(text)
            continue
        assert _layout(loaded.parse(text)) == expected, path


@pytest.mark.parametrize("text", BROKEN)
def test_the_stored_ir_parser_gives_the_same_syntax_errors(
    text: str, ir_parsers: tuple[Lark, Lark], monkeypatch: pytest.MonkeyPatch
) -> None:
    diagnostics = []
    for parser in ir_parsers:
        monkeypatch.setattr(tree, "grammar_parser", lambda parser=parser: parser)
        with pytest.raises(RaspError) as caught:
            tree.parse_tree(text, "x.rasp")
        diagnostics.append([d.render() for d in caught.value.diagnostics])
    assert diagnostics[0] == diagnostics[1]
