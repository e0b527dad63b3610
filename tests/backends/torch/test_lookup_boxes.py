"""Categorical maps of several one-hot leaves compile into nested boxes when that is narrower
than one unit per class combination, and stay exact."""

from __future__ import annotations

import itertools
import random

import pytest

from rasp_ir.backends.torch import mlp

from .helpers import ROOT, all_inputs, check, example, program

TRACR_DETECT_PATTERN_MLP = 6  # rasp-semantics §13.2


def test_detect_pattern_is_no_wider_than_tracr_and_exact() -> None:
    prog = example(ROOT / "examples" / "detect_pattern.rasp", max_len=6, vocab_size=4)
    model = check(prog, all_inputs(prog, 6))
    assert model.config.n_layers == 1
    assert model.config.d_mlp <= TRACR_DETECT_PATTERN_MLP


@pytest.mark.parametrize("seed", range(12))
def test_random_three_input_maps_are_exact(seed: int) -> None:
    rng = random.Random(seed)
    cases = [
        (x, y, z, rng.randrange(3))
        for x, y, z in itertools.product(("true", "false"), ("a", "b", "c"), (0, 1, 2))
    ]
    body = " else ".join(
        f'{v} if x == {x} and y == "{y}" and z == {z}' for x, y, z, v in cases[:-1]
    )
    text = f"""
%vocab chars "abc"
%max_len 4
a = map(fn(t) -> t == "a", tokens);
b = aggregate(select(indices, indices - 1, ==), tokens);
c = map(fn(i) -> i % 3, indices);
out = map(fn(x, y, z) -> {body} else {cases[-1][3]}, a, b, c);
output out;
"""
    prog = program(text)
    check(prog, all_inputs(prog, 4))


@pytest.mark.parametrize("limit", ["MAX_BOX_SEARCH", "MAX_BOX_CELLS"])
def test_past_the_search_limits_the_unit_per_combination_lookup_is_kept(
    limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mlp, limit, 1)
    prog = example(ROOT / "examples" / "detect_pattern.rasp", max_len=6, vocab_size=4)
    model = check(prog, all_inputs(prog, 6))
    assert model.config.d_mlp == 8
