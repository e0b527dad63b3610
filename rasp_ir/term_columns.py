"""One expression evaluated exactly over many parameter combinations at once: a term and, per
parameter, a column of codes into its value set in; the codes of the results into their
distinct values out, or None where a column cannot be numbered (the caller then evaluates one
combination at a time, which also reports any error).

Sub-terms of one parameter (or none) are tabulated once over the values that occur and looked
up by code; ``+``, ``-``, ``*``, unary ``-`` and ``argmax`` of numbers work on integer
numerators over one common denominator (int64 while a bound on them allows, Python ints in
object arrays beyond: nothing rounds or overflows); a ``lookup`` is evaluated once per distinct
key. These are the forms of a lifted linear readout (a sum of per-variable tables inside
``argmax``), whose combinations are too many to tabulate whole. Any other term (comparisons,
conditionals, division: a lifted numerical MLP's decision rules) is evaluated once per distinct
combination of its children's values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.term_eval import Compiled, ExprError, compile_term, evaluate
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


def apply_columns(params: Sequence[str], body: Expr, args: Sequence[Coded]) -> Coded | None:
    """A function (its parameter names and body) on every row of ``args``, one column per
    parameter: the codes of its results into their values; None where the columns do not
    decide (a column cannot be numbered, or an evaluation fails: the caller then evaluates
    one row at a time, which reports the failure)."""
    try:
        return evaluate_columns(body, dict(zip(params, args, strict=True)))
    except ExprError:
        return None


def every_combination(value_sets: Sequence[tuple[Value, ...]]) -> list[Coded]:
    """One column per value set, together holding every combination of their values once, in
    ``itertools.product`` order (the last set varies fastest)."""
    grids = np.meshgrid(*(np.arange(len(s), dtype=np.int64) for s in value_sets), indexing="ij")
    return [Coded(grid.reshape(-1), s) for grid, s in zip(grids, value_sets, strict=True)]


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
    numbers = _exact_arithmetic(expr, params)
    if numbers is not None:
        return numbers
    if isinstance(expr, Lookup):
        return None if params.free(expr.default) else _lookup(expr, params)
    return _over_distinct_children(expr, params)


def _exact_arithmetic(expr: Expr, params: _Params) -> Numbers | None:
    """Sums, differences, products, negations and ``argmax`` of numbers on numerators; None
    for other forms, or where an operand is not a number (the general rule then decides)."""
    if isinstance(expr, Binary) and expr.op in ("+", "-"):
        return _sum(expr, params)
    if isinstance(expr, Binary) and expr.op == "*":
        return _product(expr, params)
    if isinstance(expr, Unary) and expr.op == "-":
        operand = _numbers(_column(expr.operand, params))
        if operand is None:
            return None
        return Numbers(-operand.numerators, operand.denominator, operand.bound)
    if isinstance(expr, Call) and expr.func == "argmax" and expr.args:
        return _argmax([_numbers(_column(a, params)) for a in expr.args])
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
    run = compile_term(expr)
    results = [run({name: column.values[int(c)]}) for c in occurring]
    codes, values = _distinct(results)
    table = np.zeros(len(column.values), dtype=np.int64)
    table[occurring] = codes
    return Coded(table[column.codes], values)


def _distinct(results: Sequence[Value]) -> tuple[Codes, tuple[Value, ...]]:
    """The distinct values of ``results`` (by :func:`value_key`, first occurrence first) and
    the index of each result among them: so that later steps number value combinations, not
    the rows that gave them."""
    index: dict[tuple[int, object], int] = {}
    values: list[Value] = []
    codes = np.empty(len(results), dtype=np.int64)
    for row, value in enumerate(results):
        key = value_key(value)
        code = index.get(key)
        if code is None:
            code = index[key] = len(values)
            values.append(value)
        codes[row] = code
    return codes, tuple(values)


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


def _product(expr: Binary, params: _Params) -> Numbers | None:
    left = _numbers(_column(expr.left, params))
    right = _numbers(_column(expr.right, params))
    if left is None or right is None:
        return None
    bound = left.bound * right.bound
    a, b = (c.numerators.astype(_dtype(bound)) for c in (left, right))
    return Numbers(a * b, left.denominator * right.denominator, bound)


def _sum(expr: Binary, params: _Params) -> Numbers | None:
    """A chain of ``+`` and ``-`` (a lifted readout's score adds one table per variable) as
    one sum over the addends' common denominator, each addend scaled once."""
    addends: list[tuple[bool, Expr]] = []
    _collect_addends(expr, False, params, addends)
    columns = [_numbers(_column(term, params)) for _, term in addends]
    numbers = [c for c in columns if c is not None]
    if len(numbers) < len(columns):
        return None
    scaled, bound = _common(numbers, terms=len(numbers))
    total = -scaled[0] if addends[0][0] else scaled[0]
    for (negated, _), column in zip(addends[1:], scaled[1:], strict=True):
        total = total - column if negated else total + column
    return Numbers(total, math.lcm(*(c.denominator for c in numbers)), bound)


def _collect_addends(
    expr: Expr, negated: bool, params: _Params, addends: list[tuple[bool, Expr]]
) -> None:
    """The terms a chain of ``+`` and ``-`` adds, each with whether it is subtracted; a
    sub-chain of at most one parameter stays whole (it is tabulated)."""
    if isinstance(expr, Binary) and expr.op in ("+", "-") and len(params.free(expr)) > 1:
        _collect_addends(expr.left, negated, params, addends)
        _collect_addends(expr.right, negated != (expr.op == "-"), params, addends)
    else:
        addends.append((negated, expr))


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
    found = _distinct_combinations([_column(k, params) for k in expr.keys])
    if found is None:
        return None
    combinations, inverse = found
    table, default = expr.index, compile_term(expr.default)
    results = []
    for key_values in combinations:
        key = tuple(value_key(v) for v in key_values)
        results.append(table[key] if key in table else default({}))
    codes, values = _distinct(results)
    return Coded(codes[inverse], values)


def _over_distinct_children(expr: Expr, params: _Params) -> Coded | None:
    """A term of two or more parameters that no rule above covers (comparisons, conditionals,
    division, membership, ...): its children as columns, then the term itself evaluated once
    per distinct combination of its children's values. Every child is evaluated on every row,
    so this raises :class:`ExprError` wherever a row would, and also where a row would not
    have evaluated the branch that fails (``1 / x if x != 0 else 0``): the caller then
    evaluates row by row, which decides."""
    found = _distinct_combinations([_column(child, params) for child in _children(expr)])
    if found is None:
        return None
    combinations, inverse = found
    node, slots = _node_alone(expr)
    codes, values = _distinct(
        [node(dict(zip(slots, children, strict=True))) for children in combinations]
    )
    return Coded(codes[inverse], values)


def _node_alone(expr: Expr) -> tuple[Compiled, list[str]]:
    """``expr``'s own operation, compiled once (then one closure call per combination, not a
    term built and compiled per combination): its direct sub-terms replaced, in order, by
    parameters ``#0``, ``#1``, ... (the only parameters left in it), and their names."""
    slots: list[str] = []

    def slot(_: Expr) -> Expr:
        slots.append(f"#{len(slots)}")
        return Param(slots[-1])

    return compile_term(map_children(expr, slot)), slots


def _distinct_combinations(
    columns: Sequence[Column | None],
) -> tuple[list[tuple[Value, ...]], Codes] | None:
    """The distinct rows of values that ``columns`` hold together, and each row's index among
    them; None when a column is not covered or the combinations are too many to number."""
    coded = []
    for column in columns:
        if column is None:
            return None
        coded.append(_coded(column))
    shape = tuple(max(len(c.values), 1) for c in coded)
    if math.prod(shape) >= INT64_SAFE:
        return None
    flat = np.ravel_multi_index(tuple(c.codes for c in coded), shape)
    distinct, inverse = np.unique(flat, return_inverse=True)
    rows = np.stack(np.unravel_index(distinct, shape), axis=-1).tolist()
    combinations = [tuple(c.values[i] for c, i in zip(coded, row, strict=True)) for row in rows]
    return combinations, inverse.reshape(-1).astype(np.int64)


def _coded(column: Column) -> Coded:
    """The column as codes into its distinct values (numbers normalised)."""
    if isinstance(column, Coded):
        return column
    distinct, inverse = np.unique(column.numerators, return_inverse=True)
    values = tuple(normalize_number(Fraction(int(n), column.denominator)) for n in distinct)
    return Coded(inverse.reshape(-1).astype(np.int64), values)
