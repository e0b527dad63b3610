"""Lifting: random and trained models become programs that agree with them everywhere checked."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch

from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.expr import apply_lambda
from rasp_ir.frontends.transformer_programs.lift import (
    Checks,
    certify,
    heads_of,
    lift,
    lift_model,
    lift_run,
    mlp_outputs,
    mlps_of,
)
from rasp_ir.frontends.transformer_programs.structure import variables
from rasp_ir.ir import Map

from .conftest import random_model

CHECKS = Checks([], exhaustive_limit=400, fuzz=100)


@pytest.mark.parametrize(
    ("seed", "arch", "causal"),
    [(0, (1, 1, 1, 1, 1), False), (1, (2, 2, 2, 1, 1), False), (2, (2, 1, 2, 1, 1), True)],
)
def test_random_models_lift_with_full_agreement(
    seed: int, arch: tuple[int, int, int, int, int], causal: bool
) -> None:
    result = lift(random_model(seed, arch, causal), CHECKS)
    certificate = result.certificate
    assert certificate["agreement"] == 1.0
    assert certificate["disagreements"] == []
    assert certificate["inputs"]["exhaustive"]["max_length"] >= 3
    assert certificate["positions_compared"] > 1000


def test_lifted_text_names_heads_like_the_paper() -> None:
    text, _ = lift_model(random_model(1, (2, 2, 2, 1, 1)))
    assert "attn_0_0_output = aggregate(select_closest(" in text
    assert "num_attn_0_0_output : num = " in text
    assert "prediction = map(fn(" in text and "argmax(" in text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lifted_programs_bind_nothing_unused(seed: int) -> None:
    text, _ = lift_model(random_model(seed, (2, 2, 2, 1, 1)))
    codes = [d.code for d in load_program(text=text).diagnostics]
    assert "unused" not in codes


def test_a_disagreeing_program_fails_loudly_listing_inputs() -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    text, _ = lift_model(model)
    with torch.no_grad():
        model.unembed[:, 1] += 100.0  # now class "a" always wins, the text says otherwise
    with pytest.raises(RaspError) as error:
        certify(model, text, CHECKS, {})
    assert "disagrees with the model" in str(error.value)
    assert "model a, program" in str(error.value)


def test_numerical_mlp_table_covers_counts_up_to_n() -> None:
    model = random_model(1, (1, 0, 1, 0, 1))
    with torch.no_grad():
        model.layer(0).num_mlp_read.zero_()
        model.layer(0).num_mlp_read[0, :, 1] = 1.0  # both slots read num_attn_0_0_output
    result = lift(model, CHECKS)
    program = result.program
    name = "num_mlp_0_0_output"
    if name not in program.by_name or not isinstance(program.binding(name).node, Map):
        pytest.skip("the random MLP is constant")
    node = program.binding(name).node
    assert isinstance(node, Map)
    mlp = mlps_of(model)[0]
    _, num = variables(model.config)
    for count in (0, 1, model.config.n_ctx):
        expected = mlp_outputs(model, mlp, [(count, count)], (num[1], num[1]), model.config.vocab)
        assert apply_lambda(node.fn, (count,)) == expected[0]


def test_heads_read_argmax_of_their_gates() -> None:
    model = random_model(0, (1, 1, 0, 0, 0))
    head = heads_of(model)[0]
    layer = model.layer(0)
    assert head.query == int(layer.cat_query[0].argmax())
    assert head.predicate == tuple(int(i) for i in layer.cat_predicate[0].argmax(-1))


def test_trained_run_lifts_with_certified_agreement(run_dir: Path) -> None:
    result = lift_run(run_dir, exhaustive_limit=400, fuzz=100)
    certificate = result.certificate
    assert certificate["agreement"] == 1.0
    assert certificate["inputs"]["test_split"]["inputs"] > 0
    assert certificate["source"]["task"] == "hist"
    assert Fraction(certificate["agreement"]) == 1
