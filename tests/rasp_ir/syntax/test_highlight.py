"""The Pygments lexer: found by name and file name through its entry point, every program in the
repository lexes without an error token, token types are sensible, and its keywords are those
of the Lark grammar."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import (  # type: ignore[import-untyped]
    get_lexer_by_name,
    get_lexer_for_filename,
)
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import grammar_text
from rasp_ir.syntax.highlight import RaspLexer, highlight_html
from rasp_ir.syntax.tree import grammar_parser, parse_tree

ROOT = Path(__file__).parents[3]


def _parses(path: Path) -> bool:
    try:
        parse_tree(path.read_text(encoding="utf-8"), str(path))
    except RaspError:
        return False
    return True


# every program without a syntax error (a stray character there is rightly an error token)
PROGRAMS = [
    path
    for path in sorted([*ROOT.glob("examples/*.rasp"), *ROOT.glob("tests/**/*.rasp")])
    if _parses(path)
]
PYGMENTIZE = Path(sys.executable).with_name("pygmentize")


def _tokens(text: str) -> list[tuple[_TokenType, str]]:
    return [(kind, value) for kind, value in RaspLexer().get_tokens(text) if value.strip()]


def test_pygments_finds_the_lexer_by_name_and_file_name() -> None:
    assert isinstance(get_lexer_by_name("rasp"), RaspLexer)
    assert isinstance(get_lexer_for_filename("prog.rasp"), RaspLexer)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_program_lexes_without_error_tokens(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = list(RaspLexer().get_tokens(text))
    assert [value for kind, value in tokens if kind in Error] == []
    assert "".join(value for _, value in tokens) == text


def test_token_types() -> None:
    text = (
        '%vocab chars "a\\"b"  # the vocabulary\n'
        "def twice(x) { return x * 2; }\n"
        "y : num = map(fn(t) -> 1.5 if t == none and not true else 0, tokens);\n"
        "z = aggregate(select(indices, indices, <=), y, reduce=sum);\n"
        "output y;\n"
    )
    tokens = _tokens(text)
    expected = [
        ("%vocab", Comment.Preproc),
        ("chars", Keyword),
        ('\\"', String.Escape),
        ("# the vocabulary", Comment.Single),
        ("def", Keyword.Declaration),
        ("twice", Name.Function),
        ("return", Keyword.Declaration),
        ("2", Number.Integer),
        ("num", Keyword.Type),
        ("map", Name.Builtin),
        ("fn", Keyword.Declaration),
        ("->", Operator),
        ("1.5", Number.Float),
        ("if", Keyword),
        ("none", Keyword.Constant),
        ("and", Operator.Word),
        ("not", Operator.Word),
        ("tokens", Name.Builtin.Pseudo),
        ("aggregate", Name.Builtin),
        ("<=", Operator),
        ("sum", Name.Builtin),
        ("output", Keyword.Declaration),
        ("y", Name),
    ]
    for value, kind in expected:
        assert (kind, value) in tokens, value


def _grammar_words() -> set[str]:
    """Every keyword and directive the compiled Lark grammar lexes: each word the grammar
    spells in quotes that one of its terminals other than NAME reads whole (and every such
    terminal reads one)."""
    spelled = set(re.findall(r'"(%?[a-z_]+)"', grammar_text()))
    words: set[str] = set()
    for terminal in grammar_parser().terminals:
        matched = {w for w in spelled if re.fullmatch(terminal.pattern.to_regexp(), w)}
        if terminal.name != "NAME":
            words |= matched
        if terminal.priority > 1:
            assert matched, terminal.name
    return words


def test_every_keyword_of_the_grammar_is_highlighted_as_one() -> None:
    words = _grammar_words()
    assert {"%vocab", "def", "return", "if", "else", "chars", "true", "cat"} <= words
    for word in sorted(words):
        ((kind, value),) = _tokens(word)
        assert value == word
        assert kind in Keyword or kind in Operator.Word or kind in Comment.Preproc, word
    assert _tokens("definitely") == [(Name, "definitely")]


def test_highlight_html_needs_no_style_sheet() -> None:
    html = highlight_html("x = tokens;  # note\n")
    assert html.startswith('<div class="highlight"')
    assert 'style="' in html and "# note" in html


def test_pygmentize_highlights_rasp() -> None:
    if not PYGMENTIZE.exists():
        pytest.skip("pygmentize is not installed beside this Python")
    for options, comment, builtin in [
        # the README's command: the terminal, in colour
        ([], "\x1b[", "select"),
        (["-f", "html"], '<span class="c1"># reverse: the input read', '<span class="nb">select'),
    ]:
        result = subprocess.run(
            [str(PYGMENTIZE), "-l", "rasp", *options, "examples/reverse.rasp"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        assert comment in result.stdout and builtin in result.stdout
