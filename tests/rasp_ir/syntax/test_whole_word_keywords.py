"""Keywords and directives are whole words: a longer name that starts with one (``iffy``,
``orange``, ``index``, ``%causalx``) is read as that name or rejected with a located syntax
error, in every context where the keyword is accepted, never split into the keyword and the
rest; where only a name is accepted a keyword's word is a name, as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Token
from lark.exceptions import UnexpectedInput

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import keyword_terminals
from rasp_ir.syntax.tree import concrete_parser, parse_concrete, parse_tree

ROOT = Path(__file__).parents[3]
EXAMPLES = sorted(ROOT.glob("examples/*.rasp"))
# Every keyword in the contexts the examples lack: chars, %causal, import, not in, none, num.
SNIPPETS = [
    '%vocab chars "ab";\n%max_len 4;\n%bos "x";\n%causal;\nimport "lib.rasp";\n',
    "x: num = 1 if not a in b or c and true else none;\n",
    "x: cat {1, 2} = fn(a) -> a not in {false};\n",
    "def f(a) {\n  b = a;\n  return b;\n}\noutput x, y;\n",
]
SUFFIXES = ("fy", "_", "9")


def _keyword_occurrences(text: str) -> list[Token]:
    """The keyword tokens of ``text`` (which parses), in order."""
    keywords = keyword_terminals()
    return [token for token in parse_concrete(text, "t.rasp").tokens if token.type in keywords]


def _tokens_until_error(text: str) -> tuple[list[Token], bool]:
    """The tokens Lark's parser reads from ``text`` until the end or its first error, and
    whether it read to the end without one."""
    interactive = concrete_parser().parse_interactive(text)
    tokens: list[Token] = []
    try:
        for token in interactive.iter_parse():
            tokens.append(token)
        interactive.feed_eof()  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        return tokens, False
    return tokens, True


def _assert_read_whole(text: str, start: int, word: str) -> None:
    """``word`` at offset ``start`` of ``text`` is read whole as a name, or the text is
    rejected with a located syntax error; either way no token read starts there shorter than
    the word."""
    tokens, accepted = _tokens_until_error(text)
    at_word = [token for token in tokens if token.start_pos == start]
    assert all(str(token) == word for token in at_word), (text, at_word)
    if accepted:
        assert [(t.type, str(t)) for t in at_word] == [("NAME", word)], text
        return
    with pytest.raises(RaspError) as raised:
        parse_tree(text, "t.rasp")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "syntax" and diagnostic.span is not None, text


def test_the_corpus_has_every_keyword() -> None:
    seen = {token.type for text in SNIPPETS for token in _keyword_occurrences(text)}
    assert seen == set(keyword_terminals())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_a_longer_name_is_never_split_in_an_example(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    occurrences = _keyword_occurrences(text)
    assert occurrences, path
    for token in occurrences:
        start, end = token.start_pos or 0, token.end_pos or 0
        for suffix in SUFFIXES:
            longer = text[:end] + suffix + text[end:]
            _assert_read_whole(longer, start, str(token) + suffix)


@pytest.mark.parametrize("text", SNIPPETS)
def test_a_longer_name_is_never_split_in_any_keyword_context(text: str) -> None:
    for token in _keyword_occurrences(text):
        start, end = token.start_pos or 0, token.end_pos or 0
        for suffix in SUFFIXES:
            longer = text[:end] + suffix + text[end:]
            _assert_read_whole(longer, start, str(token) + suffix)


@pytest.mark.parametrize(
    ("text", "column", "message", "hint"),
    [
        ("y = a iffy else c;", 7, "unexpected a name 'iffy'", "'and', 'if', 'in', 'not'"),
        ("y = a if b elsewhere;", 12, "unexpected a name 'elsewhere'", "'else'"),
        ("y = a orange;", 7, "unexpected a name 'orange'", "'and', 'if', 'in', 'not'"),
        ("y = a android;", 7, "unexpected a name 'android'", "'and', 'if', 'in', 'not'"),
        ("y = a index;", 7, "unexpected a name 'index'", "'and', 'if', 'in', 'not'"),
        ("y = a in2;", 7, "unexpected a name 'in2'", "'and', 'if', 'in', 'not'"),
        ("y = a notin b;", 7, "unexpected a name 'notin'", "'and', 'if', 'in', 'not'"),
        ("y = a not inside;", 11, "unexpected a name 'inside'", "expected 'in'"),
        ("x: category = 1;", 4, "unexpected a name 'category'", "expected 'cat' or 'num'"),
        ("%causalx = 1;", 1, "unexpected '%'", "'%causal'"),
        ('%vocab characters "ab";', 8, "unexpected a name 'characters'", "'chars'"),
    ],
)
def test_a_longer_name_where_the_keyword_is_expected_is_a_located_error(
    text: str, column: int, message: str, hint: str
) -> None:
    with pytest.raises(RaspError) as raised:
        parse_tree(text, "t.rasp")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (1, column)
    assert diagnostic.message == message
    assert hint in (diagnostic.hint or "")
    assert "(?!" not in (diagnostic.hint or "")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("x = notable;", "notable"),
        ("x = trueish;", "trueish"),
        ("x = none_;", "none_"),
        ("x = fnord(1);", "fnord"),
        ("define = 1;", "define"),
        ("imported = 1;", "imported"),
        ("outputs = 1;", "outputs"),
        # only a name is accepted here, so a keyword's word is a name, as before
        ("x = if;", "if"),
        ("in = 1;", "in"),
        ("x = cat + num;", "cat"),
    ],
)
def test_a_name_where_names_are_accepted_is_read_whole(text: str, name: str) -> None:
    names = [str(token) for token in parse_concrete(text, "t.rasp").tokens if token.type == "NAME"]
    assert name in names
    assert name in str(parse_tree(text, "t.rasp"))
