"""One expression evaluated exactly over many parameter combinations at once: a term and, per
parameter, a column of codes into its value set in; the codes of the results into their
distinct values out, or None where the term's form is not covered (the caller then evaluates
one combination at a time, which also reports any error).

Sub-terms of one parameter (or none) are tabulated once over the values that occur and looked
up by code; ``+``, ``-``, ``*``, unary ``-`` and ``argmax`` of numbers work on integer
numerators over one common denominator (int64 while a bound on them allows, Python ints in
object arrays beyond: nothing rounds or overflows); a ``lookup`` is evaluated once per distinct
key. These are the forms of a lifted linear readout (a sum of per-variable tables inside
``argmax``), whose combinations are too many to tabulate whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.term_eval import evaluate
from rasp_ir.terms import Binary, Call, Expr, Lookup, Param, Unary, map_children
from rasp_ir.values import Value, normalize_number, value_key

Codes = npt.NDArray[np.int64]
INT64_SAFE = 1 << 62


@dataclass(frozen=True)
class Coded:
    """A column of values: ``values[codes[row]]``."""

    codes: Codes
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Numbers:
    """A column of exact numbers: ``numerators[row] / denominator``, with ``bound`` at least
    every ``|numerator|``; int64 numerators while the bound allows, Python ints beyond."""

    numerators: npt.NDArray[Any]
    denominator: int
    bound: int


Column = Coded | Numbers


def evaluate_columns(expr: Expr, params: Mapping[str, Coded]) -> Coded | None:
    """``expr`` on every row of ``params`` (columns of one length), as codes into its distinct
    values; None when part of ``expr`` is not covered. May raise :class:`ExprError` as
    :func:`~rasp_ir.term_eval.evaluate` does."""
    column = _column(expr, _Params(params, {}))
    return None if column is None else _coded(column)


@dataclass(frozen=True)
class _Params:
    """The parameter columns, and the free parameters of each sub-term once computed (keyed by
    ``id``: asking :func:`free_params` at every level would be quadratic in the depth)."""

    columns: Mapping[str, Coded]
    memo: dict[int, frozenset[str]]

    def free(self, expr: Expr) -> frozenset[str]:
        """The parameters ``expr`` reads."""
        found = self.memo.get(id(expr))
        if found is None:
            own = {expr.name} if isinstance(expr, Param) else set()
            found = frozenset(own.union(*(self.free(child) for child in _children(expr))))
            self.memo[id(expr)] = found
        return found


def _column(expr: Expr, params: _Params) -> Column | None:
    if isinstance(expr, Param):
        return params.columns[expr.name]
    names = params.free(expr)
    if len(names) <= 1:
        return _tabulated(expr, params, names)
    if isinstance(expr, Binary) and expr.op in ("+", "-", "*"):
        return _arithmetic(expr, params)
    if isinstance(expr, Unary) and expr.op == "-":
        operand = _numbers(_column(expr.operand, params))
        if operand is None:
            return None
        return Numbers(-operand.numerators, operand.denominator, operand.bound)
    if isinstance(expr, Call) and expr.func == "argmax" and expr.args:
        return _argmax([_numbers(_column(a, params)) for a in expr.args])
    if isinstance(expr, Lookup) and not params.free(expr.default):
        return _lookup(expr, params)
    return None


def _children(expr: Expr) -> list[Expr]:
    """The direct sub-terms of ``expr``."""
    found: list[Expr] = []

    def keep(child: Expr) -> Expr:
        found.append(child)
        return child

    map_children(expr, keep)
    return found


def _tabulated(expr: Expr, params: _Params, names: frozenset[str]) -> Column:
    """A term of at most one parameter, evaluated once per value of it that occurs."""
    if not names:
        value = evaluate(expr, {})
        rows = len(next(iter(params.columns.values())).codes) if params.columns else 1
        return Coded(np.zeros(rows, dtype=np.int64), (value,))
    (name,) = names
    column = params.columns[name]
    occurring = np.flatnonzero(np.bincount(column.codes, minlength=len(column.values)))
    table = np.zeros(len(column.values), dtype=np.int64)
    table[occurring] = np.arange(len(occurring))
    values = tuple(evaluate(expr, {name: column.values[int(c)]}) for c in occurring)
    return Coded(table[column.codes], values)


def _numbers(column: Column | None) -> Numbers | None:
    """The column as exact numbers (booleans count as 0 and 1); None for other values."""
    if column is None or isinstance(column, Numbers):
        return column
    numbers = [Fraction(v) for v in column.values if isinstance(v, (int, Fraction))]
    if len(numbers) < len(column.values):
        return None
    denominator = math.lcm(*(n.denominator for n in numbers))
    numerators = [int(n * denominator) for n in numbers]
    bound = max((abs(n) for n in numerators), default=0)
    table = np.empty(max(len(numbers), 1), dtype=_dtype(bound))
    table[: len(numbers)] = numerators
    return Numbers(table[column.codes], denominator, bound)


def _dtype(bound: int) -> type[np.generic]:
    """int64 for numbers up to ``bound`` in magnitude when that is safe, else Python ints."""
    return np.int64 if bound < INT64_SAFE else np.object_


def _arithmetic(expr: Binary, params: _Params) -> Numbers | None:
    left = _numbers(_column(expr.left, params))
    right = _numbers(_column(expr.right, params))
    if left is None or right is None:
        return None
    if expr.op == "*":
        bound = left.bound * right.bound
        a, b = (c.numerators.astype(_dtype(bound)) for c in (left, right))
        return Numbers(a * b, left.denominator * right.denominator, bound)
    (a, b), bound = _common([left, right], terms=2)
    total = a + b if expr.op == "+" else a - b
    return Numbers(total, math.lcm(left.denominator, right.denominator), bound)


def _common(columns: Sequence[Numbers], terms: int = 1) -> tuple[list[npt.NDArray[Any]], int]:
    """The numerators of every column over their least common denominator, in a type that
    holds a sum of ``terms`` of them; and the bound of that sum."""
    denominator = math.lcm(*(c.denominator for c in columns))
    factors = [denominator // c.denominator for c in columns]
    bound = terms * max(c.bound * f for c, f in zip(columns, factors, strict=True))
    dtype = _dtype(max(bound, *factors))
    scaled = [c.numerators.astype(dtype) * f for c, f in zip(columns, factors, strict=True)]
    return scaled, bound


def _argmax(args: Sequence[Numbers | None]) -> Numbers | None:
    """The index of the first largest argument, per row."""
    if any(a is None for a in args):
        return None
    scores, _ = _common([a for a in args if a is not None])
    best, index = scores[0], np.zeros(len(scores[0]), dtype=np.int64)
    for i, score in enumerate(scores[1:], start=1):
        better = np.asarray(score > best).astype(np.bool_)
        index[better] = i
        best = np.where(better, score, best)
    return Numbers(index, 1, len(scores))


def _lookup(expr: Lookup, params: _Params) -> Coded | None:
    """The table (its default a term without parameters) evaluated once per distinct key."""
    keys = [_column(k, params) for k in expr.keys]
    if any(k is None for k in keys):
        return None
    coded = [_coded(k) for k in keys if k is not None]
    shape = tuple(max(len(c.values), 1) for c in coded)
    if math.prod(shape) >= INT64_SAFE:
        return None
    flat = np.ravel_multi_index(tuple(c.codes for c in coded), shape)
    distinct, inverse = np.unique(flat, return_inverse=True)
    rows = np.stack(np.unravel_index(distinct, shape), axis=-1)
    table = expr.index
    values = []
    for row in rows.tolist():
        key = tuple(value_key(c.values[i]) for c, i in zip(coded, row, strict=True))
        values.append(table[key] if key in table else evaluate(expr.default, {}))
    return Coded(inverse.reshape(-1).astype(np.int64), tuple(values))


def _coded(column: Column) -> Coded:
    """The column as codes into its distinct values (numbers normalised)."""
    if isinstance(column, Coded):
        return column
    distinct, inverse = np.unique(column.numerators, return_inverse=True)
    values = tuple(normalize_number(Fraction(int(n), column.denominator)) for n in distinct)
    return Coded(inverse.reshape(-1).astype(np.int64), values)
