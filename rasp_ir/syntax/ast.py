"""The typed AST of one source file, what :mod:`rasp_ir.syntax.build_ast` gives and
:mod:`rasp_ir.syntax.resolve` takes: frozen dataclasses with spans, one per construct of
``grammar/rasp.lark`` (directives, statements, expressions, literals, annotations).

Nothing here knows names, types or the IR. Number literals keep their digits: converting them
can fail, and that failure is a diagnostic reported in source order during resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasp_ir.diagnostics import Span

# ---------------------------------------------------------------- literals


@dataclass(frozen=True)
class IntLit:
    """An integer literal, as written."""

    digits: str
    span: Span


@dataclass(frozen=True)
class DecimalLit:
    """A decimal literal (``1.5``, ``2e3``), as written."""

    text: str
    span: Span


@dataclass(frozen=True)
class StringLit:
    """A string literal, escapes decoded."""

    value: str
    span: Span


@dataclass(frozen=True)
class KeywordLit:
    """``true``, ``false`` or ``none``."""

    value: bool | None
    span: Span


Literal = IntLit | DecimalLit | StringLit | KeywordLit
LITERALS = (IntLit, DecimalLit, StringLit, KeywordLit)

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Name:
    """A name read in an expression (or listed by ``output``)."""

    name: str
    span: Span


@dataclass(frozen=True)
class BinOp:
    """Arithmetic (``+ - * / %``) or a comparison (``== != < <= > >=``)."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Logic:
    """``left and right`` or ``left or right``."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Expr
    span: Span


@dataclass(frozen=True)
class Neg:
    """``-operand``."""

    operand: Expr
    span: Span


@dataclass(frozen=True)
class IfElse:
    """``then if cond else orelse``."""

    then: Expr
    cond: Expr
    orelse: Expr
    span: Span


@dataclass(frozen=True)
class Member:
    """``element in options`` (``not in`` when ``negated``)."""

    element: Expr
    options: Expr
    negated: bool
    span: Span


@dataclass(frozen=True)
class OperatorArg:
    """A bare comparison operator given as a call argument: ``select(k, q, <)``."""

    op: str
    span: Span


@dataclass(frozen=True)
class Keyword:
    """A keyword argument ``name=value``."""

    name: str
    value: Expr


@dataclass(frozen=True)
class Call:
    """``name(positional..., keyword=...)``; keywords keep their source order."""

    name: str
    name_span: Span
    positional: tuple[Argument, ...]
    keywords: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class FnLit:
    """``fn(params) -> body``."""

    params: tuple[str, ...]
    body: Expr
    span: Span


@dataclass(frozen=True)
class SetLit:
    """``{a, b, ...}`` (also the empty ``{}``)."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class TupleLit:
    """``(a, b, ...)``."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Entry:
    """``key: value`` in a table literal."""

    key: Expr
    value: Expr


@dataclass(frozen=True)
class TableLit:
    """``{key: value, ...}``."""

    entries: tuple[Entry, ...]
    span: Span


Expr = (
    Literal
    | Name
    | BinOp
    | Logic
    | Not
    | Neg
    | IfElse
    | Member
    | Call
    | FnLit
    | SetLit
    | TupleLit
    | TableLit
)
Argument = Expr | OperatorArg

# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class DomainSize:
    """``[N]`` in ``cat[N]``: the values 0..N-1, N as written."""

    digits: str
    span: Span


@dataclass(frozen=True)
class Annotation:
    """``: cat``, ``: num``, with an optional domain ``{...}`` or ``[N]``."""

    encoding: str
    domain: SetLit | DomainSize | None
    span: Span


@dataclass(frozen=True)
class Binding:
    """``name (: annotation)? = value;``; ``name_span`` is the name's, ``span`` the statement's."""

    name: str
    name_span: Span
    annotation: Annotation | None
    value: Expr
    span: Span


@dataclass(frozen=True)
class Def:
    """``def name(params) { bindings... return result; }``: a macro expanded at each call."""

    name: str
    name_span: Span
    params: tuple[str, ...]
    body: tuple[Binding, ...]
    result: Expr


@dataclass(frozen=True)
class Import:
    """``import "path";``; ``span`` is the path string's."""

    path: str
    span: Span


@dataclass(frozen=True)
class Output:
    """``output a, b;``."""

    names: tuple[Name, ...]


Statement = Binding | Def | Import | Output

# ---------------------------------------------------------------- header


@dataclass(frozen=True)
class VocabDirective:
    """``%vocab {...}`` (``values``) or ``%vocab chars "..."`` (``chars``)."""

    values: tuple[Expr, ...]
    chars: str | None
    span: Span


@dataclass(frozen=True)
class MaxLenDirective:
    """``%max_len N``, N as written."""

    digits: str
    span: Span


@dataclass(frozen=True)
class BosDirective:
    """``%bos literal``."""

    value: Literal
    span: Span


@dataclass(frozen=True)
class CausalDirective:
    """``%causal``."""

    span: Span


Directive = VocabDirective | MaxLenDirective | BosDirective | CausalDirective
DIRECTIVES = (VocabDirective, MaxLenDirective, BosDirective, CausalDirective)


@dataclass(frozen=True)
class Module:
    """One source file: its header directives, then its statements."""

    directives: tuple[Directive, ...]
    statements: tuple[Statement, ...]
