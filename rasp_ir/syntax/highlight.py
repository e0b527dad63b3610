"""RASP source text in, Pygments tokens out: the ``rasp`` lexer behind ``pygmentize -l rasp``,
Sphinx, Jupyter and the HTML report (the ``highlight`` extra: ``pip install 'rasp-ir[highlight]'``).

The keywords come from the Lark grammar (its whole-word terminals: every keyword, every
``%`` directive) and the built-ins from the resolver's tables, so the lexer cannot drift from the
language: a new keyword is highlighted as a keyword the day the grammar gets it.
"""

from __future__ import annotations

from functools import cache

from rasp_ir import ir
from rasp_ir.grammar import keyword_terminals
from rasp_ir.syntax.calls import MAP_ALIASES, SOP_BUILTINS
from rasp_ir.syntax.exprs import EXPR_BUILTINS

try:
    # Pygments ships no type hints (and types-Pygments is not a dependency)
    from pygments import highlight  # type: ignore[import-untyped]
    from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
    from pygments.lexer import RegexLexer, bygroups, words  # type: ignore[import-untyped]
    from pygments.token import (  # type: ignore[import-untyped]
        Comment,
        Keyword,
        Name,
        Number,
        Operator,
        Punctuation,
        String,
        Whitespace,
    )
except ImportError as missing:  # pragma: no cover - only without the extra
    raise ImportError(
        "RASP highlighting needs Pygments: pip install 'rasp-ir[highlight]'"
    ) from missing

__all__ = ["RaspLexer", "grammar_directives", "grammar_keywords", "highlight_html"]

CONSTANTS = frozenset({"true", "false", "none"})
ENCODINGS = frozenset({"cat", "num"})
OPERATOR_WORDS = frozenset({"and", "or", "not", "in"})
DECLARATIONS = frozenset({"def", "fn", "import", "output", "return"})
BUILTINS = (*SOP_BUILTINS, *MAP_ALIASES, *EXPR_BUILTINS)
REDUCTIONS = tuple(r for r in ir.REDUCTIONS if r not in EXPR_BUILTINS)


@cache
def grammar_keywords() -> frozenset[str]:
    """Every keyword of the grammar (``def``, ``if``, ``cat``, ``chars``, ...)."""
    return frozenset(word for word in _grammar_words() if not word.startswith("%"))


@cache
def grammar_directives() -> frozenset[str]:
    """Every header directive of the grammar (``%vocab``, ``%max_len``, ...)."""
    return frozenset(word for word in _grammar_words() if word.startswith("%"))


def _grammar_words() -> list[str]:
    """Every word the grammar's whole-word terminals spell, directives included."""
    return [word for words in keyword_terminals().values() for word in words]


def _keyword_kinds() -> list[tuple[frozenset[str], object]]:
    """The grammar's keywords sorted into Pygments token types (plain keywords last)."""
    known = grammar_keywords()
    kinds = [
        (CONSTANTS, Keyword.Constant),
        (ENCODINGS, Keyword.Type),
        (OPERATOR_WORDS, Operator.Word),
        (DECLARATIONS, Keyword.Declaration),
    ]
    sorted_kinds = [(group & known, kind) for group, kind in kinds]
    rest = known.difference(*(group for group, _ in kinds))
    return [*sorted_kinds, (rest, Keyword)]


def _keyword_rules() -> list[tuple[object, object]]:
    return [(words(sorted(group), suffix=r"\b"), kind) for group, kind in _keyword_kinds() if group]


class RaspLexer(RegexLexer):  # type: ignore[misc]
    """Pygments lexer for RASP-IR programs (``.rasp``)."""

    name = "RASP"
    aliases = ["rasp"]  # noqa: RUF012 - Pygments reads these class attributes
    filenames = ["*.rasp"]  # noqa: RUF012
    mimetypes = ["text/x-rasp"]  # noqa: RUF012

    tokens = {  # noqa: RUF012
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (words(sorted(grammar_directives()), suffix=r"\b"), Comment.Preproc),
            (r"(def)(\s+)([A-Za-z_]\w*)", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            *_keyword_rules(),
            (words(BUILTINS, suffix=r"\b"), Name.Builtin),
            (words(ir.PRIMITIVES, suffix=r"\b"), Name.Builtin.Pseudo),
            (words(REDUCTIONS, prefix=r"(?<==)", suffix=r"\b"), Name.Builtin),
            (r"[A-Za-z_]\w*", Name),
            (r"\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r'"', String.Double, "string"),
            (r"->|==|!=|<=|>=|[-+*/%<>=]", Operator),
            (r"[(){}\[\],;:]", Punctuation),
        ],
        "string": [
            (r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})', String.Escape),
            (r'[^"\\\n\r]+', String.Double),
            (r'"', String.Double, "#pop"),
        ],
    }


def highlight_html(text: str, *, inline_styles: bool = True) -> str:
    """``text`` as highlighted HTML (``<div class="highlight"><pre>...``); with inline styles
    it needs no style sheet (notebooks, reports)."""
    return str(highlight(text, RaspLexer(), HtmlFormatter(noclasses=inline_styles)))
