"""Program text in, syntax-highlighted HTML lines out, every binding name linked to its node in
the dataflow graph and every binding's line given an anchor.

Tokens come from the Pygments lexer registered as ``rasp`` (the ``highlight`` extra) when it is
installed; otherwise from a small tokenizer of our own over the same vocabulary (comments,
strings, numbers, ``%`` directives, keywords, built-ins, names, operators). Either way each
token becomes a ``<span>`` of one of the classes in :data:`CLASSES`, its text escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from rasp_ir.ir import PRIMITIVES, Program
from rasp_ir.syntax import EXPR_BUILTINS, MAP_ALIASES, SOP_BUILTINS

# CSS class of each kind of token.
CLASSES = {
    "comment": "c",
    "string": "s",
    "number": "m",
    "directive": "d",
    "keyword": "k",
    "builtin": "b",
    "name": "n",
    "operator": "o",
    "text": "t",
}
KEYWORDS = frozenset(
    {"fn", "def", "return", "import", "output", "if", "else", "and", "or", "not", "in"}
    | {"true", "false", "none", "chars", "cat", "num"}
)
BUILTINS = frozenset((*PRIMITIVES, *SOP_BUILTINS, *MAP_ALIASES, *EXPR_BUILTINS))
_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>"(?:[^"\\\n]|\\.)*"?)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<directive>%[A-Za-z_]+)
      | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
      | (?P<operator>[-+*/%<>=!]+)
      | (?P<text>\s+|.)""",
    re.VERBOSE | re.DOTALL,
)

Token = tuple[str, str]


@dataclass(frozen=True)
class SourceLine:
    """One highlighted line: its number, the bindings it defines and its HTML (a ``div``
    with ``id="line-N"``, holding an anchor ``def-NAME`` for each binding it defines)."""

    number: int
    defines: tuple[str, ...]
    html: Markup


def tokens_fallback(text: str) -> list[Token]:
    """``text`` as (kind, text) tokens, kinds being the keys of :data:`CLASSES`."""
    found: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "text"
        word = match.group()
        if kind == "word":
            kind = "keyword" if word in KEYWORDS else "builtin" if word in BUILTINS else "name"
        found.append((kind, word))
    return found


def tokens_pygments(text: str) -> list[Token] | None:
    """``text`` tokenized by the ``rasp`` Pygments lexer; None when it is not installed."""
    try:
        from pygments import token  # type: ignore[import-untyped, unused-ignore]
        from pygments.lexers import (  # type: ignore[import-untyped, unused-ignore]
            get_lexer_by_name,
        )
        from pygments.util import ClassNotFound  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        lexer = get_lexer_by_name("rasp", stripnl=False, ensurenl=False)
    except (ClassNotFound, ImportError, AttributeError):
        return None
    kinds = (
        (token.Comment.Preproc, "directive"),
        (token.Comment, "comment"),
        (token.String, "string"),
        (token.Number, "number"),
        (token.Keyword, "keyword"),
        (token.Operator.Word, "keyword"),
        (token.Name.Builtin, "builtin"),
        (token.Name, "name"),
        (token.Operator, "operator"),
    )
    found: list[Token] = []
    for kind_type, value in lexer.get_tokens(text):
        kind = next((k for t, k in kinds if kind_type in t), "text")
        found.append((kind, value))
    return found


def highlight_lines(text: str, program: Program, source: str) -> list[SourceLine]:
    """``text`` (the source of ``program``, read from ``source``) as highlighted lines."""
    tokens = tokens_pygments(text)
    if tokens is None:
        tokens = tokens_fallback(text)
    defined: dict[int, list[str]] = {}
    for binding in program.bindings:
        if binding.span is not None and binding.span.file == source:
            defined.setdefault(binding.span.line, []).append(binding.name)
    names = set(program.by_name)
    lines = _split_lines(tokens)
    return [
        _source_line(number, tuple(defined.get(number, ())), line, names)
        for number, line in enumerate(lines, start=1)
    ]


def _source_line(
    number: int, defines: tuple[str, ...], line: Sequence[Token], names: set[str]
) -> SourceLine:
    anchors = "".join(
        f'<span id="def-{escape(n)}" data-binding="{escape(n)}"></span>' for n in defines
    )
    css = "line def" if defines else "line"
    html = (
        f'<div class="{css}" id="line-{number}">{anchors}<span class="lineno">{number}</span>'
        f"{_line_html(line, names)}</div>"
    )
    return SourceLine(number, defines, Markup(html))


def _split_lines(tokens: Iterable[Token]) -> list[list[Token]]:
    """Tokens regrouped by source line (a token spanning lines is cut at each newline)."""
    lines: list[list[Token]] = [[]]
    for kind, value in tokens:
        pieces = value.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append([])
            if piece:
                lines[-1].append((kind, piece))
    if not lines[-1]:
        lines.pop()
    return lines


def _line_html(line: Sequence[Token], names: set[str]) -> str:
    parts: list[str] = []
    for kind, value in line:
        css = CLASSES.get(kind, "t")
        text = escape(value)
        if kind == "name" and value in names:
            parts.append(
                f'<a class="{css} ref" href="#node-{escape(value)}" '
                f'data-binding="{escape(value)}">{text}</a>'
            )
        else:
            parts.append(f'<span class="{css}">{text}</span>')
    return "".join(parts)
