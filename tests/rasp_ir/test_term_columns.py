"""Column-wise evaluation against the one-row evaluator: exact values, ties, uncovered forms."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir.term_columns import Coded, evaluate_columns
from rasp_ir.term_eval import ExprError, evaluate
from rasp_ir.terms import Binary, Call, Const, Expr, IfElse, Lookup, Member, Param, Unary
from rasp_ir.values import Value, same_value, value_key
from tests.strategies import ANY_VALUES, any_terms

SETS: dict[str, tuple[Value, ...]] = {
    "a": (0, 1, 2, 3),
    "b": (Fraction(-1, 3), 0, Fraction(5, 2), 7),
    "c": ("x", "y", "z"),
    "d": (False, True),
}


def _columns(rows: int, seed: int) -> dict[str, Coded]:
    rng = np.random.default_rng(seed)
    return {n: Coded(rng.integers(0, len(s), rows), s) for n, s in SETS.items()}


def _row_by_row(expr: Expr, columns: dict[str, Coded]) -> list[Value]:
    rows = len(next(iter(columns.values())).codes)
    return [
        evaluate(expr, {n: c.values[int(c.codes[r])] for n, c in columns.items()})
        for r in range(rows)
    ]


def _by_columns(expr: Expr, columns: dict[str, Coded]) -> list[Value]:
    result = evaluate_columns(expr, columns)
    assert result is not None
    return [result.values[int(code)] for code in result.codes]


def _readout(rng: random.Random, denominators: tuple[int, ...]) -> Expr:
    """``lookup(argmax(score, ...), {...})``: each score a sum of per-variable tables,
    weight * number, negations and constants (the shape of a lifted readout)."""

    def weight() -> Fraction:
        return Fraction(rng.randint(-40, 40), rng.choice(denominators))

    def term() -> Expr:
        choice = rng.randrange(5)
        if choice == 0:
            entries = tuple(((v,), weight()) for v in SETS["c"][:2])
            return Lookup((Param("c"),), entries, Const(weight()))
        if choice == 1:
            return Binary("*", Const(weight()), Param(rng.choice("ab")))
        if choice == 2:
            return Unary("-", Param("b"))
        if choice == 3:
            return Param("d")
        return Const(weight())

    def score() -> Expr:
        total = term()
        for _ in range(rng.randint(1, 6)):
            total = Binary(rng.choice("+-"), total, term())
        return total

    scores = tuple(score() for _ in range(rng.randint(1, 5)))
    entries = tuple(((i,), f"class{i}") for i in range(len(scores) - 1))
    return Lookup((Call("argmax", scores),), entries, Const("last"))


# Small denominators keep the numerators in int64; 2^70 and 3^45 need Python ints.
@pytest.mark.parametrize("denominators", [(1, 2, 8, 1024, 3), (1, 2**70, 3**45)])
@pytest.mark.parametrize("seed", range(20))
def test_readout_shapes_equal_the_one_row_evaluator_exactly(
    seed: int, denominators: tuple[int, ...]
) -> None:
    expr = _readout(random.Random(seed), denominators)
    columns = _columns(300, seed)
    assert _by_columns(expr, columns) == _row_by_row(expr, columns)
    score = Binary("-", Binary("*", Const(Fraction(1, 3)), Param("b")), Param("a"))
    got = _by_columns(score, columns)
    assert [value_key(v) for v in got] == [value_key(v) for v in _row_by_row(score, columns)]


def test_argmax_ties_go_to_the_first_largest() -> None:
    columns = _columns(50, 0)
    expr = Call("argmax", (Param("a"), Binary("+", Param("a"), Const(0)), Param("a")))
    assert _by_columns(expr, columns) == [0] * 50


@pytest.mark.parametrize(
    "expr",
    [
        IfElse(Param("d"), Param("a"), Param("b")),
        Binary("<=", Param("a"), Param("b")),
        Binary("/", Param("b"), Binary("+", Param("a"), Const(1))),
        Member(Binary("+", Param("a"), Param("b")), (0, 1, 7)),
        Call("max", (Param("a"), Param("b"))),
        Binary("-", Param("a"), Binary("-", Param("b"), Binary("+", Param("a"), Param("b")))),
        Binary(
            "+",
            Binary("-", Param("b"), Param("a")),
            Binary("-", Param("a"), Binary("*", Const(2), Param("b"))),
        ),
        Binary("+", Param("c"), IfElse(Param("d"), Param("c"), Const("!"))),
        Unary("not", Binary("==", Param("a"), Param("b"))),
        IfElse(
            Binary(">=", Param("b"), IfElse(Param("d"), Const(1), Param("a"))), Const(5), Const(6)
        ),
    ],
)
def test_forms_beyond_the_readout_equal_the_one_row_evaluator(expr: Expr) -> None:
    columns = _columns(200, 1)
    got = _by_columns(expr, columns)
    assert [value_key(v) for v in got] == [value_key(v) for v in _row_by_row(expr, columns)]


def test_a_lookup_whose_default_reads_parameters_is_not_covered() -> None:
    expr = Lookup((Param("a"),), (((1,), 2),), Param("b"))
    assert evaluate_columns(expr, _columns(10, 0)) is None


@settings(max_examples=400, deadline=None)
@given(any_terms(), st.lists(st.tuples(ANY_VALUES, ANY_VALUES), min_size=1, max_size=12))
def test_columns_agree_with_every_row_or_leave_it_to_them(
    expr: Expr, rows: list[tuple[Value, Value]]
) -> None:
    """Where the columns give values, every row evaluates, to the same value; where a row
    fails, the columns raise or give None (the caller then goes row by row)."""
    columns = {
        name: Coded(np.arange(len(rows)), tuple(row[axis] for row in rows))
        for axis, name in enumerate(("x", "y"))
    }
    try:
        result = evaluate_columns(expr, columns)
    except ExprError:
        result = None
    if result is None:
        return
    one_by_one = [evaluate(expr, {"x": x, "y": y}) for x, y in rows]
    got = [result.values[int(code)] for code in result.codes]
    assert all(same_value(g, w) for g, w in zip(got, one_by_one, strict=True)), (got, one_by_one)


def test_a_branch_not_taken_that_fails_is_left_to_the_rows() -> None:
    expr = IfElse(Binary("!=", Param("a"), Const(0)), Binary("/", Param("b"), Param("a")), Const(0))
    with pytest.raises(ExprError):
        evaluate_columns(expr, _columns(50, 0))
    assert _row_by_row(expr, _columns(50, 0))


def test_an_error_in_a_tabulated_term_is_raised() -> None:
    with pytest.raises(ExprError):
        evaluate_columns(
            Binary("+", Binary("+", Param("c"), Const(1)), Param("a")), _columns(10, 0)
        )
