"""The fast LALR loop gives Lark's own tokens (type, text and every position) and tree, or
rejects what Lark rejects: on every program in the repository, on programs generated from the
grammar and on mutated ones; re-reading accepts any layout of the same tokens and catches a
layout that changes one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from rasp_ir.syntax.lalr import FastLalr
from rasp_ir.syntax.parser_tables import build_ir_parser
from rasp_ir.syntax.tree import concrete_parser, fast_concrete_parser
from tests.strategies import mutated_program_text

ROOT = Path(__file__).parents[3]
EXAMPLES = sorted(ROOT.glob("examples/**/*.rasp"))
PROGRAMS = EXAMPLES + sorted(ROOT.glob("tests/**/*.rasp"))
Position = tuple[str, str, int | None, int | None, int | None, int | None, int | None, int | None]


def _positions(tokens: list[Token]) -> list[Position]:
    return [
        (t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos)
        for t in tokens
    ]


def _assert_same_as_lark(text: str) -> None:
    try:
        expected = concrete_parser().parse(text)
    except UnexpectedInput:
        assert fast_concrete_parser().parse(text) is None
        return
    parsed = fast_concrete_parser().parse(text)
    assert parsed is not None
    assert parsed.tree == expected
    lark_tokens = list(expected.scan_values(lambda value: isinstance(value, Token)))
    assert _positions(parsed.tokens) == _positions(lark_tokens)
    assert len(parsed.lexed_with) == len(parsed.tokens) + 1


def test_the_programs_in_the_repository_parse_as_lark_parses_them() -> None:
    assert len(PROGRAMS) > 30
    for path in PROGRAMS:
        _assert_same_as_lark(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment",
        "x = a iffy else c;",  # a longer name where only keywords may follow
        "x = a orange;\noutput x;",
        "x = a if b elsewhere;",
        "%causalx = 1;",
        "x = notable if in else cat;",  # names where names are accepted
        "x = cat;\ny : cat[3] = x;\r\noutput y;",
        'x = "tab\tand # hash";  # comment\n',
        "x = tokens\noutput x;",
        "x = 'a';",
        "x = (a;",
    ],
)
def test_corner_cases_parse_or_fail_as_lark_does(text: str) -> None:
    _assert_same_as_lark(text)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(build_ir_parser()))
def test_programs_generated_from_the_grammar_parse_as_lark_parses_them(text: str) -> None:
    _assert_same_as_lark(text)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(build_ir_parser()))
def test_many_programs_generated_from_the_grammar_parse_as_lark_parses_them(text: str) -> None:
    _assert_same_as_lark(text)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_programs_parse_or_fail_as_lark_does(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(PROGRAMS)).read_text(encoding="utf-8")
    _assert_same_as_lark(data.draw(mutated_program_text(source)))


def _reread(original: str, changed: str) -> list[tuple[str, str]] | None:
    parser = fast_concrete_parser()
    parsed = parser.parse(original)
    assert parsed is not None
    return parser.reread(changed, parsed.tokens, parsed.lexed_with)


def test_reread_accepts_the_same_tokens_in_any_layout_and_returns_what_it_skipped() -> None:
    original = 'x=tokens=="a";# note\noutput x;'
    relaid = 'x = tokens == "a";  # note\n\noutput   x ;\n'
    ignored = _reread(original, relaid)
    assert ignored is not None
    assert [text for kind, text in ignored if kind == "COMMENT"] == ["# note"]
    assert "".join(text for kind, text in ignored if kind == "WS") == "      \n\n    \n"


@pytest.mark.parametrize(
    "changed",
    [
        'x = tokens == "a"; outputx;',  # two tokens glued into one name
        'x = tok ens == "a"; output x;',  # a name split in two
        'x = tokens = = "a"; output x;',  # an operator split
        'x = tokens == "a" ; output x; y',  # a token added at the end
        'x = tokens == "a"; output x',  # a token dropped
        'x = tokens != "a"; output x;',  # a token changed
        'x = tokens == "a "; output x;',  # a string's text changed
        'x = tokens == "a"; output x; "',  # text that does not lex
    ],
)
def test_reread_refuses_a_layout_that_changes_a_token(changed: str) -> None:
    assert _reread('x = tokens == "a"; output x;', changed) is None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_whatever_reread_accepts_lark_parses_to_the_same_tree(path: Path) -> None:
    """The proof's soundness, tried: the gaps between tokens replaced at random, glued shut
    included; whenever re-reading accepts the result, Lark reads the same tree from it."""
    text = path.read_text(encoding="utf-8")
    parsed = fast_concrete_parser().parse(text)
    assert parsed is not None
    rng = random.Random(path.stem)
    accepted = 0
    for glue in [0.0, 0.02, 0.1, 0.5] * 5:
        pieces, previous_end = [], 0
        for token in parsed.tokens:
            gap = text[previous_end : token.start_pos]
            new_gap = "" if rng.random() < glue else rng.choice([" ", "\n", "\t "])
            pieces.append(gap if "#" in gap else new_gap)
            pieces.append(str(token))
            previous_end = token.end_pos or 0
        pieces.append(text[previous_end:])
        relaid = "".join(pieces)
        if fast_concrete_parser().reread(relaid, parsed.tokens, parsed.lexed_with) is None:
            continue
        accepted += 1
        assert concrete_parser().parse(relaid) == parsed.tree
    assert accepted > 0


def test_a_parser_with_lexer_callbacks_is_refused() -> None:
    with_callback = Lark('start: "a"+', parser="lalr", lexer_callbacks={"A": lambda t: t})
    with pytest.raises(ValueError, match="callback"):
        FastLalr(with_callback)
