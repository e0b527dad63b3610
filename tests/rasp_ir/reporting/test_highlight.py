"""Highlighted program text: the fallback tokenizer, the Pygments lexer when it is installed,
links from names to graph nodes and anchors on defining lines."""

from __future__ import annotations

import pytest

from rasp_ir.reporting import highlight
from rasp_ir.reporting.highlight import highlight_lines, tokens_fallback, tokens_pygments
from rasp_ir.syntax import parse_program

TEXT = """\
# a comment with <b>
%vocab {"a", "<b>"}
%max_len 4
same = select(tokens, tokens, ==);
n = selector_width(same);   # counts
output n;
"""


def test_the_fallback_tokenizer_classifies_every_kind_of_token() -> None:
    kinds = {(kind, text) for kind, text in tokens_fallback(TEXT)}
    assert ("comment", "# a comment with <b>") in kinds
    assert ("directive", "%vocab") in kinds
    assert ("string", '"<b>"') in kinds
    assert ("number", "4") in kinds
    assert ("builtin", "select") in kinds and ("builtin", "tokens") in kinds
    assert ("keyword", "output") in kinds
    assert ("name", "same") in kinds
    assert ("operator", "==") in kinds
    assert "".join(text for _, text in tokens_fallback(TEXT)) == TEXT


def test_without_the_lexer_lines_are_escaped_linked_and_anchored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(highlight, "tokens_pygments", lambda text: None)
    program = parse_program(TEXT, "prog.rasp")
    lines = highlight_lines(TEXT, program, "prog.rasp")
    assert [line.number for line in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[0].html.count("&lt;b&gt;") == 1 and "<b>" not in lines[0].html
    assert lines[3].defines == ("same",)
    assert '<span id="def-same" data-binding="same"></span>' in lines[3].html
    assert '<a class="n ref" href="#node-same" data-binding="same">same</a>' in lines[4].html
    assert '<span class="k">output</span>' in lines[5].html
    assert '<span class="c"># counts</span>' in lines[4].html


def test_the_pygments_lexer_gives_the_same_text_when_installed() -> None:
    tokens = tokens_pygments(TEXT)
    if tokens is None:
        pytest.skip("no Pygments lexer named 'rasp' is installed (the highlight extra)")
    assert "".join(text for _, text in tokens) == TEXT
    assert any(kind == "comment" and "a comment with <b>" in text for kind, text in tokens)
    assert ("name", "same") in tokens
