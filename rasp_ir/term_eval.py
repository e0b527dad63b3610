"""An expression-language term and parameter values in, its value out (or :class:`ExprError`);
constant folding on top. Exact arithmetic, strict types, no Python ``eval``."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from fractions import Fraction

from rasp_ir.terms import (
    Binary,
    Call,
    Const,
    Expr,
    IfElse,
    Lookup,
    Member,
    Param,
    Unary,
    free_params,
    map_children,
)
from rasp_ir.values import Value, describe_value, is_number, normalize_number, value_key

ORDERING = ("<", "<=", ">", ">=")
EQUALITY = ("==", "!=")
LOGICAL = ("and", "or")


class ExprError(Exception):
    """An expression cannot be evaluated on these inputs (wrong types, division by zero)."""


def evaluate(expr: Expr, env: Mapping[str, Value]) -> Value:
    """The value of ``expr`` with lambda parameters bound by ``env``."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Param):
        return env[expr.name]
    if isinstance(expr, Unary):
        return _unary(expr.op, evaluate(expr.operand, env))
    if isinstance(expr, Binary):
        return _binary(expr, env)
    if isinstance(expr, IfElse):
        cond = evaluate(expr.cond, env)
        if not isinstance(cond, bool):
            raise ExprError(f"condition of 'if' must be a boolean, got {describe_value(cond)}")
        return evaluate(expr.then if cond else expr.orelse, env)
    if isinstance(expr, Member):
        element = evaluate(expr.element, env)
        found = any(_equal(element, option) for option in expr.options)
        return found != expr.negated
    if isinstance(expr, Lookup):
        key = tuple(value_key(evaluate(k, env)) for k in expr.keys)
        table = _lookup_index(expr)
        return table[key] if key in table else evaluate(expr.default, env)
    return _call(expr, env)


_LOOKUP_INDEXES: dict[int, dict[tuple[object, ...], Value]] = {}


def _lookup_index(expr: Lookup) -> dict[tuple[object, ...], Value]:
    """The entries of a table keyed by :func:`value_key` tuples, built once per table object
    (lifted MLPs have tens of thousands of entries; scanning them per lookup is too slow)."""
    index = _LOOKUP_INDEXES.get(id(expr))
    if index is None:
        index = {tuple(value_key(v) for v in key): result for key, result in expr.entries}
        _LOOKUP_INDEXES[id(expr)] = index
        weakref.finalize(expr, _LOOKUP_INDEXES.pop, id(expr), None)
    return index


def _unary(op: str, value: Value) -> Value:
    if op == "not":
        if not isinstance(value, bool):
            raise ExprError(f"'not' needs a boolean, got {describe_value(value)}")
        return not value
    number = _as_number(value, "-")
    return normalize_number(-number)


def _binary(expr: Binary, env: Mapping[str, Value]) -> Value:
    op = expr.op
    left = evaluate(expr.left, env)
    if op in LOGICAL:
        if not isinstance(left, bool):
            raise ExprError(f"'{op}' needs booleans, got {describe_value(left)}")
        if (op == "and" and not left) or (op == "or" and left):
            return left
        right = evaluate(expr.right, env)
        if not isinstance(right, bool):
            raise ExprError(f"'{op}' needs booleans, got {describe_value(right)}")
        return right
    right = evaluate(expr.right, env)
    if op in EQUALITY:
        return _equal(left, right) == (op == "==")
    if op in ORDERING:
        return _order(op, left, right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    return _arithmetic(op, _as_number(left, op), _as_number(right, op))


def _equal(a: Value, b: Value) -> bool:
    if is_number(a) and is_number(b):
        return a == b
    return value_key(a) == value_key(b)


def _order(op: str, left: Value, right: Value) -> bool:
    both_numbers = _numeric(left) and _numeric(right)
    both_strings = isinstance(left, str) and isinstance(right, str)
    if not (both_numbers or both_strings):
        raise ExprError(f"cannot compare {describe_value(left)} {op} {describe_value(right)}")
    a, b = (left, right) if both_strings else (_as_number(left, op), _as_number(right, op))
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def _numeric(v: Value) -> bool:
    return isinstance(v, (int, Fraction))


def _as_number(v: Value, op: str) -> int | Fraction:
    if not isinstance(v, (int, Fraction)):
        raise ExprError(f"'{op}' needs numbers, got {describe_value(v)}")
    return int(v) if isinstance(v, bool) else v


def _arithmetic(op: str, a: int | Fraction, b: int | Fraction) -> Value:
    if op == "+":
        return normalize_number(a + b)
    if op == "-":
        return normalize_number(a - b)
    if op == "*":
        return normalize_number(a * b)
    if b == 0:
        raise ExprError(f"division by zero in {describe_value(a)} {op} 0")
    if op == "/":
        return normalize_number(Fraction(a) / b)
    return normalize_number(a % b)


def _call(expr: Call, env: Mapping[str, Value]) -> Value:
    args = [evaluate(a, env) for a in expr.args]
    if expr.func in ("min", "max"):
        if len(args) < 2:
            raise ExprError(f"{expr.func} needs at least two arguments")
        chosen = args[0]
        for other in args[1:]:
            other_is_smaller = _order("<", other, chosen)
            if other_is_smaller == (expr.func == "min") and not _equal(other, chosen):
                chosen = other
        return normalize_number(chosen) if isinstance(chosen, (int, Fraction)) else chosen
    if expr.func == "argmax":
        if not args:
            raise ExprError("argmax needs at least one argument")
        numbers = [_as_number(a, "argmax") for a in args]
        best = max(numbers)
        return numbers.index(best)
    if len(args) != 1:
        raise ExprError(f"{expr.func} takes one argument, got {len(args)}")
    number = _as_number(args[0], expr.func)
    if expr.func == "abs":
        return normalize_number(-number if number < 0 else number)
    if expr.func == "round":
        return round(number)
    raise ExprError(f"unknown function {expr.func!r}")


def fold_constants(expr: Expr) -> Expr:
    """``expr`` with every parameter-free subterm replaced by its value (when it has one)."""
    if isinstance(expr, (Const, Param)):
        return expr
    folded = map_children(expr, fold_constants)
    if free_params(folded):
        return folded
    try:
        return Const(evaluate(folded, {}))
    except ExprError:
        return folded
