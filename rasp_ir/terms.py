"""Expression-language terms: the frozen dataclasses of function bodies (constants, parameters,
operators, conditionals, membership, lookup tables, built-in calls) and walks over their structure.

The IR (:mod:`rasp_ir.ir`) builds its functions from these terms; evaluating them is
:mod:`rasp_ir.term_eval`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rasp_ir.values import Value, value_key


class IRError(ValueError):
    """A program value that breaks an invariant of the IR (a bug in the code building it)."""


@dataclass(frozen=True)
class Const:
    """A literal value."""

    value: Value


@dataclass(frozen=True)
class Param:
    """A reference to a lambda parameter."""

    name: str


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``not x``."""

    op: Literal["-", "not"]
    operand: Expr


@dataclass(frozen=True)
class Binary:
    """Arithmetic (``+ - * / %``), comparison (``== != < <= > >=``) or ``and``/``or``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class IfElse:
    """``then if cond else orelse``."""

    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True)
class Member:
    """``element in {options}`` (or ``not in`` when ``negated``)."""

    element: Expr
    options: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Lookup:
    """A table literal indexed by one or more keys, with a default for missing keys.

    ``lookup(x, {"a": 1, "b": 2}, default=0)`` has ``keys=(x,)`` and entries
    ``(("a",), 1), (("b",), 2)``; a two-key table is indexed by ``(a, b)``.
    """

    keys: tuple[Expr, ...]
    entries: tuple[tuple[tuple[Value, ...], Value], ...]
    default: Expr = Const(None)
    index: dict[tuple[object, ...], Value] = field(
        init=False, repr=False, compare=False, hash=False
    )
    """The entries keyed by :func:`~rasp_ir.values.value_key` tuples (so ``True`` and ``1``
    stay apart), for evaluators: tables of lifted models have tens of thousands of entries."""

    def __post_init__(self) -> None:
        index = {tuple(value_key(v) for v in key): result for key, result in self.entries}
        if len(index) != len(self.entries):
            raise IRError("a lookup table gives one key twice")
        object.__setattr__(self, "index", index)


@dataclass(frozen=True)
class Call:
    """A built-in function of the expression language: ``min``, ``max``, ``abs``, ``round``,
    ``argmax`` (the index of the first largest of its numeric arguments)."""

    func: str
    args: tuple[Expr, ...]


Expr = Const | Param | Unary | Binary | IfElse | Member | Lookup | Call


def map_children(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """``expr`` with ``fn`` applied to each direct sub-expression."""
    if isinstance(expr, Unary):
        return Unary(expr.op, fn(expr.operand))
    if isinstance(expr, Binary):
        return Binary(expr.op, fn(expr.left), fn(expr.right))
    if isinstance(expr, IfElse):
        return IfElse(fn(expr.cond), fn(expr.then), fn(expr.orelse))
    if isinstance(expr, Member):
        return Member(fn(expr.element), expr.options, expr.negated)
    if isinstance(expr, Lookup):
        return Lookup(tuple(fn(k) for k in expr.keys), expr.entries, fn(expr.default))
    if isinstance(expr, Call):
        return Call(expr.func, tuple(fn(a) for a in expr.args))
    return expr


def free_params(expr: Expr) -> set[str]:
    """The parameter names an expression reads."""
    if isinstance(expr, Param):
        return {expr.name}
    children: list[Expr] = []
    if isinstance(expr, Unary):
        children = [expr.operand]
    elif isinstance(expr, Binary):
        children = [expr.left, expr.right]
    elif isinstance(expr, IfElse):
        children = [expr.cond, expr.then, expr.orelse]
    elif isinstance(expr, Member):
        children = [expr.element]
    elif isinstance(expr, Lookup):
        children = [*expr.keys, expr.default]
    elif isinstance(expr, Call):
        children = list(expr.args)
    result: set[str] = set()
    for child in children:
        result |= free_params(child)
    return result
