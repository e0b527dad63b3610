"""Lifting: random and trained models become programs that agree with them everywhere checked."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from rasp_ir.certificate import LiftedSource, certificate_from_json, sha256_of_text
from rasp_ir.check import check_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.expr import apply_lambda
from rasp_ir.frontends.transformer_programs.bindings import mlp_outputs
from rasp_ir.frontends.transformer_programs.lift import (
    Checks,
    certify,
    heads_of,
    lift,
    lift_model,
    lift_run,
    mlps_of,
)
from rasp_ir.frontends.transformer_programs.structure import variables
from rasp_ir.ir import Map
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program

from .conftest import random_model

CHECKS = Checks([], exhaustive_limit=400, fuzz=100)


@pytest.mark.parametrize(
    ("seed", "arch", "causal"),
    [(0, (1, 1, 1, 1, 1), False), (1, (2, 2, 2, 1, 1), False), (2, (2, 1, 2, 1, 1), True)],
)
def test_random_models_lift_with_full_agreement(
    seed: int, arch: tuple[int, int, int, int, int], causal: bool
) -> None:
    certificate = lift(random_model(seed, arch, causal), CHECKS).certificate
    assert certificate.ok and certificate.agreement == 1.0
    assert certificate.disagreements == ()
    checks = {group.name: group for group in certificate.checks}
    assert checks["exhaustive"].selection == "exhaustive"
    assert checks["exhaustive"].max_length is not None and checks["exhaustive"].max_length >= 3
    assert (checks["fuzz"].selection, checks["fuzz"].seed) == ("samples", 0)
    assert certificate.positions_compared > 1000
    assert certificate.frontend == "transformer_programs"


def test_lifted_text_keeps_its_comments_and_parses_back_to_the_program() -> None:
    lifted = lift(random_model(1, (2, 2, 2, 1, 1)), CHECKS)
    text = lifted.text
    assert lifted.printed == text == format_program(lifted.program)  # printed once, reused
    assert text.startswith("# Lifted by 'rasp tp lift' from a Transformer Program (N = 6, k = 6")
    assert "\n\n# attn_0_0_output: nearest " in text
    assert "\n# Readout: the learned linear vote" in text
    assert parse_program(text, "<lifted>") == lifted.program
    assert lifted.certificate.program_sha256 == sha256_of_text(text)
    assert lifted.certificate.details["program_lines"] == len(text.splitlines())


def test_lifted_text_names_heads_like_the_paper() -> None:
    text = format_program(lift_model(random_model(1, (2, 2, 2, 1, 1))).program)
    assert "attn_0_0_output = aggregate(\n    select_closest(\n" in text
    assert "num_attn_0_0_output : num = " in text
    assert "prediction = map(\n    fn(" in text and "argmax(" in text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lifted_programs_bind_nothing_unused(seed: int) -> None:
    program = lift_model(random_model(seed, (2, 2, 2, 1, 1))).program
    codes = [d.code for d in check_program(program).diagnostics]
    assert "unused" not in codes


def test_a_disagreeing_program_fails_loudly_listing_inputs() -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    program = lift_model(model).program
    with torch.no_grad():
        model.unembed[:, 1] += 100.0  # now class "a" always wins, the program says otherwise
    with pytest.raises(RaspError) as error:
        certify(model, program, CHECKS, LiftedSource.of("<model>", "0" * 64))
    assert "transformer_programs frontend disagrees with its source" in str(error.value)
    assert 'source "a", program' in str(error.value)


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


def test_a_numerical_mlp_is_given_numbers_only() -> None:
    model = random_model(1, (1, 0, 1, 0, 1))
    mlp = mlps_of(model)[0]
    _, num = variables(model.config)
    exact = mlp_outputs(model, mlp, [(Fraction(7, 2), True)], (num[1], num[1]), ("a",))
    assert exact == mlp_outputs(model, mlp, [(Fraction(7, 2), 1)], (num[1], num[1]), ("a",))
    with pytest.raises(TypeError, match="not numbers"):
        mlp_outputs(model, mlp, [(1, "1")], (num[1], num[1]), model.config.vocab)


def test_heads_read_argmax_of_their_gates() -> None:
    model = random_model(0, (1, 1, 0, 0, 0))
    head = heads_of(model)[0]
    layer = model.layer(0)
    assert head.query == int(layer.cat_query[0].argmax())
    assert head.predicate == tuple(int(i) for i in layer.cat_predicate[0].argmax(-1))


def test_trained_run_lifts_with_certified_agreement(run_dir: Path) -> None:
    certificate = lift_run(run_dir, exhaustive_limit=400, fuzz=100).certificate
    assert certificate.ok
    checks = {group.name: group for group in certificate.checks}
    assert checks["test_split"].selection == "split" and checks["test_split"].inputs > 0
    assert certificate.source.path == str(run_dir)
    weights = json.loads((run_dir / "model.json").read_text())["sha256"]
    assert certificate.source.sha256 == weights
    assert certificate.source.details["task"] == "hist"
    assert certificate.source.details["weights_sha256"] == weights
    assert certificate.details["lifting"]["readout_exact_float64"] is True
    assert certificate_from_json(certificate.to_json()) == certificate
