"""The term evaluator (terms compiled once to closures) against the independent naive evaluator,
on random terms of every kind, well typed or not: the same value, or an error from both."""

from __future__ import annotations

import gc
from fractions import Fraction

import pytest
from hypothesis import given, settings

from rasp_ir import term_eval
from rasp_ir.expr import ExprError, apply_lambda, evaluate
from rasp_ir.ir import IRError, Lambda
from rasp_ir.naive import NaiveEvalError, naive_eval_expr
from rasp_ir.terms import Binary, Const, Expr, IfElse, Lookup, Param
from rasp_ir.values import Value, same_value
from tests.strategies import ANY_VALUES, any_terms

TERMS = any_terms()


def _outcome(run: object) -> tuple[str, Value]:
    try:
        return "value", run()  # type: ignore[operator]
    except (ExprError, NaiveEvalError):
        return "error", None


@settings(max_examples=600, deadline=None)
@given(TERMS, ANY_VALUES, ANY_VALUES)
def test_every_term_means_what_the_naive_evaluator_says(expr: Expr, x: Value, y: Value) -> None:
    env = {"x": x, "y": y}
    got = _outcome(lambda: evaluate(expr, env))
    want = _outcome(lambda: naive_eval_expr(expr, env))
    assert got[0] == want[0], (got, want)
    assert same_value(got[1], want[1]), (got, want)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        (Binary("<", Param("x"), Const(Fraction(1, 2))), True),
        (Binary(">=", Param("x"), Const(True)), False),
        (Binary("and", Const(False), Binary("/", Const(1), Const(0))), False),
        (Binary("or", Const(True), Binary("/", Const(1), Const(0))), True),
        (IfElse(Param("x"), Const("unreached"), Const("taken")), "taken"),
    ],
)
def test_orderings_and_short_circuits(expr: Expr, value: Value) -> None:
    assert same_value(evaluate(expr, {"x": False}), value)


def test_a_function_is_compiled_once_for_as_long_as_it_lives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[Expr] = []
    compile_term = term_eval.compile_term

    def counting(expr: Expr) -> term_eval.Compiled:
        compiled.append(expr)
        return compile_term(expr)

    monkeypatch.setattr(term_eval, "compile_term", counting)
    fn = Lambda(("x",), Binary("+", Param("x"), Const(1)))
    assert apply_lambda(fn, (0,)) == 1
    assert compiled[0] is fn.body
    once = len(compiled)
    assert [apply_lambda(fn, (v,)) for v in range(1, 5)] == [2, 3, 4, 5]
    assert len(compiled) == once
    key = id(fn.body)
    assert key in term_eval._COMPILED
    del fn, compiled[:]
    gc.collect()
    assert key not in term_eval._COMPILED


def test_a_lookup_table_that_gives_one_key_twice_is_refused() -> None:
    with pytest.raises(IRError, match="one key twice"):
        Lookup((Param("x"),), (((1,), "a"), ((1,), "b")))
    kept_apart = Lookup((Param("x"),), (((1,), "a"), ((True,), "b")))
    assert evaluate(kept_apart, {"x": True}) == "b"
