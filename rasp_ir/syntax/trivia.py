"""Source text and its tokens in, the tokens with their comments and blank lines out: what the
grammar ignores but a formatter must keep.

A ``#`` comment runs to the end of its line, so each one is either *trailing* (after a token
on that token's line) or *own-line* (first on its line), and belongs to the token after it.
A trailing comment written before a ``,`` or ``;`` on the next line moves past it (the comma
or semicolon joins the line above), unless that token has comments of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lark import Token

_COMMENT = re.compile(r"#[^\n]*")
_JOINS_LINE_ABOVE = frozenset({"COMMA", "SEMICOLON"})


@dataclass(frozen=True)
class OwnLineComment:
    """A comment on a line of its own; ``blank_before`` if a blank line separates it from what
    comes before it."""

    text: str
    blank_before: bool


@dataclass
class Trivia:
    """The tokens of a file in order, and what sits between them.

    ``leading[i]``: the own-line comments before token ``i`` (``i == len(tokens)``: those at
    the end of the file); ``trailing[i]``: the comment after token ``i`` on its line;
    ``blank_before``: the indices of tokens with a blank line right before them (after their
    own-line comments, if any).
    """

    tokens: list[Token]
    leading: dict[int, list[OwnLineComment]] = field(default_factory=dict)
    trailing: dict[int, str] = field(default_factory=dict)
    blank_before: set[int] = field(default_factory=set)

    def comment_texts(self) -> list[str]:
        """Every comment's text, in the order they are written."""
        texts: list[str] = []
        for index in range(len(self.tokens) + 1):
            texts.extend(c.text for c in self.leading.get(index, ()))
            if index in self.trailing:
                texts.append(self.trailing[index])
        return texts


def collect_trivia(text: str, tokens: Sequence[Token]) -> Trivia:
    """``tokens`` (every token of ``text``, in order) with the comments and blank lines of
    ``text`` attached to them."""
    trivia = Trivia(list(tokens))
    previous_end = 0
    for index in range(len(tokens) + 1):
        gap_end = (tokens[index].start_pos or 0) if index < len(tokens) else len(text)
        start = previous_end
        for match in _COMMENT.finditer(text, previous_end, gap_end):
            comment = match.group().rstrip()
            between = text[start : match.start()]
            if index > 0 and "\n" not in between and start == previous_end:
                trivia.trailing[index - 1] = comment
            else:
                own_line = OwnLineComment(comment, between.count("\n") > 1)
                trivia.leading.setdefault(index, []).append(own_line)
            start = match.end()
        if index < len(tokens):
            if text.count("\n", start, gap_end) > 1:
                trivia.blank_before.add(index)
            previous_end = tokens[index].end_pos or 0
    _move_past_commas(trivia)
    return trivia


def _move_past_commas(trivia: Trivia) -> None:
    """Trailing comments written before a ``,`` or ``;`` of the next line, moved after it."""
    tokens = trivia.tokens
    for index in sorted(trivia.trailing):
        target = index
        while (
            target + 1 < len(tokens)
            and tokens[target + 1].type in _JOINS_LINE_ABOVE
            and target + 1 not in trivia.trailing
            and target + 1 not in trivia.leading
        ):
            target += 1
        if target != index:
            trivia.trailing[target] = trivia.trailing.pop(index)
