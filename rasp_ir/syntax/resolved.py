"""AST literals in, values out; and what an AST expression resolves to before it becomes IR.

An expression is an s-op or selector (by name), a constant, a function, a bare comparison
operator, or a set, table or tuple literal; which one decides how its context uses it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from rasp_ir import ir
from rasp_ir.limits import MAX_NUMBER_DIGITS, MAX_VOCAB
from rasp_ir.syntax import ast
from rasp_ir.values import Value, describe_value, value_key


@dataclass(frozen=True)
class SOpRef:
    name: str


@dataclass(frozen=True)
class SelRef:
    name: str


@dataclass(frozen=True)
class ConstVal:
    value: Value


@dataclass(frozen=True)
class FnVal:
    fn: ir.Lambda


@dataclass(frozen=True)
class OpVal:
    op: str


@dataclass(frozen=True)
class SetVal:
    values: tuple[Value, ...]


@dataclass(frozen=True)
class TableVal:
    entries: tuple[tuple[tuple[Value, ...], Value], ...]


@dataclass(frozen=True)
class TupleVal:
    values: tuple[Value, ...]


Resolved = SOpRef | SelRef | ConstVal | FnVal | OpVal | SetVal | TableVal | TupleVal
Scope = MutableMapping[str, Resolved]
"""What the names of one file (or one macro expansion) stand for."""


class LiteralTooLarge(ValueError):
    """A number literal beyond :data:`MAX_NUMBER_DIGITS`."""


def bounded_int(text: str, limit: int) -> int | None:
    """The non-negative integer ``text``, or None when it exceeds ``limit`` (checked on the
    digits first, so a thousand-digit number is never converted)."""
    if len(text.lstrip("0")) > len(str(limit)):
        return None
    value = int(text)
    return value if value <= limit else None


def literal_value(node: ast.Literal) -> Value:
    """The value of a literal; :class:`LiteralTooLarge` for numbers too large to handle."""
    if isinstance(node, ast.IntLit):
        if len(node.digits) > MAX_NUMBER_DIGITS:
            raise LiteralTooLarge(f"a number with {len(node.digits)} digits is too large")
        return int(node.digits)
    if isinstance(node, ast.DecimalLit):
        return _decimal_value(node.text)
    return node.value


def _decimal_value(text: str) -> Value:
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond what decimal can represent at all
        raise LiteralTooLarge(f"the number {text[:30]} is too large or too precise") from None
    digits = len(number.as_tuple().digits)
    if abs(number.adjusted()) > MAX_NUMBER_DIGITS or digits > MAX_NUMBER_DIGITS:
        raise LiteralTooLarge(f"the number {text[:30]} is too large or too precise")
    fraction = Fraction(number)
    return int(fraction) if fraction.denominator == 1 else fraction


def const_value(expr: ir.Expr) -> Value:
    """The value of a folded expression (the caller knows it is a constant)."""
    assert isinstance(expr, ir.Const)
    return expr.value


def vocabulary_problem(values: list[Value] | tuple[Value, ...]) -> str:
    """What is wrong with a vocabulary ('' if nothing): empty, repeated or mixed values."""
    if not values:
        return "the vocabulary is empty"
    if len(values) > MAX_VOCAB:
        return f"the vocabulary has {len(values):,} tokens, more than the limit of {MAX_VOCAB:,}"
    keys = [value_key(v) for v in values]
    if len(set(keys)) != len(keys):
        counts = Counter(keys)
        repeated = sorted({describe_value(v) for v in values if counts[value_key(v)] > 1})
        return f"the vocabulary lists {', '.join(repeated)} more than once"
    kinds = {_value_kind(v) for v in values}
    if None in kinds or len(kinds) > 1:
        return "the vocabulary must be all strings, all integers or all booleans"
    return ""


def _value_kind(v: Value) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "str"
    if isinstance(v, int):
        return "int"
    return None


_DESCRIPTIONS = {FnVal: "a function", SetVal: "a set", TableVal: "a table", TupleVal: "a tuple"}


def describe_resolved(value: Resolved) -> str:
    """``value`` in words, for messages."""
    if isinstance(value, SOpRef):
        return f"the s-op {value.name}"
    if isinstance(value, SelRef):
        return f"the selector {value.name}"
    if isinstance(value, ConstVal):
        return f"the constant {describe_value(value.value)}"
    if isinstance(value, OpVal):
        return f"the operator {value.op}"
    return _DESCRIPTIONS[type(value)]


POISONED = SOpRef("\0poisoned")
"""What a name stands for after its binding failed: uses are skipped without a new diagnostic."""
_MACRO = "\0macro:"


def macro_marker(name: str) -> SOpRef:
    """What the name of a ``def`` stands for in its scope (it is only callable)."""
    return SOpRef(f"{_MACRO}{name}")


def is_macro_marker(value: Resolved) -> bool:
    """Whether ``value`` is the :func:`macro_marker` of some ``def``."""
    return isinstance(value, SOpRef) and value.name.startswith(_MACRO)
