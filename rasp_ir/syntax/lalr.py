"""A Lark LALR parser in; a faster run of the same tables out: source text to its parse tree,
its tokens and the lexer state each token was read in.

Lark's own loop spends most of its time per token in generic machinery (a lexer object per
state, line counters, a generator per parse). This module reads Lark's tables once and runs
them in one loop: per parser state, the same lexer Lark would use (the terminals the state
accepts, in Lark's order, keywords read off a name as Lark's ``UnlessCallback`` does), one
compiled pattern; the same shift/reduce table; the same tree-building callbacks. So it gives
Lark's tokens and tree exactly (tests compare them on every example and on programs generated
from the grammar). Bad input is not diagnosed here: :meth:`FastLalr.parse` answers ``None``
and the caller asks Lark, whose exceptions carry the context for a good message.

:meth:`FastLalr.reread` reads a text again, re-laid out, with the recorded lexer states and no
parser: if every token comes out the same, Lark's parser (which sees only tokens) reads the
same tree from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from lark import Lark, Token, Tree
from lark.lexer import BasicLexer, PatternStr, UnlessCallback
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

ParseTree = Tree[Token]
Callback = Callable[[list[object]], object]


class StateLexer(NamedTuple):
    """What Lark's contextual lexer reads in one parser state: ``pattern`` has one named group
    per terminal, first match wins; a terminal in ``keywords`` becomes the keyword terminal
    its text names (``{"NAME": {"def": "DEF", ...}}``)."""

    pattern: re.Pattern[str]
    keywords: dict[str, dict[str, str]]


class Reduction(NamedTuple):
    """A grammar rule to reduce by: how many values it takes, what it makes, how; a rule whose
    callback returns its only child as it is has no ``build``."""

    size: int
    origin: str
    build: Callback | None


@dataclass(frozen=True)
class ConcreteParse:
    """A parsed text: its tree, its tokens in order, and the index into
    :attr:`FastLalr.lexers` of the lexer each token was read with (one more at the end: the
    lexer that read up to the end of the text)."""

    tree: ParseTree
    tokens: list[Token]
    lexed_with: list[int]


class _Rejected(Exception):
    """The text does not parse (Lark, run again, says why)."""


@dataclass
class _Cursor:
    """How far a text has been read: the position, its line and where that line starts."""

    text: str
    position: int = 0
    line: int = 1
    line_start: int = 0


class FastLalr:
    """The tables of ``parser`` (a Lark LALR parser with its contextual lexer and no lexer
    callbacks), run in one loop."""

    def __init__(self, parser: Lark) -> None:
        frontend = parser.parser
        tables = frontend.parser.parser
        self.start = tables.parse_table.start_states["start"]
        self.end = tables.parse_table.end_states["start"]
        self.ignore = frozenset(parser.lexer_conf.ignore)
        self.newline = frozenset(
            name for lexer in _all_lexers(frontend.lexer) for name in lexer.newline_types
        )
        self.lexers: list[StateLexer] = []
        lexer_of: dict[int, int] = {}
        self.lexer_index: dict[int, int] = {}
        for state, basic in frontend.lexer.lexers.items():
            if id(basic) not in lexer_of:
                lexer_of[id(basic)] = len(self.lexers)
                self.lexers.append(_state_lexer(basic, parser.lexer_conf.g_regex_flags))
            self.lexer_index[state] = lexer_of[id(basic)]
        callbacks = tables.callbacks
        if any(isinstance(key, str) for key in callbacks):
            raise ValueError("terminal callbacks are not supported")
        rules = {str(getattr(rule, "origin").name) for rule in callbacks}  # noqa: B009
        self.actions: dict[int, dict[str, int | Reduction]] = {}
        self.gotos: dict[int, dict[str, int]] = {}
        for state, row in tables.parse_table.states.items():
            self.actions[state] = {
                str(symbol): arg if action is Shift else _reduction(arg, callbacks[arg])
                for symbol, (action, arg) in row.items()
                if symbol not in rules
            }
            self.gotos[state] = {
                str(symbol): arg for symbol, (_, arg) in row.items() if symbol in rules
            }

    def parse(self, text: str) -> ConcreteParse | None:
        """The parse of ``text``, or ``None`` if it has a syntax error (ask Lark for it)."""
        states: list[int] = [self.start]
        values: list[object] = []
        tokens: list[Token] = []
        lexed_with: list[int] = []
        cursor = _Cursor(text)
        try:
            while True:
                lexer = self.lexer_index[states[-1]]
                lexed_with.append(lexer)
                token = self._read(cursor, self.lexers[lexer])
                if token is not None:
                    tokens.append(token)
                tree = self._feed(states, values, token)
                if tree is not None:
                    return ConcreteParse(tree, tokens, lexed_with)
        except _Rejected:
            return None

    def _read(self, cursor: _Cursor, lexer: StateLexer) -> Token | None:
        """The next token at ``cursor`` (moved past it), read by ``lexer``; ``None`` at the
        end of the text."""
        text, position = cursor.text, cursor.position
        pattern, keywords = lexer
        while position < len(text):
            match = pattern.match(text, position)
            if match is None:
                raise _Rejected
            kind, value = match.lastgroup or "", match.group()
            start, line, column = position, cursor.line, position - cursor.line_start + 1
            position = match.end()
            if kind in self.newline and "\n" in value:
                cursor.line += value.count("\n")
                cursor.line_start = start + value.rindex("\n") + 1
            if kind in self.ignore:
                continue
            cursor.position = position
            kind = keywords[kind].get(value, kind) if kind in keywords else kind
            end_column = position - cursor.line_start + 1
            return Token(kind, value, start, line, column, cursor.line, end_column, position)
        cursor.position = position
        return None

    def _feed(
        self, states: list[int], values: list[object], token: Token | None
    ) -> ParseTree | None:
        """Shift ``token`` (``None``: the end of the text) after the reductions it calls for;
        the tree once the end is reached."""
        kind = "$END" if token is None else token.type
        while True:
            action = self.actions[states[-1]].get(kind)
            if action is None:
                raise _Rejected
            if isinstance(action, int):
                if token is None:
                    raise _Rejected
                states.append(action)
                values.append(token)
                return None
            size, origin, build = action
            if build is None:  # the value stays as it is, under a new state
                states[-1] = self.gotos[states[-2]][origin]
            else:
                children = values[-size:] if size else []
                if size:
                    del states[-size:]
                    del values[-size:]
                states.append(self.gotos[states[-1]][origin])
                values.append(build(children))
            if token is None and states[-1] == self.end:
                tree = values[-1]
                assert isinstance(tree, Tree)
                return tree

    def reread(
        self, text: str, tokens: Sequence[Token], lexed_with: Sequence[int]
    ) -> list[tuple[str, str]] | None:
        """What the grammar ignores in ``text`` (``(terminal, text)`` in order, comments and
        white space), if ``text`` has exactly ``tokens`` (type and text) when each is read with
        the lexer recorded for it (as :meth:`parse` records them); else ``None``.

        Enough for the parser to read the same tree from ``text``: it sees only tokens, so if
        the first ``k`` are the same it is in the same state before token ``k + 1``, that state
        picks the same lexer (the recorded one), and the lexer reads the same token; by
        induction every token and every parser step is the same."""
        lexers, ignore = self.lexers, self.ignore
        ignored: list[tuple[str, str]] = []
        position, end = 0, len(text)
        for index, lexer in enumerate(lexed_with):
            pattern, keywords = lexers[lexer]
            token: tuple[str, str] | None = None
            while position < end and token is None:
                match = pattern.match(text, position)
                if match is None:
                    return None
                position = match.end()
                piece = (match.lastgroup or "", match.group())
                if piece[0] in ignore:
                    ignored.append(piece)
                else:
                    token = piece
            if token is None:
                return ignored if index == len(tokens) else None
            kind, value = token
            if kind in keywords:
                kind = keywords[kind].get(value, kind)
            if index == len(tokens) or kind != tokens[index].type or value != tokens[index]:
                return None
        return None


def _all_lexers(contextual: object) -> list[BasicLexer]:
    lexers: dict[int, BasicLexer] = getattr(contextual, "lexers")  # noqa: B009
    return list({id(lexer): lexer for lexer in lexers.values()}.values())


def _state_lexer(lexer: BasicLexer, flags: int) -> StateLexer:
    """One compiled pattern doing what ``lexer`` (one state's lexer) does: Lark's terminals
    in Lark's order (strings a name pattern matches are left to its keyword table)."""
    scanner = lexer.scanner  # builds the keyword callbacks too
    pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in scanner.terminals)
    keywords: dict[str, dict[str, str]] = {}
    for name, callback in lexer.callback.items():
        if not isinstance(callback, UnlessCallback):
            raise ValueError(f"lexer callback on {name} is not supported")
        words = callback.scanner.terminals
        if not all(isinstance(t.pattern, PatternStr) and not t.pattern.flags for t in words):
            raise ValueError(f"keywords of {name} are not plain strings")
        keywords[name] = {t.pattern.value: t.name for t in words}
    return StateLexer(re.compile(pattern, flags), keywords)


def _reduction(rule: object, build: Callback) -> Reduction:
    size = len(getattr(rule, "expansion"))  # noqa: B009
    origin = str(getattr(rule, "origin").name)  # noqa: B009
    passes_through = size == 1 and isinstance(build, ExpandSingleChild)
    return Reduction(size, origin, None if passes_through else build)
