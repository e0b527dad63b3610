"""The concrete parser's stored tables: they match the grammar, load without analysing it, and
parse every program as the grammar's own parser does; stale or damaged tables are ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from rasp_ir.grammar import grammar_text
from rasp_ir.syntax.parser_tables import (
    CONCRETE_OPTIONS,
    build_concrete_parser,
    load_tables,
    stored_concrete_parser,
    tables_text,
)

ROOT = Path(__file__).parents[3]
PROGRAMS = sorted(ROOT.glob("examples/**/*.rasp")) + sorted(ROOT.glob("tests/**/*.rasp"))


def test_the_stored_tables_match_the_grammar() -> None:
    stored = stored_concrete_parser()
    assert stored is not None, "run: python -m rasp_ir.syntax.parser_tables"


def _tokens(parser: Lark, text: str) -> list[tuple[str, str, int | None]]:
    tree = parser.parse(text)
    return [(t.type, str(t), t.start_pos) for t in tree.scan_values(lambda v: isinstance(v, Token))]


def test_the_stored_tables_parse_every_program_as_the_grammar_does() -> None:
    stored = stored_concrete_parser()
    assert stored is not None
    built = build_concrete_parser()
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            expected = built.parse(text)
        except UnexpectedInput:
            with pytest.raises(UnexpectedInput):
                stored.parse(text)
            continue
        assert stored.parse(text) == expected, path
        assert _tokens(stored, text) == _tokens(built, text), path


def test_tables_round_trip_through_json_text() -> None:
    text = tables_text(build_concrete_parser(), grammar_text())
    loaded = load_tables(text, grammar_text())
    assert loaded is not None
    program = 'f = fn(a) -> a + 1;\nx = tokens == "a" if indices < 2 else {1, 2};  # c\noutput x;'
    assert loaded.parse(program) == build_concrete_parser().parse(program)


def test_tables_of_another_grammar_or_damaged_ones_are_ignored() -> None:
    text = tables_text(build_concrete_parser(), grammar_text())
    assert load_tables(text, grammar_text() + "\n// edited\n") is None
    assert load_tables(text[: len(text) // 2], grammar_text()) is None
    assert load_tables("[]", grammar_text()) is None


def test_the_concrete_parser_builds_in_strict_mode_too() -> None:
    """It is built without ``strict`` (faster); strict, any grammar conflict would fail."""
    Lark(grammar_text(), strict=True, **CONCRETE_OPTIONS)
