"""What an expression lowers to before it becomes IR, and small helpers on parse trees.

An expression is an s-op or selector (by name), a constant, a function, a bare comparison
operator, or a set, table or tuple literal; which one decides how its context uses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from lark import Token, Tree

from rasp_ir import ir
from rasp_ir.syntax import ParseTree, as_token
from rasp_ir.values import Value, describe_value, value_key

LITERALS = ("int_", "decimal", "string", "true", "false", "none")


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


Lowered = SOpRef | SelRef | ConstVal | FnVal | OpVal | SetVal | TableVal | TupleVal


def split_arguments(
    arguments: list[ParseTree | Token],
) -> tuple[list[ParseTree | Token], dict[str, ParseTree | Token]]:
    positional: list[ParseTree | Token] = []
    keywords: dict[str, ParseTree | Token] = {}
    for argument in arguments:
        if isinstance(argument, Tree) and argument.data == "keyword":
            keywords[str(argument.children[0])] = argument.children[1]
        else:
            positional.append(argument)
    return positional, keywords


def reduction(tree: ParseTree | Token) -> Lowered:
    """The bare name given as ``reduce=`` (checked against the reductions by the caller)."""
    if isinstance(tree, Tree) and tree.data == "name":
        return OpVal(str(tree.children[0]))
    return OpVal("")


def reduction_name(value: Lowered) -> str:
    return value.op if isinstance(value, OpVal) else ""


MAX_NUMBER_DIGITS = 1000
"""Most digits (and largest decimal exponent) of a number literal: exact arithmetic on larger
ones would run out of time or memory."""


class LiteralTooLarge(ValueError):
    """A number literal beyond :data:`MAX_NUMBER_DIGITS`."""


def bounded_int(text: str, limit: int) -> int | None:
    """The non-negative integer ``text``, or None when it exceeds ``limit`` (checked on the
    digits first, so a thousand-digit number is never converted)."""
    if len(text.lstrip("0")) > len(str(limit)):
        return None
    value = int(text)
    return value if value <= limit else None


def literal(tree: ParseTree) -> Value:
    """The value of a literal tree; :class:`LiteralTooLarge` for numbers too large to handle."""
    kind = tree.data
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "none":
        return None
    token = tree.children[0]
    if kind == "int_":
        text = str(token)
        if len(text) > MAX_NUMBER_DIGITS:
            raise LiteralTooLarge(f"a number with {len(text)} digits is too large")
        return int(text)
    if kind == "decimal":
        number = Decimal(str(token))
        digits = len(number.as_tuple().digits)
        if abs(number.adjusted()) > MAX_NUMBER_DIGITS or digits > MAX_NUMBER_DIGITS:
            raise LiteralTooLarge(f"the number {str(token)[:30]} is too large or too precise")
        fraction = Fraction(number)
        return int(fraction) if fraction.denominator == 1 else fraction
    return decode_string(as_token(token))


def decode_string(token: Token) -> str:
    decoded = json.loads(str(token), strict=False)
    assert isinstance(decoded, str)
    return decoded


def const_value(expr: ir.Expr) -> Value:
    assert isinstance(expr, ir.Const)
    return expr.value


def vocabulary_problem(values: list[Value] | tuple[Value, ...]) -> str:
    """What is wrong with a vocabulary ('' if nothing): empty, repeated or mixed values."""
    if not values:
        return "the vocabulary is empty"
    keys = [value_key(v) for v in values]
    if len(set(keys)) != len(keys):
        repeated = sorted({describe_value(v) for v in values if keys.count(value_key(v)) > 1})
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


def describe_lowered(value: Lowered) -> str:
    if isinstance(value, SOpRef):
        return f"the s-op {value.name}"
    if isinstance(value, SelRef):
        return f"the selector {value.name}"
    if isinstance(value, ConstVal):
        return f"the constant {describe_value(value.value)}"
    if isinstance(value, FnVal):
        return "a function"
    if isinstance(value, OpVal):
        return f"the operator {value.op}"
    if isinstance(value, SetVal):
        return "a set"
    if isinstance(value, TableVal):
        return "a table"
    return "a tuple"
