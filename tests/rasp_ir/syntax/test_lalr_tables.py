"""The stored LALR tables: current for the grammar and Lark installed, giving the parser built
from the grammar's exact trees, positions and syntax errors, and ignored once stale."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest
from lark import Lark, Token, Tree

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import grammar_text
from rasp_ir.syntax import lalr_tables, tree
from rasp_ir.syntax.lalr_tables import built_parser, grammar_digest, stored_parser

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted(p for folder in ("examples", "tests") for p in (ROOT / folder).rglob("*.rasp"))
BROKEN = [
    "x = map(fn(t) -> t, tokens)\ny = x;\noutput y;\n",
    "%vocab {1, 2\n",
    "x = select(tokens, tokens, ==;\n",
    "x = 'a';\n",
    "x = 1 < 2 < 3;\noutput x;\n",
    "output",
]


@pytest.fixture(scope="module")
def parsers() -> tuple[Lark, Lark]:
    stored = stored_parser()
    assert stored is not None, "stale tables: run python -m rasp_ir.syntax.lalr_tables"
    return stored, built_parser()


def test_the_stored_tables_are_those_of_this_grammar_and_lark() -> None:
    from rasp_ir.syntax import lalr_tables_data as stored

    assert grammar_digest(grammar_text()) == stored.GRAMMAR_SHA256, (
        "grammar/rasp.lark changed: run python -m rasp_ir.syntax.lalr_tables"
    )
    assert lark.__version__ == stored.LARK_VERSION
    assert tree.grammar_parser().source_path == "<deserialized>"


def _layout(node: Tree[Token] | Token) -> object:
    """A node with every position in it (trees compare without their positions)."""
    if isinstance(node, Token):
        return (node.type, str(node), node.line, node.column, node.end_line, node.end_column)
    meta = node.meta
    where = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
    return (node.data, where, [_layout(child) for child in node.children])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_and_built_parsers_give_the_same_tree(
    path: Path, parsers: tuple[Lark, Lark]
) -> None:
    text = path.read_text(encoding="utf-8")
    stored, built = parsers
    try:
        expected = _layout(built.parse(text))
    except lark.exceptions.UnexpectedInput as error:
        with pytest.raises(type(error)):
            stored.parse(text)
        return
    assert _layout(stored.parse(text)) == expected


@pytest.mark.parametrize("text", BROKEN)
def test_stored_and_built_parsers_give_the_same_syntax_error(
    text: str, parsers: tuple[Lark, Lark], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored, built = parsers
    diagnostics = []
    for parser in (stored, built):
        monkeypatch.setattr(tree, "grammar_parser", lambda parser=parser: parser)
        with pytest.raises(RaspError) as caught:
            tree.parse_tree(text, "x.rasp")
        diagnostics.append([d.render() for d in caught.value.diagnostics])
    assert diagnostics[0] == diagnostics[1]


def test_tables_of_another_grammar_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lalr_tables, "grammar_text", lambda: grammar_text() + "\n// edited\n")
    assert stored_parser() is None
