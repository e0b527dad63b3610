"""The formatter: golden files (messy in, canonical out) for every construct; on every example
and on random programs with their layout messed up: idempotent, comments kept in order, the
same IR; syntax errors and refusals."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import grammar_text
from rasp_ir.ir import Program
from rasp_ir.printer import format_program
from rasp_ir.syntax import formatter, parse_program
from rasp_ir.syntax.formatter import format_source
from rasp_ir.syntax.tree import ParseTree, parse_concrete, parse_concrete_tree
from rasp_ir.syntax.trivia import collect_trivia
from tests.strategies import programs

ROOT = Path(__file__).parents[3]
GOLDEN = Path(__file__).parent / "formatter"
CASES = sorted(path.stem for path in GOLDEN.glob("*.messy"))
EXAMPLES = sorted((ROOT / "examples").glob("*.rasp"))


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    messy = (GOLDEN / f"{case}.messy").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{case}.rasp").read_text(encoding="utf-8")
    assert format_source(messy) == expected
    assert format_source(expected) == expected


def _node_kinds(tree: ParseTree) -> set[str]:
    return {str(node.data) for node in tree.iter_subtrees()}


def test_the_golden_files_cover_every_construct_of_the_grammar() -> None:
    grammar = grammar_text()
    rules = set(re.findall(r"^([a-z_]+):", grammar, re.MULTILINE))
    aliases = set(re.findall(r"-> (\w+)", grammar))
    # every alternative of literal has an alias; atom (a ?-rule) stays for "( expr )"
    constructs = (rules - {"literal"}) | aliases | {"atom"}
    seen: set[str] = set()
    for case in CASES:
        text = (GOLDEN / f"{case}.messy").read_text(encoding="utf-8")
        seen |= _node_kinds(parse_concrete_tree(text, case))
    assert constructs - seen == set()


def _comments(text: str) -> list[str]:
    return collect_trivia(text, parse_concrete(text, "<test>").tokens).comment_texts()


def _relayout(text: str, rng: random.Random, separators: list[str]) -> str:
    """``text`` with the layout between its tokens replaced by random ``separators``, except
    where comments or blank lines sit (those gaps stay as they are)."""
    tokens = parse_concrete(text, "<test>").tokens
    pieces: list[str] = []
    previous_end = 0
    for token in tokens:
        start = token.start_pos or 0
        gap = text[previous_end:start]
        keep = "#" in gap or "\n\n" in gap or not pieces
        pieces.append(gap if keep else rng.choice(separators))
        pieces.append(str(token))
        previous_end = token.end_pos or 0
    pieces.append(text[previous_end:])
    return "".join(pieces)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_with_its_layout_messed_up_formats_back_to_itself(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    messy = _relayout(text, random.Random(path.stem), [" ", "\n", "   ", "\n\t", " \n  "])
    assert messy != text
    formatted = format_source(messy)
    assert formatted == text
    assert _comments(formatted) == _comments(text)
    assert parse_program(formatted, str(path)) == parse_program(text, str(path))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), rng=st.randoms(use_true_random=False))
def test_random_programs_with_messy_layout_and_comments(
    program: Program, rng: random.Random
) -> None:
    printed = format_program(program)
    notes = iter(range(10**6))
    separators = [" ", "\n", "\t  ", "\n\n\n  ", " ", "  # note\n", "\n# own line\n  "]
    messy = _relayout(printed, rng, separators)
    messy = re.sub("note|own line", lambda m: f"{m.group()} {next(notes)}", messy)
    formatted = format_source(messy)
    assert format_source(formatted) == formatted
    assert _comments(formatted) == _comments(messy)
    assert parse_program(formatted) == program


def test_line_width() -> None:
    text = (GOLDEN / "long_lines.rasp").read_text(encoding="utf-8")
    narrow = format_source(text, line_width=60)
    assert narrow != text
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert format_source(narrow, line_width=60) == narrow
    assert format_source(narrow) == text


def test_blank_lines_collapse_to_one_and_leave_the_ends() -> None:
    text = "\n\n\n# top\n\n\n\nx = tokens;\n\n\n\noutput x;\n\n\n"
    assert format_source(text) == "# top\n\nx = tokens;\n\noutput x;\n"


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("  \n\n") == ""
    assert format_source("#   a note   \n\n\n# another\n") == "#   a note\n\n# another\n"


def test_windows_line_endings_become_newlines() -> None:
    text = '%vocab chars "ab"\r\n%max_len 4\r\n\r\nx = tokens;  # note\r\noutput x;\r\n'
    assert (
        format_source(text) == '%vocab chars "ab"\n%max_len 4\n\nx = tokens;  # note\noutput x;\n'
    )


def test_a_syntax_error_is_a_located_diagnostic() -> None:
    with pytest.raises(RaspError) as caught:
        format_source("x = tokens\noutput x;\n", path="bad.rasp")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "syntax"
    assert diagnostic.message == "missing ';'"
    assert diagnostic.span is not None
    assert diagnostic.span.location() == "bad.rasp:1:11"


def test_a_layout_that_would_change_the_program_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = formatter._Formatter.file

    def drops_a_comment(self: formatter._Formatter, tree: ParseTree) -> str:
        return original(self, tree).replace("  # note", "")

    def changes_a_token(self: formatter._Formatter, tree: ParseTree) -> str:
        return original(self, tree).replace("tokens", "indices")

    def glues_two_tokens(self: formatter._Formatter, tree: ParseTree) -> str:
        return original(self, tree).replace("output x", "outputx")

    def moves_a_comment_into_a_string(self: formatter._Formatter, tree: ParseTree) -> str:
        return original(self, tree).replace('"a";  # note', '"a  # note";')

    text = 'x = tokens == "a";  # note\noutput x;\n'
    for broken in (
        drops_a_comment,
        changes_a_token,
        glues_two_tokens,
        moves_a_comment_into_a_string,
    ):
        monkeypatch.setattr(formatter._Formatter, "file", broken)
        with pytest.raises(RaspError) as caught:
            format_source(text, path="prog.rasp")
        (diagnostic,) = caught.value.diagnostics
        assert diagnostic.code == "format"
        assert diagnostic.message.startswith("prog.rasp: the formatted text would not mean")


def test_a_long_operator_chain_breaks_one_operand_per_line() -> None:
    text = "x : num = " + " + ".join(["indices"] * 1200) + ";\noutput x;\n"
    lines = format_source(text).splitlines()
    assert lines[0] == "x : num = indices"
    assert lines[1:1200] == ["    + indices"] * 1198 + ["    + indices;"]
    assert lines[1200] == "output x;"


def test_a_hash_inside_a_string_is_not_a_comment() -> None:
    text = 'x = tokens == "#a" ;   # a real one\noutput x;\n'
    formatted = format_source(text)
    assert formatted == 'x = tokens == "#a";  # a real one\noutput x;\n'
    assert _comments(formatted) == ["# a real one"]
