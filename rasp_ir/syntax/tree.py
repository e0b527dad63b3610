"""Source text in, Lark parse tree out; syntax errors become diagnostics with a location.

The grammar lives in ``grammar/rasp.lark`` (LALR, strict). This module only parses: the tree
becomes an AST in :mod:`rasp_ir.syntax.build_ast`, names and sugar are resolved in
:mod:`rasp_ir.syntax.resolve`.
"""

from __future__ import annotations

from functools import cache, lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from rasp_ir.diagnostics import Diagnostic, RaspError, Span
from rasp_ir.grammar import keyword_terminals
from rasp_ir.syntax.lalr import ConcreteParse, FastLalr
from rasp_ir.syntax.parser_tables import (
    build_concrete_parser,
    build_ir_parser,
    stored_concrete_parser,
    stored_ir_parser,
)

ParseTree = Tree[Token]

_FRIENDLY = {
    "SEMICOLON": "';'",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "EQUAL": "'='",
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "MINUS": "'-'",
    "$END": "end of file",
}


@cache
def grammar_parser() -> Lark:
    """The LALR parser of ``grammar/rasp.lark`` (strict: grammar conflicts are errors), made
    once: loaded from its stored tables (:mod:`rasp_ir.syntax.parser_tables`) when they match
    the grammar, else built from the grammar."""
    return stored_ir_parser() or build_ir_parser()


@cache
def concrete_parser() -> Lark:
    """The same parser keeping every token (brackets, keywords, ``;``): a concrete syntax tree
    for the formatter, built once. Its nodes carry no positions (their tokens do), which
    saves a third of the parse. Loaded from its stored tables
    (:mod:`rasp_ir.syntax.parser_tables`) when they match the grammar, else built from the
    grammar, not strict (:func:`grammar_parser` builds the same grammar strict, the tests this
    one)."""
    return stored_concrete_parser() or build_concrete_parser()


@cache
def fast_concrete_parser() -> FastLalr:
    """:func:`concrete_parser`'s tables in a faster loop (same tokens, same tree), built once."""
    return FastLalr(concrete_parser())


def as_tree(item: ParseTree | Token) -> ParseTree:
    """``item`` as a tree node (the grammar guarantees it)."""
    assert isinstance(item, Tree), item
    return item


def as_token(item: ParseTree | Token) -> Token:
    """``item`` as a token (the grammar guarantees it)."""
    assert isinstance(item, Token), item
    return item


def source_line(text: str, line: int) -> str:
    """Line ``line`` (1-based) of ``text``, or '' past the end."""
    lines = _lines(text)
    return lines[line - 1] if 0 < line <= len(lines) else ""


@lru_cache(maxsize=4)
def _lines(text: str) -> tuple[str, ...]:
    """The lines of ``text``, split once per text: every span of a file asks for one."""
    return tuple(text.splitlines())


def span_of(item: ParseTree | Token, text: str, file: str) -> Span:
    """The span of a parse-tree node or token."""
    if isinstance(item, Tree):
        return meta_span(item.meta, text, file)
    line, column = item.line or 1, item.column or 1
    end_line, end_column = item.end_line or line, item.end_column or column + 1
    return Span(file, line, column, end_line, end_column, source_line(text, line))


def meta_span(meta: Meta, text: str, file: str) -> Span:
    """The span a parse-tree node's positions describe (1:1 for a node without tokens)."""
    if getattr(meta, "empty", True):
        return Span(file, 1, 1, 1, 1, source_line(text, 1))
    line, column = meta.line, meta.column
    return Span(file, line, column, meta.end_line, meta.end_column, source_line(text, line))


def parse_tree(text: str, file: str) -> ParseTree:
    """The parse tree of ``text``; a :class:`RaspError` (code ``syntax``) on bad syntax."""
    return _parse(grammar_parser(), text, file)


def parse_concrete_tree(text: str, file: str) -> ParseTree:
    """The concrete syntax tree of ``text`` (every token kept, comments aside); the same
    :class:`RaspError` as :func:`parse_tree` on bad syntax."""
    return parse_concrete(text, file).tree


def parse_concrete(text: str, file: str) -> ConcreteParse:
    """The concrete syntax tree of ``text``, its tokens and the lexer states they were read
    in; the same :class:`RaspError` as :func:`parse_tree` on bad syntax (the fast loop only
    parses: Lark, run again, says what is wrong)."""
    parsed = fast_concrete_parser().parse(text)
    if parsed is not None:
        return parsed
    _parse(concrete_parser(), text, file)
    raise AssertionError(f"{file}: Lark parses what the fast LALR loop rejected (a bug)")


def _parse(parser: Lark, text: str, file: str) -> ParseTree:
    try:
        return parser.parse(text)
    except UnexpectedInput as error:
        raise RaspError([_syntax_diagnostic(error, text, file)]) from None


def _syntax_diagnostic(error: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        span = Span(
            file,
            error.line,
            error.column,
            error.line,
            error.column + 1,
            source_line(text, error.line),
        )
        hint = "strings use double quotes" if char == "'" else "remove or replace it"
        return Diagnostic("syntax", f"unexpected character {char!r}", span, hint)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text, file)
    assert isinstance(error, UnexpectedEOF)
    lines = text.splitlines() or [""]
    span = Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2, lines[-1])
    return Diagnostic("syntax", "unexpected end of file", span, "the last statement is unfinished")


def _unexpected_token(error: UnexpectedToken, text: str, file: str) -> Diagnostic:
    token = error.token
    accepted = _accepted(error)
    previous = _previous_token(error)
    if "SEMICOLON" in accepted and previous is not None and _on_earlier_line(previous, token):
        line, column = previous.end_line or 1, previous.end_column or 1
        span = Span(file, line, column, line, column + 1, source_line(text, line))
        return Diagnostic("syntax", "missing ';'", span, "end each statement with ';'")
    if token.type == "$END":
        lines = text.splitlines() or [""]
        span = Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2, lines[-1])
        expected = _describe_expected(accepted)
        return Diagnostic("syntax", "unexpected end of file", span, f"expected {expected}")
    span = span_of(token, text, file)
    message = f"unexpected {_describe_token(token)}"
    if token.type == "COMPARE" and "COMPARE" not in accepted and previous is not None:
        hint = "comparisons do not chain: write 'a < b and b < c'"
    else:
        hint = f"expected {_describe_expected(accepted)}"
    return Diagnostic("syntax", message, span, hint)


def _accepted(error: UnexpectedToken) -> set[str]:
    interactive = error.interactive_parser
    if interactive is not None:
        try:
            return set(interactive.accepts())  # type: ignore[no-untyped-call]
        except UnexpectedInput:
            pass
    return set(error.expected)


def _previous_token(error: UnexpectedToken) -> Token | None:
    interactive = error.interactive_parser
    if interactive is None:
        return None
    stack = interactive.parser_state.value_stack
    for item in reversed(stack):
        last = _last_token(item)
        if last is not None:
            return last
    return None


def _last_token(item: ParseTree | Token) -> Token | None:
    if isinstance(item, Token):
        return item
    for child in reversed(item.children):
        found = _last_token(child)
        if found is not None:
            return found
    if not getattr(item.meta, "empty", True):
        return Token("NODE", "", end_line=item.meta.end_line, end_column=item.meta.end_column)
    return None


def _on_earlier_line(previous: Token, token: Token) -> bool:
    return token.type == "$END" or (previous.end_line or 0) < (token.line or 0)


def _describe_token(token: Token) -> str:
    if token.type in ("NAME", "INT", "DECIMAL", "STRING"):
        return f"{_FRIENDLY[token.type]} {str(token)!r}"
    return repr(str(token))


def _describe_expected(accepted: set[str]) -> str:
    names = sorted({_terminal_name(t) for t in accepted})
    if len(names) > 8:
        names = [*names[:8], "..."]
    return ", ".join(names) if names else "nothing more"


def _terminal_name(terminal: str) -> str:
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    if terminal in keyword_terminals():
        return " or ".join(f"'{word}'" for word in keyword_terminals()[terminal])
    try:
        pattern = grammar_parser().get_terminal(terminal).pattern.value
    except KeyError:
        return terminal.lower()
    return f"'{pattern}'"
