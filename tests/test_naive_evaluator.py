"""Hand-computed cases for the naive reference evaluator, and smoke tests of the strategies."""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import rasp_ir.naive
from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Call,
    Comparison,
    Const,
    Encoding,
    Expr,
    Full,
    Header,
    IfElse,
    Lambda,
    Lookup,
    Map,
    Member,
    Node,
    Param,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    Unary,
)
from rasp_ir.naive import (
    NaiveEvalError,
    evaluate_naive,
    naive_eval_expr,
    naive_outputs,
    naive_selectors,
)
from rasp_ir.values import Value, is_number, value_key
from tests.strategies import mutated_program_text, program_input, program_inputs, programs

LETTERS: tuple[Value, ...] = ("a", "b", "c", "d", "x", "y")


def make(
    *bindings: tuple[str, Node] | tuple[str, Node, Encoding | None],
    outputs: tuple[str, ...],
    vocab: tuple[Value, ...] = LETTERS,
    max_len: int = 6,
    bos: Value = None,
    causal: bool = False,
) -> Program:
    """A program from ``(name, node[, encoding])`` triples; s-ops default to ``cat``."""
    built = []
    for item in bindings:
        name, node = item[0], item[1]
        if len(item) == 3:
            encoding = item[2]
        else:
            encoding = None if isinstance(node, (Select, SelectClosest, SelectorAnd,
                                                 SelectorOr, SelectorNot)) else "cat"  # fmt: skip
        built.append(Binding(name, node, encoding))
    return Program(Header(vocab, max_len, bos, causal), tuple(built), outputs)


def fn(params: str, body: Expr) -> Lambda:
    """``fn(p1, p2, ...) -> body`` from a comma-separated parameter list."""
    return Lambda(tuple(p.strip() for p in params.split(",")), body)


def P(name: str) -> Param:
    """A parameter reference."""
    return Param(name)


def C(value: Value) -> Const:
    """A constant."""
    return Const(value)


# ---------------------------------------------------------------- classic programs


def reverse_program(**header: object) -> Program:
    """``reverse = aggregate(select(indices, length - indices - 1, ==), tokens)``."""
    return make(
        ("opp", Map(fn("n, i", Binary("-", Binary("-", P("n"), P("i")), C(1))),
                    ("length", "indices"))),
        ("flip", Select("indices", "opp", Comparison("=="))),
        ("reverse", Aggregate("flip", "tokens")),
        outputs=("reverse",),
        **header,  # type: ignore[arg-type]
    )  # fmt: skip


def test_reverse() -> None:
    assert naive_outputs(reverse_program(), list("abcd")) == {"reverse": list("dcba")}
    assert naive_outputs(reverse_program(), []) == {"reverse": []}


def test_reverse_with_bos_counts_bos_as_a_position() -> None:
    out = naive_outputs(reverse_program(bos="<s>"), list("abc"))
    assert out == {"reverse": ["c", "b", "a", "<s>"]}


def test_reverse_causal_is_meaningless_but_defined() -> None:
    # causal: length = i + 1, so opp = 0 everywhere and the key 0 is always allowed
    out = naive_outputs(reverse_program(causal=True), list("abc"))
    assert out == {"reverse": ["a", "a", "a"]}


def hist_program(**header: object) -> Program:
    """``hist = selector_width(select(tokens, tokens, ==))``."""
    return make(
        ("same", Select("tokens", "tokens", Comparison("=="))),
        ("hist", SelectorWidth("same")),
        outputs=("hist",),
        **header,  # type: ignore[arg-type]
    )


def test_hist() -> None:
    assert naive_outputs(hist_program(), list("abca")) == {"hist": [2, 1, 1, 2]}


def test_hist_causal_counts_earlier_only() -> None:
    assert naive_outputs(hist_program(causal=True), list("abca")) == {"hist": [1, 1, 1, 2]}


def frac_prevs_program(**header: object) -> Program:
    """``frac = aggregate(select(indices, indices, <=), tokens == "x" as 0/1)`` (num)."""
    is_x = fn("t", IfElse(Binary("==", P("t"), C("x")), C(1), C(0)))
    return make(
        ("is_x", Map(is_x, ("tokens",)), "num"),
        ("prevs", Select("indices", "indices", Comparison("<="))),
        ("frac", Aggregate("prevs", "is_x", "mean", 0), "num"),
        outputs=("frac",),
        **header,  # type: ignore[arg-type]
    )


def test_frac_prevs() -> None:
    out = naive_outputs(frac_prevs_program(), list("xyxx"))["frac"]
    assert out == [1, Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)]
    assert type(out[0]) is int  # normalised


def test_frac_prevs_num_mean_is_always_a_number() -> None:
    # rasp-semantics §6.3 / §16.12: never a bool at one position and a float at the next
    out = naive_outputs(frac_prevs_program(), list("ab"))["frac"]
    assert out == [0, 0]
    assert all(type(v) is int for v in out)


def test_frac_prevs_pitfall_16_1() -> None:
    is_x = fn("t", IfElse(Binary("==", P("t"), C("x")), C(1), C(0)))
    prog = make(
        ("is_x", Map(is_x, ("tokens",)), "num"),
        ("prevs", Select("indices", "indices", Comparison("<="))),
        ("frac", Aggregate("prevs", "is_x", "mean", 0), "num"),
        ("big", Map(fn("v", Binary(">", P("v"), C(Fraction(3, 5)))), ("frac",))),
        outputs=("big",),
        max_len=5,
    )  # fmt: skip
    assert naive_outputs(prog, list("xxa")) == {"big": [True, True, True]}


@pytest.mark.parametrize(
    ("bos", "tokens", "expected"),
    [(None, "abc", [1, 2, 3]), ("<s>", "abc", [1, 2, 3, 4]), (None, "", [])],
)
def test_causal_length(bos: Value, tokens: str, expected: list[int]) -> None:
    prog = make(("l", Map(fn("x", P("x")), ("length",))), outputs=("l",), bos=bos, causal=True)
    assert naive_outputs(prog, list(tokens)) == {"l": expected}


def test_primitives() -> None:
    prog = make(outputs=("tokens", "indices", "length"), bos="<s>")
    assert evaluate_naive(prog, list("ab")) == {
        "tokens": ["<s>", "a", "b"],
        "indices": [0, 1, 2],
        "length": [3, 3, 3],
    }


# ---------------------------------------------------------------- None handling


def shift_program() -> Program:
    """``shifted = shift_by(1, tokens)`` then maps over it with and without a default."""
    shift = fn("k, q", Binary("==", P("q"), Binary("+", P("k"), C(1))))
    return make(
        ("prev", Select("indices", "indices", shift)),
        ("shifted", Aggregate("prev", "tokens")),
        ("bang", Map(fn("x", Binary("+", P("x"), C("!"))), ("shifted",))),
        ("dash", Map(fn("x", P("x")), ("shifted",), "-")),
        ("pair", Map(fn("x, y", Binary("+", P("x"), P("y"))), ("shifted", "tokens"))),
        ("twice", Map(fn("x, y", Binary("+", P("x"), P("y"))), ("tokens", "tokens"))),
        outputs=("shifted", "bang", "dash", "pair", "twice"),
    )


def test_shift_by_propagates_none() -> None:
    assert naive_outputs(shift_program(), list("abc")) == {
        "shifted": [None, "a", "b"],
        "bang": [None, "a!", "b!"],
        "dash": ["-", "a", "b"],
        "pair": [None, "ab", "bc"],
        "twice": ["aa", "bb", "cc"],
    }


def test_select_on_undefined_key_or_query_is_an_error() -> None:
    base = shift_program().bindings[:2]
    for keys, queries in (("shifted", "tokens"), ("tokens", "shifted")):
        for node in (
            Select(keys, queries, Comparison("==")),
            SelectClosest(keys, queries, Comparison("==")),
            Select(keys, queries, Comparison("true")),
        ):
            prog = Program(shift_program().header, (*base, Binding("s", node, None)), ("shifted",))
            with pytest.raises(NaiveEvalError) as info:
                evaluate_naive(prog, list("abc"))
            assert info.value.code == "undefined-select"
            # a single position has nothing shifted into it: still undefined
            with pytest.raises(NaiveEvalError):
                evaluate_naive(prog, ["a"])
            # no positions, nothing compared
            assert evaluate_naive(prog, [])["shifted"] == []


# ---------------------------------------------------------------- select_closest


def closest_program(query: str, **header: object) -> Program:
    """``aggregate(select_closest(tokens, QUERY, ==), indices)`` and of tokens."""
    bindings: list[tuple[str, Node]] = []
    if query not in ("tokens", "indices", "length"):
        bindings.append(("q", Full(query)))
        query = "q"
    return make(
        *bindings,
        ("sel", SelectClosest("tokens", query, Comparison("=="))),
        ("where", Aggregate("sel", "indices")),
        ("what", Aggregate("sel", "tokens")),
        outputs=("where", "what"),
        **header,  # type: ignore[arg-type]
    )


def test_select_closest_prefers_others_over_self() -> None:
    assert naive_outputs(closest_program("tokens"), list("abab"))["where"] == [2, 3, 0, 1]


def test_select_closest_self_only_when_sole_match() -> None:
    assert naive_outputs(closest_program("tokens"), list("abc"))["where"] == [0, 1, 2]
    # the match at 1 wins over self for queries 0 and 2
    assert naive_outputs(closest_program("tokens"), list("aab"))["where"] == [1, 0, 2]


def test_select_closest_left_wins_ties() -> None:
    assert naive_outputs(closest_program("a"), list("aba"))["where"] == [2, 0, 0]
    assert naive_outputs(closest_program("a"), list("abbba"))["where"] == [4, 0, 0, 4, 0]


def test_select_closest_bos_default() -> None:
    out = naive_outputs(closest_program("z", bos="<s>"), list("ab"))
    assert out == {"where": [0, 0, 0], "what": ["<s>", "<s>", "<s>"]}
    out = naive_outputs(closest_program("z"), list("ab"))
    assert out == {"where": [None, None], "what": [None, None]}


def test_select_closest_bos_can_also_match() -> None:
    out = naive_outputs(closest_program("<s>", bos="<s>", vocab=("a", "b")), list("ab"))
    # BOS at 0 is the only match: self for query 0, nearest other for the rest
    assert out["where"] == [0, 0, 0]


def test_select_closest_causal() -> None:
    out = naive_outputs(closest_program("a", causal=True), list("aab"))
    assert out["where"] == [0, 0, 1]
    out = naive_outputs(closest_program("a", causal=True), list("baa"))
    assert out["where"] == [None, 1, 1]


def test_select_closest_matrix_has_at_most_one_key_per_row() -> None:
    matrix = naive_selectors(closest_program("tokens"), list("abab"))["sel"]
    assert matrix == [
        [False, False, True, False],
        [False, False, False, True],
        [True, False, False, False],
        [False, True, False, False],
    ]


# ---------------------------------------------------------------- selectors


def test_selector_matrices_key_first_and_causal_masking() -> None:
    prog = make(
        ("lt", Select("indices", "indices", Comparison("<"))),
        ("none_", Select("indices", "indices", Comparison("false"))),
        ("all_", Select("indices", "indices", Comparison("true"))),
        ("not_none", SelectorNot("none_")),
        ("both", SelectorAnd("lt", "all_")),
        ("either", SelectorOr("lt", "none_")),
        ("w_lt", SelectorWidth("lt")),
        ("w_not", SelectorWidth("not_none")),
        outputs=("w_lt", "w_not"),
        causal=False,
    )
    sels = naive_selectors(prog, list("abc"))
    assert sels["lt"] == [[False] * 3, [True, False, False], [True, True, False]]
    assert sels["both"] == sels["lt"] == sels["either"]
    assert naive_outputs(prog, list("abc")) == {"w_lt": [0, 1, 2], "w_not": [3, 3, 3]}
    causal = Program(Header(LETTERS, 6, None, True), prog.bindings, prog.outputs)
    assert naive_outputs(causal, list("abc")) == {"w_lt": [0, 1, 2], "w_not": [1, 2, 3]}
    assert naive_selectors(causal, list("abc"))["all_"] == [
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]


def test_select_with_lambda_predicate_is_key_first() -> None:
    # fn(k, q) -> k > q selects LATER keys
    prog = make(
        ("later", Select("indices", "indices", fn("k, q", Binary(">", P("k"), P("q"))))),
        ("w", SelectorWidth("later")),
        outputs=("w",),
    )
    assert naive_outputs(prog, list("abcd")) == {"w": [3, 2, 1, 0]}


# ---------------------------------------------------------------- aggregates


def test_cat_mean_of_distinct_values_is_an_error() -> None:
    prog = make(
        ("all_", Select("tokens", "tokens", Comparison("true"))),
        ("m", Aggregate("all_", "tokens")),
        outputs=("m",),
    )
    with pytest.raises(NaiveEvalError) as info:
        naive_outputs(prog, list("ab"))
    assert info.value.code == "cat-mean"
    assert naive_outputs(prog, list("aa")) == {"m": ["a", "a"]}
    assert naive_outputs(prog, []) == {"m": []}


def test_cat_mean_keeps_bools_and_ints_apart() -> None:
    prog = make(
        ("v", Map(fn("i", IfElse(Binary("==", P("i"), C(0)), C(True), C(1))), ("indices",))),
        ("all_", Select("tokens", "tokens", Comparison("true"))),
        ("m", Aggregate("all_", "v")),
        outputs=("m",),
    )
    with pytest.raises(NaiveEvalError) as info:
        naive_outputs(prog, list("ab"))
    assert info.value.code == "cat-mean"


def test_reductions_and_defaults() -> None:
    prev = Select("indices", "indices", Comparison("<"))
    prog = make(
        ("prev", prev),
        (
            "tok",
            Map(fn("t", Lookup((P("t"),), ((("a",), 5), (("b",), 2)), C(7))), ("tokens",)),
            "num",
        ),
        ("s", Aggregate("prev", "tok", "sum", 0), "num"),
        ("hi", Aggregate("prev", "tok", "max", -1), "num"),
        ("lo", Aggregate("prev", "tok", "min")),
        ("avg", Aggregate("prev", "tok", "mean", 0), "num"),
        outputs=("s", "hi", "lo", "avg"),
    )
    assert naive_outputs(prog, list("abc")) == {
        "s": [0, 5, 7],
        "hi": [-1, 5, 5],
        "lo": [None, 5, 2],
        "avg": [0, 5, Fraction(7, 2)],
    }


def test_full_and_map_defaults() -> None:
    prog = make(
        ("k", Full(3), "num"),
        ("u", Full(None)),
        ("m", Map(fn("x, y", Binary("*", P("x"), P("y"))), ("k", "indices"))),
        ("d", Map(fn("x", C(1)), ("u",), 0)),
        outputs=("k", "u", "m", "d"),
    )
    assert naive_outputs(prog, list("ab")) == {
        "k": [3, 3],
        "u": [None, None],
        "m": [0, 3],
        "d": [0, 0],
    }


# ---------------------------------------------------------------- errors


def test_input_errors() -> None:
    prog = hist_program(vocab=("a", "b"), max_len=2)
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(prog, ["a", "z"])
    assert info.value.code == "input-token"
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(prog, ["a", "b", "a"])
    assert info.value.code == "input-length"
    ints = hist_program(vocab=(0, 1), max_len=2)
    for bad in ([True], [Fraction(1, 2)], ["0"]):
        with pytest.raises(NaiveEvalError) as info:
            evaluate_naive(ints, bad)
        assert info.value.code == "input-token"
    bools = hist_program(vocab=(True, False), max_len=2)
    with pytest.raises(NaiveEvalError):
        evaluate_naive(bools, [1])
    assert evaluate_naive(bools, [True])["hist"] == [1]


def test_map_errors_and_predicate_errors() -> None:
    div = make(("d", Map(fn("i", Binary("/", C(1), P("i"))), ("indices",))), outputs=("d",))
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(div, ["a"])
    assert info.value.code == "map-error"
    assert evaluate_naive(div, []) == {"tokens": [], "indices": [], "length": [], "d": []}
    mixed = make(("m", Map(fn("t", Binary("+", P("t"), C(1))), ("tokens",))), outputs=("m",))
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(mixed, ["a"])
    assert info.value.code == "map-error"
    order = make(("s", Select("tokens", "indices", Comparison("<"))), outputs=("tokens",))
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(order, ["a"])
    assert info.value.code == "map-error"
    not_bool = make(("s", Select("indices", "indices", fn("k, q", P("k")))), outputs=("tokens",))
    with pytest.raises(NaiveEvalError) as info:
        evaluate_naive(not_bool, ["a", "b"])
    assert info.value.code == "predicate-not-bool"


# ---------------------------------------------------------------- expression language


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Binary("/", C(1), C(3)), Fraction(1, 3)),
        (Binary("/", C(6), C(3)), 2),
        (Binary("%", Unary("-", C(7)), C(3)), 2),
        (Binary("%", C(Fraction(7, 2)), C(1)), Fraction(1, 2)),
        (Binary("+", C(True), C(True)), 2),
        (Binary("*", C(Fraction(1, 2)), C(4)), 2),
        (Binary("+", C("a"), C("b")), "ab"),
        (Binary("==", C(True), C(1)), False),
        (Binary("!=", C(True), C(1)), True),
        (Binary("==", C(Fraction(4, 2)), C(2)), True),
        (Binary("==", C("1"), C(1)), False),
        (Binary("==", C(None), C(None)), True),
        (Binary("<", C(True), C(2)), True),
        (Binary("<=", C("ab"), C("b")), True),
        (Binary(">=", C(2), C(2)), True),
        (Binary("and", C(False), Binary("/", C(1), C(0))), False),
        (Binary("or", C(True), Binary("/", C(1), C(0))), True),
        (Unary("not", C(False)), True),
        (IfElse(C(False), Binary("/", C(1), C(0)), C("else")), "else"),
        (Member(C(1), (True, "1")), False),
        (Member(C(1), (True, 1)), True),
        (Member(C(2), (1,), negated=True), True),
        (Lookup((C(True),), (((1,), "one"), ((True,), "true"))), "true"),
        (Lookup((C(2), C("b")), (((2, "a"), 1), ((2, "b"), 2)), C(0)), 2),
        (Lookup((C(3),), (((1,), "one"),)), None),
        (Call("min", (C(3), C(Fraction(1, 2)), C(2))), Fraction(1, 2)),
        (Call("max", (C("a"), C("b"))), "b"),
        (Call("abs", (Unary("-", C(Fraction(3, 2))),)), Fraction(3, 2)),
        (Call("round", (C(Fraction(5, 2)),)), 2),
        (Call("round", (C(Fraction(7, 2)),)), 4),
        (Call("round", (C(Fraction(-5, 2)),)), -2),
        (Call("round", (C(Fraction(8, 3)),)), 3),
    ],
)
def test_expressions(expr: Expr, expected: Value) -> None:
    got = naive_eval_expr(expr, {})
    assert value_key(got) == value_key(expected)
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    "expr",
    [
        Binary("/", C(1), C(0)),
        Binary("%", C(1), C(0)),
        Binary("+", C("a"), C(1)),
        Binary("-", C("a"), C("b")),
        Binary("<", C("a"), C(1)),
        Binary("<", C(None), C(1)),
        Binary("and", C(1), C(True)),
        Binary("and", C(True), C(1)),
        Unary("not", C(0)),
        Unary("-", C("a")),
        IfElse(C(1), C(1), C(2)),
        Call("min", (C(1),)),
        Call("max", (C(1), C("a"))),
        Call("abs", (C("a"),)),
        Call("round", (C(1), C(2))),
        Param("missing"),
    ],
)
def test_expression_errors(expr: Expr) -> None:
    with pytest.raises(NaiveEvalError) as info:
        naive_eval_expr(expr, {})
    assert info.value.code == "map-error"


def test_naive_evaluator_is_independent() -> None:
    """It may import nothing from rasp_ir but the IR dataclasses and the value helpers."""
    source = Path(rasp_ir.naive.__file__).read_text()
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    assert {m for m in modules if m.startswith("rasp_ir")} <= {"rasp_ir.ir", "rasp_ir.values"}


# ---------------------------------------------------------------- strategies


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_programs_mostly_evaluate(data: st.DataObject) -> None:
    """Drawn programs are well formed and evaluate without errors on valid inputs (an error
    is filtered out with ``assume``, so hypothesis fails the test if errors are common)."""
    program = data.draw(programs())
    inputs = data.draw(program_inputs(program))
    for binding in program.bindings:
        note(f"{binding.name}: {binding.encoding} = {binding.node}")
    note(f"header: {program.header}; outputs: {program.outputs}")
    for tokens in inputs:
        note(f"input: {tokens!r}")
        assert len(tokens) <= program.header.max_len
        assert all(value_key(t) in {value_key(v) for v in program.header.vocab} for t in tokens)
        try:
            values = evaluate_naive(program, tokens)
        except NaiveEvalError as error:
            note(f"error: {error}")
            assume(False)
            raise  # unreachable
        n = len(tokens) + (program.header.bos is not None)
        assert set(values) == {"tokens", "indices", "length"} | {
            b.name for b in program.bindings if b.encoding is not None
        }
        for name, column in values.items():
            assert len(column) == n
            if name not in ("tokens", "indices", "length") and program.encoding_of(name) == "num":
                assert all(is_number(v) for v in column), (name, column)
        for binding in program.bindings:
            if isinstance(binding.node, SelectorWidth):
                assert all(0 <= w <= n for w in values[binding.name])  # type: ignore[operator]
        assert naive_outputs(program, tokens) == {k: values[k] for k in program.outputs}


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_program_input_is_valid(data: st.DataObject) -> None:
    program = data.draw(programs(max_bindings=2))
    tokens = data.draw(program_input(program))
    assert len(tokens) <= program.header.max_len
    assert program.header.bos not in tokens


@settings(max_examples=50, deadline=None)
@given(mutated_program_text("%vocab {1, 2};\nx = map(fn(t) -> t + 1, tokens);\noutput x;\n"))
def test_mutated_program_text_draws_strings(text: str) -> None:
    assert isinstance(text, str)
