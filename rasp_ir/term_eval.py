"""An expression-language term and parameter values in, its value out (or :class:`ExprError`);
constant folding on top. Exact arithmetic, strict types, no Python ``eval``: a term is compiled
once into nested closures over its own parts (:func:`compile_term`), which then run on every
combination of values it is applied to."""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from rasp_ir.terms import (
    Binary,
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
_ORDER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# Numbers that order as themselves (``bool`` is ordered as 0/1 by :func:`_order`).
_PLAIN_NUMBERS = (int, Fraction)


class ExprError(Exception):
    """An expression cannot be evaluated on these inputs (wrong types, division by zero)."""


def evaluate(expr: Expr, env: Mapping[str, Value]) -> Value:
    """The value of ``expr`` with lambda parameters bound by ``env``."""
    return compile_term(expr)(env)


Compiled = Callable[[Mapping[str, Value]], Value]


def compile_term(expr: Expr) -> Compiled:
    """``expr`` as a Python closure from parameter values to its value, with the same meaning
    and errors as :func:`evaluate`: the term's structure is walked once here, not at every call
    (functions are applied to every combination of their inputs' values). Built from closures
    over the term's own parts; no source text is generated or executed."""
    if isinstance(expr, Const):
        value = expr.value
        return lambda env: value
    if isinstance(expr, Param):
        name = expr.name
        return lambda env: env[name]
    if isinstance(expr, Unary):
        return _compile_unary(expr.op, compile_term(expr.operand))
    if isinstance(expr, Binary):
        return _compile_binary(expr.op, compile_term(expr.left), compile_term(expr.right))
    if isinstance(expr, IfElse):
        return _compile_if_else(
            compile_term(expr.cond), compile_term(expr.then), compile_term(expr.orelse)
        )
    if isinstance(expr, Member):
        return _compile_member(compile_term(expr.element), expr.options, expr.negated)
    if isinstance(expr, Lookup):
        return _compile_lookup(expr)
    return _compile_call(expr.func, tuple(compile_term(a) for a in expr.args))


_COMPILED: dict[int, Compiled] = {}


def compiled_once(expr: Expr) -> Compiled:
    """:func:`compile_term` of ``expr``, kept while ``expr`` lives: for a term applied many
    times (a function body over every combination of its inputs' values)."""
    found = _COMPILED.get(id(expr))
    if found is None:
        found = compile_term(expr)
        _COMPILED[id(expr)] = found
        weakref.finalize(expr, _COMPILED.pop, id(expr), None)
    return found


def _compile_unary(op: str, operand: Compiled) -> Compiled:
    return lambda env: _unary(op, operand(env))


def _compile_if_else(cond: Compiled, then: Compiled, orelse: Compiled) -> Compiled:
    def run(env: Mapping[str, Value]) -> Value:
        chosen = cond(env)
        if not isinstance(chosen, bool):
            raise ExprError(f"condition of 'if' must be a boolean, got {describe_value(chosen)}")
        return then(env) if chosen else orelse(env)

    return run


def _compile_member(element: Compiled, options: tuple[Value, ...], negated: bool) -> Compiled:
    def run(env: Mapping[str, Value]) -> Value:
        found = element(env)
        return any(_equal(found, option) for option in options) != negated

    return run


def _compile_lookup(expr: Lookup) -> Compiled:
    keys = tuple(compile_term(k) for k in expr.keys)
    default = compile_term(expr.default)
    table = expr.index

    def run(env: Mapping[str, Value]) -> Value:
        key = tuple(value_key(k(env)) for k in keys)
        return table[key] if key in table else default(env)

    return run


def _compile_binary(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op in LOGICAL:
        return _compile_logical(op, left, right)
    if op in EQUALITY:
        equal = op == "=="
        return lambda env: _equal(left(env), right(env)) == equal
    if op in ORDERING:
        return _compile_order(op, left, right)

    def run(env: Mapping[str, Value]) -> Value:
        a, b = left(env), right(env)
        if op == "+" and isinstance(a, str) and isinstance(b, str):
            return a + b
        return _arithmetic(op, _as_number(a, op), _as_number(b, op))

    return run


def _compile_order(op: str, left: Compiled, right: Compiled) -> Compiled:
    compare = _ORDER_OPERATORS[op]

    def run(env: Mapping[str, Value]) -> Value:
        a, b = left(env), right(env)
        if type(a) in _PLAIN_NUMBERS and type(b) in _PLAIN_NUMBERS:
            return compare(a, b)
        return _order(op, a, b)

    return run


def _compile_logical(op: str, left: Compiled, right: Compiled) -> Compiled:
    decided_by = op == "or"

    def run(env: Mapping[str, Value]) -> Value:
        first = left(env)
        if not isinstance(first, bool):
            raise ExprError(f"'{op}' needs booleans, got {describe_value(first)}")
        if first == decided_by:
            return first
        second = right(env)
        if not isinstance(second, bool):
            raise ExprError(f"'{op}' needs booleans, got {describe_value(second)}")
        return second

    return run


def _compile_call(func: str, args: tuple[Compiled, ...]) -> Compiled:
    return lambda env: _call(func, [a(env) for a in args])


def _unary(op: str, value: Value) -> Value:
    if op == "not":
        if not isinstance(value, bool):
            raise ExprError(f"'not' needs a boolean, got {describe_value(value)}")
        return not value
    number = _as_number(value, "-")
    return normalize_number(-number)


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
    return _ORDER_OPERATORS[op](a, b)


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


def _call(func: str, args: list[Value]) -> Value:
    if func in ("min", "max"):
        if len(args) < 2:
            raise ExprError(f"{func} needs at least two arguments")
        chosen = args[0]
        for other in args[1:]:
            other_is_smaller = _order("<", other, chosen)
            if other_is_smaller == (func == "min") and not _equal(other, chosen):
                chosen = other
        return normalize_number(chosen) if isinstance(chosen, (int, Fraction)) else chosen
    if func == "argmax":
        if not args:
            raise ExprError("argmax needs at least one argument")
        numbers = [_as_number(a, "argmax") for a in args]
        best = max(numbers)
        return numbers.index(best)
    if len(args) != 1:
        raise ExprError(f"{func} takes one argument, got {len(args)}")
    number = _as_number(args[0], func)
    if func == "abs":
        return normalize_number(-number if number < 0 else number)
    if func == "round":
        return round(number)
    raise ExprError(f"unknown function {func!r}")


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
