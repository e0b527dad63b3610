"""Value-set inference: exact sets, soundness against the interpreter, and its diagnostics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from fractions import Fraction

import pytest

from rasp_ir.interpreter import interpret
from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Comparison,
    Const,
    Encoding,
    Full,
    Header,
    IfElse,
    Lambda,
    Map,
    Node,
    Param,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorWidth,
)
from rasp_ir.values import Value, canonical_values, normalize_number, value_key
from rasp_ir.valuesets import ValueSetResult, infer_value_sets, mean_values, sum_values


def sop(
    name: str, node: Node, encoding: Encoding = "cat", domain: Sequence[Value] | None = None
) -> Binding:
    return Binding(name, node, encoding, None if domain is None else tuple(domain))


def selector(name: str, node: Node) -> Binding:
    return Binding(name, node, None)


def infer(
    bindings: Sequence[Binding],
    vocab: Sequence[Value] = tuple("abx"),
    max_len: int = 5,
    bos: Value = None,
    causal: bool = False,
) -> ValueSetResult:
    header = Header(tuple(vocab), max_len, bos, causal)
    return infer_value_sets(Program(header, tuple(bindings), ()))


def codes(result: ValueSetResult) -> list[str]:
    return [d.code for d in result.diagnostics]


IDENTITY = Lambda(("x",), Param("x"))
IS_X = Map(
    Lambda(("t",), IfElse(Binary("==", Param("t"), Const("x")), Const(1), Const(0))), ("tokens",)
)
PREVS = Select("indices", "indices", Comparison("<="))


def test_primitives() -> None:
    result = infer([], vocab=["b", "a"], max_len=3, bos="<s>")
    assert result.sets == {
        "tokens": ("<s>", "a", "b"),
        "indices": (0, 1, 2, 3),
        "length": (1, 2, 3, 4),
    }
    assert result.diagnostics == []


def test_causal_length_set_is_unchanged() -> None:
    assert infer([], max_len=3, causal=True).sets["length"] == (1, 2, 3)


def test_frac_prevs_has_every_fraction() -> None:
    """rasp-semantics §16.1: all j/k with 0 <= j <= k <= max_len, not only 1/k."""
    bindings = [
        sop("is_x", IS_X, "num"),
        selector("prevs", PREVS),
        sop("frac", Aggregate("prevs", "is_x", "mean", 0), "num"),
    ]
    result = infer(bindings, max_len=5)
    expected = {normalize_number(Fraction(j, k)) for k in range(1, 6) for j in range(k + 1)}
    assert result.sets["frac"] == canonical_values(expected)
    assert Fraction(2, 3) in result.sets["frac"]
    assert Fraction(3, 4) in result.sets["frac"]
    assert result.diagnostics == []


def test_mean_and_sum_values() -> None:
    assert mean_values([Fraction(1, 2), 1], 2) == (Fraction(1, 2), Fraction(3, 4), 1)
    assert mean_values([-1, 2], 2) == (-1, Fraction(1, 2), 2)
    assert sum_values([1, 2], 3) == (1, 2, 3, 4, 5, 6)
    assert sum_values(["a", None], 3) == ()


def test_map_over_same_input_twice_uses_the_diagonal() -> None:
    diff = Map(Lambda(("a", "b"), Binary("-", Param("a"), Param("b"))), ("indices", "indices"))
    assert infer([sop("zero", diff)]).sets["zero"] == (0,)


def test_map_of_undefined_gives_default() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        sop("prev", Aggregate("before", "tokens", "max")),
        sop("up", Map(IDENTITY, ("prev",), default="-")),
    ]
    result = infer(bindings)
    assert result.sets["prev"] == (None, "a", "b", "x")
    assert result.sets["up"] == ("-", "a", "b", "x")


def test_categorical_aggregate_default_only_when_row_can_be_empty() -> None:
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        selector("eq", Select("tokens", "tokens", Comparison("=="))),
        sop("from_all", Aggregate("all", "tokens", default="-")),
        sop("from_eq", Aggregate("eq", "tokens", default="-")),
    ]
    result = infer(bindings, causal=True)
    assert result.sets["from_all"] == ("a", "b", "x")
    assert result.sets["from_eq"] == ("-", "a", "b", "x")


def test_select_closest_with_bos_is_never_empty() -> None:
    closest = SelectClosest("tokens", "tokens", Comparison("=="))
    bindings = [selector("near", closest), sop("got", Aggregate("near", "indices", default=-1))]
    assert -1 not in infer(bindings, bos="<s>").sets["got"]
    assert -1 in infer(bindings).sets["got"]


def test_selector_width_and_full() -> None:
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("width", SelectorWidth("all")),
        sop("seven", Full(7)),
    ]
    result = infer(bindings, max_len=3, bos="<s>")
    assert result.sets["width"] == (0, 1, 2, 3, 4)
    assert result.sets["seven"] == (7,)


def test_max_min_sets_and_sum() -> None:
    bindings = [
        selector("prevs", PREVS),
        sop("hi", Aggregate("prevs", "indices", "max", default=-1)),
        sop("total", Aggregate("prevs", "indices", "sum", default=0)),
    ]
    result = infer(bindings, max_len=3)
    assert result.sets["hi"] == (-1, 0, 1, 2)
    assert result.sets["total"] == tuple(range(7))


def test_sums_over_at_most_one_key_take_the_values_themselves() -> None:
    # A selector that picks at most one key (an index match, the closest match, a conjunction
    # with either) sums to one of the s-op's values or the default, not sums of several.
    shift = Map(Lambda(("i",), Binary("-", Param("i"), Const(1))), ("indices",))
    ten = Map(Lambda(("i",), Binary("*", Const(10), Param("i"))), ("indices",))
    bindings = [
        sop("previous", shift),
        sop("tens", ten, "num"),
        selector("back", Select("indices", "previous", Comparison("=="))),
        selector("near", SelectClosest("tokens", "tokens", Comparison("=="))),
        selector("both", SelectorAnd("back", "near")),
        selector("prevs", PREVS),
        selector("either", SelectorAnd("prevs", "back")),
        sop("one_back", Aggregate("back", "tens", "sum", default=0), "num"),
        sop("closest", Aggregate("near", "tens", "mean", default=0), "num"),
        sop("anded", Aggregate("either", "tens", "sum", default=0), "num"),
        sop("many", Aggregate("prevs", "tens", "sum", default=0), "num"),
    ]
    result = infer(bindings, max_len=4)
    for name in ("one_back", "closest", "anded"):
        assert result.sets[name] == (0, 10, 20, 30), name
    assert result.sets["many"] == tuple(range(0, 130, 10))


def test_map_error_reported_once_with_inputs() -> None:
    inverse = Map(Lambda(("i", "n"), Binary("/", Param("n"), Param("i"))), ("indices", "length"))
    result = infer([sop("inv", inverse)], max_len=3)
    assert codes(result) == ["map-error"]
    message = result.diagnostics[0].message
    assert "'inv'" in message and "(0, 1)" in message and "division by zero" in message
    assert result.diagnostics[0].hint == "guard the function or declare a narrower input domain"
    assert Fraction(3, 2) in result.sets["inv"]


def test_map_too_large_is_refused_quickly() -> None:
    body = Binary("*", Param("a"), Binary("*", Param("b"), Param("c")))
    three = Map(Lambda(("a", "b", "c"), body), ("tokens", "indices", "length"))
    started = time.perf_counter()
    result = infer([sop("big", three)], vocab=list(range(100)), max_len=200)
    assert time.perf_counter() - started < 5
    assert codes(result) == ["map-too-large"]


def test_an_affine_map_too_large_to_enumerate_takes_the_sum_of_its_scaled_sets() -> None:
    # 100 * 200 * 201 combinations, but a - 2 * b + c + 1 over three ranges is one range.
    body = Binary(
        "+",
        Binary("+", Binary("-", Param("a"), Binary("*", Const(2), Param("b"))), Param("c")),
        Const(1),
    )
    three = Map(Lambda(("a", "b", "c"), body), ("tokens", "indices", "length"))
    started = time.perf_counter()
    result = infer([sop("big", three)], vocab=list(range(100)), max_len=200)
    assert time.perf_counter() - started < 5
    assert not result.diagnostics
    assert result.sets["big"] == tuple(range(0 - 2 * 199 + 1 + 1, 99 + 200 + 1 + 1))


def test_num_diagnostics() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        sop("maybe", Aggregate("before", "indices", "max"), "num"),
        sop("word", Map(IDENTITY, ("tokens",)), "num"),
        sop("flag", Map(Lambda(("t",), Binary("==", Param("t"), Const("x"))), ("tokens",)), "num"),
    ]
    result = infer(bindings)
    assert codes(result) == ["num-undefined", "num-not-number", "num-not-number"]
    assert "'maybe'" in result.diagnostics[0].message
    assert '"a"' in result.diagnostics[1].message


def test_sum_of_strings_is_an_error() -> None:
    bindings = [selector("prevs", PREVS), sop("s", Aggregate("prevs", "tokens", "sum", 0))]
    assert codes(infer(bindings)) == ["num-not-number"]


def test_max_of_possibly_undefined_values_is_an_error() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        sop("prev", Aggregate("before", "tokens", "max")),
        sop("top", Aggregate("before", "prev", "max")),
    ]
    assert codes(infer(bindings)) == ["aggregate-not-ordered"]


def test_declared_domain_is_checked() -> None:
    double = Map(Lambda(("i",), Binary("*", Param("i"), Const(2))), ("indices",))
    result = infer([sop("d", double, domain=[0, 2, 4, True])], max_len=5)
    assert codes(result) == ["domain"]
    assert "6, 8" in result.diagnostics[0].message
    assert result.sets["d"] == (0, 2, 4, 6, 8)
    assert infer([sop("d", double, domain=range(0, 10, 2))], max_len=5).diagnostics == []


def test_domain_keeps_true_and_one_apart() -> None:
    one = sop("one", Full(1), domain=[True])
    assert codes(infer([one])) == ["domain"]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bos", [None, "<s>"])
def test_sets_contain_every_interpreted_value(causal: bool, bos: Value) -> None:
    bindings = [
        sop("is_x", IS_X, "num"),
        selector("prevs", PREVS),
        sop("frac", Aggregate("prevs", "is_x", "mean", 0), "num"),
        sop("total", Aggregate("prevs", "is_x", "sum", 0), "num"),
        selector("near", SelectClosest("tokens", "tokens", Comparison("=="))),
        sop("where", Aggregate("near", "indices", default=-1)),
        sop("width", SelectorWidth("prevs")),
        sop("mix", Map(Lambda(("f", "w"), Binary("*", Param("f"), Param("w"))), ("frac", "width"))),
    ]
    header = Header(tuple("abx"), 4, bos, causal)
    program = Program(header, tuple(bindings), ())
    result = infer_value_sets(program)
    inputs = [
        [("a", "b", "x")[(i >> (2 * p)) % 3] for p in range(n)] for n in range(5) for i in range(81)
    ]
    evaluation = interpret(program, inputs, value_sets=result)
    for name in ("frac", "total", "where", "width", "mix"):
        allowed = {value_key(v) for v in result.sets[name]}
        seen = {value_key(v) for row in evaluation.values(name) for v in row}
        assert seen <= allowed, name
