"""Compiling back: lifted programs, unedited and edited, become weights that compute them."""

from __future__ import annotations

import re

import pytest

from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.compile_back import compile_program
from rasp_ir.frontends.transformer_programs.lift import (
    Checks,
    compare,
    exhaustive_inputs,
    fuzz_inputs,
    lift,
    model_predictions,
)

from .conftest import random_model

CHECKS = Checks([], exhaustive_limit=400, fuzz=100)


def _inputs(model: object) -> list[list[str]]:
    config = model.config  # type: ignore[attr-defined]
    return exhaustive_inputs(config, 400)[0] + fuzz_inputs(config, 100, 7)


def test_unedited_round_trip_gives_identical_predictions_and_text() -> None:
    model = random_model(3, (2, 2, 2, 1, 1))
    lifted = lift(model, CHECKS)
    compiled = compile_program(lifted.program)
    inputs = _inputs(model)
    assert model_predictions(compiled, inputs) == model_predictions(model, inputs)
    assert lift(compiled, CHECKS).text == lifted.text


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


MINIMAL = """\
%vocab {"0", "1", "2", "</s>"}
%max_len 5
%bos "<s>"
attn_0_0_output = aggregate(select_closest(tokens, tokens, ==), indices);
mlp_0_0_output = map(fn(a, p) -> lookup((a, p), {(1, 2): 4, (2, 3): 5}, default=0),
    attn_0_0_output, indices);
num_attn_0_0_output : num = selector_width(select(tokens, tokens, ==));
prediction = map(fn(m, c) -> lookup(argmax(lookup(m, {0: 0, 4: 1, 5: 2}), 0.5 * c, 1.25),
    {0: "x", 1: "y", 2: "z"}), mlp_0_0_output, num_attn_0_0_output);
output prediction;
"""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("(1, 2): 4", "(1, 2): 5"),  # a changed table entry
        (
            "select_closest(tokens, tokens, ==)",
            "select_closest(tokens, tokens, "
            'fn(key, query) -> key == lookup(query, {"0": "1"}, default=query))',
        ),
        (
            "select(tokens, tokens, ==)",
            "select(indices, indices, fn(key, query) -> key == query - 1)",
        ),
    ],
)
def test_edited_programs_compile_to_models_that_compute_them(old: str, new: str) -> None:
    for text in (MINIMAL, _edit(MINIMAL, old, new)):
        program = load_program(text=text).program
        model = compile_program(program)
        _, found = compare(model, program, _inputs(model))
        assert found == []


def test_edited_lifted_table_compiles_as_written() -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    lifted = lift(model, CHECKS)
    lines = lifted.text.splitlines()
    table = next(i for i, line in enumerate(lines) if re.match(r"(num_)?mlp_.*\}, default=", line))
    old = lines[table].rsplit("}, default=", 1)[1].split(")")[0]
    entries = re.findall(r": (\d+)", lines[table])
    new = next(e for e in entries if e != old)  # a value the readout has weights for
    lines[table] = lines[table].replace(f"}}, default={old})", f"}}, default={new})")
    program = load_program(text="\n".join(lines)).program
    assert program != lifted.program
    compiled = compile_program(program)
    _, found = compare(compiled, program, _inputs(compiled))
    assert found == []


def test_predicates_a_transformer_program_cannot_express_are_refused() -> None:
    text = MINIMAL.replace(
        "select_closest(tokens, tokens, ==)", "select_closest(tokens, tokens, !=)"
    )
    with pytest.raises(RaspError) as error:
        compile_program(load_program(text=text).program)
    assert "accepts several keys" in str(error.value)


def test_non_float32_readout_weights_are_refused() -> None:
    text = MINIMAL.replace("0.5 * c", "0.1 * c")
    with pytest.raises(RaspError) as error:
        compile_program(load_program(text=text).program)
    assert "not a float32 number" in str(error.value)
