"""The term evaluator (terms compiled once to closures) against the independent naive evaluator,
on random terms of every kind, well typed or not: the same value, or an error from both."""

from __future__ import annotations

import gc
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir import term_eval
from rasp_ir.expr import ExprError, apply_lambda, evaluate
from rasp_ir.ir import IRError, Lambda
from rasp_ir.naive import NaiveEvalError, naive_eval_expr
from rasp_ir.terms import Binary, Call, Const, Expr, IfElse, Lookup, Member, Param, Unary
from rasp_ir.values import Value, same_value, value_key

VALUES: st.SearchStrategy[Value] = st.one_of(
    st.integers(-3, 3),
    st.fractions(min_value=-2, max_value=2, max_denominator=4),
    st.booleans(),
    st.sampled_from(["a", "b", ""]),
    st.none(),
)
OPERATORS = ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or")
FUNCTIONS = ("min", "max", "abs", "round", "argmax")


def _terms(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        st.builds(Binary, st.sampled_from(OPERATORS), children, children),
        st.builds(IfElse, children, children, children),
        st.builds(Member, children, st.tuples(VALUES, VALUES), st.booleans()),
        st.builds(
            Lookup,
            st.tuples(children),
            st.lists(
                st.tuples(st.tuples(VALUES), VALUES),
                max_size=3,
                unique_by=lambda entry: value_key(entry[0][0]),
            ).map(tuple),
            children,
        ),
        st.builds(Call, st.sampled_from(FUNCTIONS), st.lists(children, max_size=3).map(tuple)),
    )


TERMS: st.SearchStrategy[Expr] = st.recursive(
    st.one_of(st.builds(Const, VALUES), st.sampled_from([Param("x"), Param("y")])),
    _terms,
    max_leaves=12,
)


def _outcome(run: object) -> tuple[str, Value]:
    try:
        return "value", run()  # type: ignore[operator]
    except (ExprError, NaiveEvalError):
        return "error", None


@settings(max_examples=600, deadline=None)
@given(TERMS, VALUES, VALUES)
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
