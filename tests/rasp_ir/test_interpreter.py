"""The reference interpreter on hand-built programs: exact outputs, errors, ragged batches."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret, run
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
    SelectorNot,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.naive import naive_outputs
from rasp_ir.values import Value


def sop(name: str, node: Node, encoding: Encoding = "cat") -> Binding:
    return Binding(name, node, encoding)


def selector(name: str, node: Node) -> Binding:
    return Binding(name, node, None)


def program(
    bindings: Sequence[Binding],
    outputs: Sequence[str],
    vocab: Sequence[Value] = tuple("abcdxy"),
    max_len: int = 5,
    bos: Value = None,
    causal: bool = False,
) -> Program:
    header = Header(tuple(vocab), max_len, bos, causal)
    return Program(header, tuple(bindings), tuple(outputs))


OPP = Map(
    Lambda(
        ("length", "indices"),
        Binary("-", Binary("-", Param("length"), Param("indices")), Const(1)),
    ),
    ("length", "indices"),
)
REVERSE = [
    sop("opp", OPP),
    selector("flip", Select("indices", "opp", Comparison("=="))),
    sop("reverse", Aggregate("flip", "tokens")),
]
HIST = [
    selector("same", Select("tokens", "tokens", Comparison("=="))),
    sop("hist", SelectorWidth("same")),
]
IS_X = Map(
    Lambda(("t",), IfElse(Binary("==", Param("t"), Const("x")), Const(1), Const(0))), ("tokens",)
)
FRAC_PREVS = [
    sop("is_x", IS_X, "num"),
    selector("prevs", Select("indices", "indices", Comparison("<="))),
    sop("frac", Aggregate("prevs", "is_x", "mean", 0), "num"),
    sop("big", Map(Lambda(("v",), Binary(">", Param("v"), Const(Fraction(3, 5)))), ("frac",))),
]


def test_reverse() -> None:
    assert run(program(REVERSE, ["reverse"]), list("abcd")) == {"reverse": list("dcba")}


def test_hist() -> None:
    assert run(program(HIST, ["hist"]), list("abca")) == {"hist": [2, 1, 1, 2]}


def test_frac_prevs_is_exact() -> None:
    result = run(program(FRAC_PREVS, ["frac"]), list("xyxx"))
    assert result["frac"] == [1, Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)]


def test_threshold_on_frac_prevs_sees_two_thirds() -> None:
    """rasp-semantics §16.1: tracr snaps 2/3 to 1/2 and answers False at the last position."""
    assert run(program(FRAC_PREVS, ["big"]), list("xxa")) == {"big": [True, True, True]}


def test_frac_prevs_of_no_match_is_number_zero() -> None:
    assert run(program(FRAC_PREVS, ["frac"]), list("ab"))["frac"] == [0, 0]


def test_undefined_propagates_through_map() -> None:
    """rasp-semantics §16.4: shift by two, then subtract one; None stays None."""
    shift = Lambda(("k", "q"), Binary("==", Param("k"), Binary("+", Param("q"), Const(2))))
    bindings = [
        selector("ahead", Select("indices", "indices", shift)),
        sop("s", Aggregate("ahead", "tokens")),
        sop("m", Map(Lambda(("x",), Binary("-", Param("x"), Const(1))), ("s",))),
    ]
    result = run(program(bindings, ["s", "m"], vocab=[1, 2, 3, 4]), [1, 2, 3, 4])
    assert result == {"s": [3, 4, None, None], "m": [2, 3, None, None]}


def test_map_default_replaces_undefined_input() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        sop("prev", Aggregate("before", "indices", "max")),
        sop("filled", Map(Lambda(("x",), Param("x")), ("prev",), default=-1)),
    ]
    assert run(program(bindings, ["filled"]), list("abc")) == {"filled": [-1, 0, 1]}


def test_causal_length_is_prefix_length() -> None:
    bindings = [sop("n", Map(Lambda(("x",), Param("x")), ("length",)))]
    assert run(program(bindings, ["n"], causal=True), list("abc")) == {"n": [1, 2, 3]}
    assert run(program(bindings, ["n"]), list("abc")) == {"n": [3, 3, 3]}


def test_causal_masks_later_keys() -> None:
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("count", SelectorWidth("all")),
        sop("total", Aggregate("all", "indices", "sum")),
    ]
    result = run(program(bindings, ["count", "total"], causal=True), list("abcd"))
    assert result == {"count": [1, 2, 3, 4], "total": [0, 1, 3, 6]}


def test_bos_is_a_real_position() -> None:
    bindings = [sop("n", Map(Lambda(("x",), Param("x")), ("length",)))]
    prog = program(bindings, ["n"], bos="<s>")
    evaluation = interpret(prog, [list("ab")])
    assert evaluation.values("tokens") == [["<s>", "a", "b"]]
    assert evaluation.values("indices") == [[0, 1, 2]]
    assert evaluation.values("n") == [[3, 3, 3]]
    assert evaluation.lengths.tolist() == [3]


def closest(predicate: Lambda | Comparison, **header: Value) -> Program:
    bindings = [
        selector("near", SelectClosest("tokens", "tokens", predicate)),
        sop("where", Aggregate("near", "indices", default=-1)),
    ]
    return program(bindings, ["where"], max_len=8, **header)  # type: ignore[arg-type]


KEY_IS_A = Lambda(("k", "q"), Binary("==", Param("k"), Const("a")))


def test_select_closest_left_wins_ties_and_skips_self() -> None:
    # query 0: matches 0 (self) and 2 -> 2; query 1: 0 and 2 at distance 1 -> 0 (left);
    # query 2: matches 0 and 2 (self) -> 0.
    assert run(closest(KEY_IS_A), list("aba")) == {"where": [2, 0, 0]}


def test_select_closest_nearest_match_wins() -> None:
    assert run(closest(KEY_IS_A), list("abbaba")) == {"where": [3, 0, 3, 5, 3, 3]}


def test_select_closest_self_only_when_sole_match() -> None:
    assert run(closest(KEY_IS_A), list("ab")) == {"where": [0, 0]}


def test_select_closest_empty_row_without_bos_gives_default() -> None:
    assert run(closest(KEY_IS_A), list("bb")) == {"where": [-1, -1]}


def test_select_closest_falls_back_to_bos() -> None:
    assert run(closest(KEY_IS_A, bos="<s>"), list("bb")) == {"where": [0, 0, 0]}
    assert run(closest(KEY_IS_A, bos="<s>"), list("ba")) == {"where": [2, 2, 2]}


def test_select_closest_causal_looks_back_only() -> None:
    assert run(closest(KEY_IS_A, causal=True), list("bab")) == {"where": [-1, 1, 1]}


def test_selector_combinators() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        selector(
            "is_a",
            Select("tokens", "tokens", Lambda(("k", "q"), Binary("==", Param("k"), Const("a")))),
        ),
        selector("both", SelectorAnd("before", "is_a")),
        selector("either", SelectorOr("before", "is_a")),
        selector("neither", SelectorNot("either")),
        sop("w_both", SelectorWidth("both")),
        sop("w_either", SelectorWidth("either")),
        sop("w_neither", SelectorWidth("neither")),
    ]
    result = run(program(bindings, ["w_both", "w_either", "w_neither"]), list("abab"))
    assert result == {"w_both": [0, 1, 1, 2], "w_either": [2, 2, 3, 3], "w_neither": [2, 2, 1, 1]}


def test_selector_not_respects_causal_mask() -> None:
    bindings = [
        selector("none", Select("tokens", "tokens", Comparison("false"))),
        selector("all", SelectorNot("none")),
        sop("w", SelectorWidth("all")),
    ]
    assert run(program(bindings, ["w"], causal=True), list("abc")) == {"w": [1, 2, 3]}


def test_max_min_sum_and_num_mean() -> None:
    bindings = [
        sop("half", Map(Lambda(("i",), Binary("/", Param("i"), Const(2))), ("indices",)), "num"),
        selector("upto", Select("indices", "indices", Comparison("<="))),
        sop("hi", Aggregate("upto", "tokens", "max")),
        sop("lo", Aggregate("upto", "tokens", "min")),
        sop("total", Aggregate("upto", "half", "sum", 0), "num"),
        sop("mean", Aggregate("upto", "half", "mean", 0), "num"),
    ]
    result = run(program(bindings, ["hi", "lo", "total", "mean"]), list("cadb"))
    assert result == {
        "hi": ["c", "c", "d", "d"],
        "lo": ["c", "a", "a", "a"],
        "total": [0, Fraction(1, 2), Fraction(3, 2), 3],
        "mean": [0, Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)],
    }


def test_num_mean_exact_with_huge_numbers() -> None:
    """Scaled sums that do not fit int64 fall back to Python integers."""
    big = 10**30
    bindings = [
        sop("v", Map(Lambda(("i",), Binary("+", Param("i"), Const(big))), ("indices",)), "num"),
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("mean", Aggregate("all", "v", "mean", 0), "num"),
    ]
    result = run(program(bindings, ["mean"], max_len=3), list("abc"))
    assert result == {"mean": [big + 1, big + 1, big + 1]}


def test_full_is_constant() -> None:
    bindings = [sop("seven", Full(7))]
    assert run(program(bindings, ["seven"]), list("ab")) == {"seven": [7, 7]}


def test_categorical_mean_of_equal_values_is_that_value() -> None:
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("common", Aggregate("all", "tokens")),
    ]
    assert run(program(bindings, ["common"]), list("aaa")) == {"common": ["a", "a", "a"]}


def test_categorical_mean_of_distinct_values_raises() -> None:
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("common", Aggregate("all", "tokens")),
    ]
    with pytest.raises(RaspError) as caught:
        interpret(program(bindings, ["common"]), [list("aaa"), list("aba")])
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "cat-mean"
    assert "'common'" in diagnostic.message
    assert "example 1 position 0" in diagnostic.message


def test_undefined_key_raises() -> None:
    bindings = [
        selector("before", Select("indices", "indices", Comparison("<"))),
        sop("prev", Aggregate("before", "tokens", "max")),
        selector("bad", Select("prev", "tokens", Comparison("=="))),
    ]
    with pytest.raises(RaspError) as caught:
        interpret(program(bindings, ["prev"]), [list("ab")])
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "undefined-select"
    assert "'bad'" in diagnostic.message
    assert "example 0 position 0" in diagnostic.message


def test_input_token_error_names_token_and_position() -> None:
    with pytest.raises(RaspError) as caught:
        interpret(program(HIST, ["hist"]), [list("ab"), list("abz")])
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "input-token"
    assert '"z" at example 1 position 2' in diagnostic.message


def test_input_token_keeps_true_and_one_apart() -> None:
    with pytest.raises(RaspError) as caught:
        interpret(program(HIST, ["hist"], vocab=[1, 2]), [[1, True]])
    assert caught.value.diagnostics[0].code == "input-token"


def test_input_length_error() -> None:
    with pytest.raises(RaspError) as caught:
        interpret(program(HIST, ["hist"], max_len=3), [list("abcd")])
    assert caught.value.diagnostics[0].code == "input-length"


def test_inference_errors_are_raised() -> None:
    bindings = [sop("inv", Map(Lambda(("i",), Binary("/", Const(1), Param("i"))), ("indices",)))]
    with pytest.raises(RaspError) as caught:
        interpret(program(bindings, ["inv"]), [list("ab")])
    assert caught.value.diagnostics[0].code == "map-error"


def test_ragged_batch_equals_single_runs() -> None:
    prog = program([*REVERSE, *HIST, *FRAC_PREVS], ["reverse", "hist", "frac", "big"])
    inputs = [list("xax"), [], list("bxxyx"), list("a"), list("yy")]
    outputs = interpret(prog, inputs).outputs()
    for b, tokens in enumerate(inputs):
        single = run(prog, tokens)
        assert {name: values[b] for name, values in outputs.items()} == single


def test_padded_positions_are_masked_in_selectors() -> None:
    evaluation = interpret(program(HIST, ["hist"]), [list("aa"), list("abca")])
    same = evaluation.selector("same")
    assert same.shape == (2, 4, 4)
    assert not same[0, :, 2:].any()
    assert not same[0, 2:, :].any()
    assert np.array_equal(same[0, :2, :2], np.ones((2, 2), dtype=bool))


def test_random_batches_agree_with_per_example_runs() -> None:
    rng = np.random.default_rng(0)
    prog = program([*REVERSE, *HIST, *FRAC_PREVS], ["reverse", "hist", "frac", "big"])
    vocab = list("abcdxy")
    inputs = [[vocab[t] for t in rng.integers(0, 6, rng.integers(0, 6))] for _ in range(40)]
    outputs = interpret(prog, inputs).outputs()
    for b, tokens in enumerate(inputs):
        expected_reverse = tokens[::-1]
        assert outputs["reverse"][b] == expected_reverse
        assert outputs["hist"][b] == [tokens.count(t) for t in tokens]
        prefix = [Fraction(tokens[: i + 1].count("x"), i + 1) for i in range(len(tokens))]
        assert outputs["frac"][b] == prefix


def test_overflow_fallbacks_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the int64 bound forced down, sums use Python ints and cat means use max/min."""
    prog = program([*REVERSE, *HIST, *FRAC_PREVS], ["reverse", "hist", "frac", "big"])
    inputs = [list("xax"), [], list("bxxyx"), list("a")]
    fast = interpret(prog, inputs).outputs()
    monkeypatch.setattr("rasp_ir.evaluation_steps.INT64_SAFE", 1)
    monkeypatch.setattr("rasp_ir.prepared.INT64_SAFE", 1)
    assert interpret(prog, inputs).outputs() == fast
    bindings = [
        selector("all", Select("tokens", "tokens", Comparison("true"))),
        sop("common", Aggregate("all", "tokens")),
    ]
    assert run(program(bindings, ["common"]), list("bb")) == {"common": ["b", "b"]}
    with pytest.raises(RaspError, match='distinct values "a" and "b"'):
        interpret(program(bindings, ["common"]), [list("ab")])


def test_select_closest_on_a_batch_of_empty_inputs() -> None:
    program = Program(
        Header(("a", "b"), 3),
        (Binding("near", SelectClosest("tokens", "tokens", Comparison("==")), None),),
        ("tokens",),
    )
    evaluation = interpret(program, [[]])
    assert evaluation.selector("near").shape == (1, 0, 0)
    assert evaluation.values("tokens") == [[]]


def _vote_source(score: str) -> str:
    """Seven shifted copies of the tokens and a map over all eight, too large to tabulate."""
    shifts = "".join(
        f"s{k} = aggregate(select(indices, indices, fn(k, q) -> k == q - {k}), tokens, "
        "default=0);\n"
        for k in range(1, 8)
    )
    return (
        "%vocab {0, 1, 2, 3, 4, 5, 6, 7}\n%max_len 8\n" + shifts + f"vote = {score};\n"
        "output vote;\n"
    )


VOTE = (
    "lookup(argmax(lookup(s1, {1: 0.5, 2: 1.25}, default=0) + 0.5 * s2 - s3, "
    's4 + s5 * 0.25 + 0.1, s6 - s7 + tokens), {0: "x", 1: "y", 2: "z"}, default="?")'
)


def test_map_too_large_to_tabulate_runs_on_observed_combinations() -> None:
    from rasp_ir.check import load_program

    result = load_program(text=_vote_source(VOTE))
    assert "map-not-enumerated" in [d.code for d in result.warnings]
    assert result.value_sets.sets["vote"] == ("?", "x", "y", "z")
    outputs = interpret(result.program, [[1, 2, 3, 4, 5, 6, 7, 0], [0] * 8]).outputs()
    assert outputs["vote"] == [["z"] * 7 + ["y"], ["y"] * 8]


@pytest.mark.parametrize(
    "score",
    [VOTE, VOTE.replace("s6 - s7", "(s6 if s7 > 2 else -s6)")],
    ids=["by-columns", "one-by-one"],
)
def test_a_map_too_large_to_tabulate_equals_the_naive_evaluator(score: str) -> None:
    from rasp_ir.check import load_program

    program = load_program(text=_vote_source(score)).program
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 8, int(rng.integers(1, 9))).tolist() for _ in range(300)]
    got = interpret(program, inputs).outputs()["vote"]
    assert got == [naive_outputs(program, tokens)["vote"] for tokens in inputs]


def test_an_empty_batch_with_bos() -> None:
    evaluation = interpret(program(HIST, ["hist"], bos="BOS"), [])
    assert evaluation.outputs() == {"hist": []}
    assert evaluation.selector("same").shape == (0, 1, 1)
