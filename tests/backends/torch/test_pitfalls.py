"""tracr's silent failures (rasp-semantics §16) as regression tests: compiled == interpreted at
every position, undefined ones included."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch

from rasp_ir.backends.torch import BACKEND, compile_program, load_model, save_model
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.verify import verify
from tests.backends.torch.helpers import (
    EXAMPLES,
    all_inputs,
    check,
    example,
    program,
    random_inputs,
)

FRAC_THRESHOLD = """
%vocab {"x", "a"}
%max_len 5
is_x : num = map(fn(t) -> 1 if t == "x" else 0, tokens);
f : num = aggregate(select(indices, indices, <=), is_x, default=0);
big = map(fn(v) -> v > 0.6, f);
output big;
"""


def test_frac_prevs_threshold_uses_every_mean_16_1() -> None:
    prog = program(FRAC_THRESHOLD)
    model = check(prog, all_inputs(prog, 5))
    assert model.run([["x", "x", "a"]]).outputs["big"] == [[True, True, True]]


def test_categorical_aggregate_with_a_default() -> None:
    prog = program(
        """
        %vocab {"a", "b", "c"}
        %max_len 5
        prev = aggregate(select(indices, indices, fn(k, q) -> k == q - 1), tokens, default="z");
        output prev;
        """
    )
    model = check(prog, all_inputs(prog, 5))
    assert model.run([["a", "b"]]).outputs["prev"] == [["z", "a"]]


def test_same_expression_as_cat_and_num_16_2() -> None:
    prog = program(
        """
        %vocab {"x", "y"}
        %max_len 5
        c = map(fn(t) -> 1 if t == "x" else 0, tokens);
        n : num = map(fn(t) -> 1 if t == "x" else 0, tokens);
        moved = aggregate(select(indices, indices, ==), c);
        frac : num = aggregate(select(indices, indices, <=), n);
        output moved, frac;
        """
    )
    model = check(prog, all_inputs(prog, 5))
    labels = model.residual_labels
    assert "c:1" in labels and "moved:1" in labels and "frac" in labels
    assert model.run([["x", "y"]]).outputs == {"moved": [[1, 0]], "frac": [[1, Fraction(1, 2)]]}


def test_undefined_feeding_a_map_16_4() -> None:
    prog = program(
        """
        %vocab {1, 2, 3, 4}
        %max_len 4
        s = aggregate(select(indices, indices, fn(k, q) -> k == q + 2), tokens);
        m = map(fn(x) -> x - 1, s);
        output m;
        """
    )
    model = check(prog, all_inputs(prog, 4))
    assert model.run([[1, 2, 3, 4]]).outputs["m"] == [[2, 3, None, None]]


@pytest.mark.parametrize("encoding", ["cat", "num"])
def test_default_is_not_stored_at_bos_16_8(encoding: str) -> None:
    default = '"q"' if encoding == "cat" else "5"
    value = "tokens" if encoding == "cat" else "weight"
    prog = program(
        f"""
        %vocab {{"a", "b"}}
        %max_len 5
        weight : num = map(fn(t) -> 2 if t == "a" else 1/2, tokens);
        back = select(indices, indices, fn(k, q) -> k == q - 1);
        a : {encoding} = aggregate(back, {value}, default={default});
        b : {encoding} = aggregate(select(indices, indices, fn(k, q) -> k == q + 1), a);
        output a, b;
        """
    )
    model = check(prog, all_inputs(prog, 5))
    outputs = model.run([["a", "b", "a"]]).outputs
    assert outputs["b"][0][-1] == (None if encoding == "cat" else 0)


CAUSAL = ["length.rasp", "frac_prevs.rasp", "pair_balance.rasp", "hist.rasp", "dyck1.rasp"]


@pytest.mark.parametrize("name", CAUSAL)
def test_causal_compile_matches_causal_interpreter_and_masks_16_5(name: str) -> None:
    path = next(p for p in EXAMPLES if p.name == name)
    prog = example(path, 6)
    prog = type(prog)(
        type(prog.header)(prog.header.vocab, 6, causal=True), prog.bindings, prog.outputs
    )
    model = check(prog, all_inputs(prog, 4) + random_inputs(prog, 200))
    result = model.run(random_inputs(prog, 20), trace=True)
    for pattern in result.attention:
        upper = torch.ones(pattern.shape[-2:], dtype=torch.bool).triu(1)
        assert bool((pattern[..., upper] == 0).all())


def test_causal_compile_of_a_length_program_warns_issue_19() -> None:
    prog = example(next(p for p in EXAMPLES if p.name == "reverse.rasp"), 5)
    prog = type(prog)(
        type(prog.header)(prog.header.vocab, 5, causal=True), prog.bindings, prog.outputs
    )
    with pytest.warns(UserWarning, match="prefix"):
        model = compile_program(prog)
    assert model.info.warnings
    expected = interpret(prog, [["a", "b", "c"]]).outputs()["reverse"]
    assert model.run([["a", "b", "c"]]).outputs["reverse"] == expected


def test_numerical_values_too_close_for_float32_are_refused() -> None:
    from rasp_ir.backends.torch import compile_program
    from rasp_ir.diagnostics import RaspError
    from rasp_ir.syntax import parse_program

    source = (
        '%vocab {"(", ")"}\n%max_len 40\n'
        'opens : num = indicator(tokens == "(");\ncloses : num = indicator(tokens == ")");\n'
        "prefix = select(indices, indices, <=);\n"
        "balance : num = aggregate(prefix, opens) - aggregate(prefix, closes);\n"
        "output balance;\n"
    )
    with pytest.raises(RaspError) as caught:
        compile_program(parse_program(source, "close.rasp"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "unsupported"
    assert "too close to be told apart in float32" in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == 6


CATEGORICAL_MEAN = """
%vocab {"a", "b"}
%max_len 4
HEADER
m = aggregate(select(tokens, tokens, fn(k, q) -> k != q or q == "a"), tokens, default="x");
output m;
"""


@pytest.mark.parametrize("header", ["", '%bos "<s>"', "%causal"], ids=["plain", "bos", "causal"])
def test_a_categorical_mean_of_distinct_values_raises_like_the_interpreter_16_7(
    header: str,
) -> None:
    """The interpreter refuses an input where a categorical mean averages distinct values
    (``cat-mean``); the model finds the mixed one-hot when it runs and raises the same error,
    on exactly the same inputs, and gives the interpreter's values on every other."""
    prog = program(CATEGORICAL_MEAN.replace("HEADER", header))
    report = verify(prog, BACKEND, exhaustive_max_len=4)
    assert report.ok, report.mismatches[:3]
    assert 0 < report.errors < report.checked


def test_a_saved_model_keeps_its_categorical_mean_check(tmp_path: Path) -> None:
    prog = program(CATEGORICAL_MEAN.replace("HEADER", ""))
    save_model(compile_program(prog), tmp_path / "mean")
    loaded = load_model(tmp_path / "mean")
    assert loaded.run([["a", "a"]]).outputs["m"] == [["a", "a"]]
    with pytest.raises(RaspError) as caught:
        loaded.run([["b", "a"]])
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "cat-mean"
    assert "'m' averages distinct values at example 0 position 1" in diagnostic.message
