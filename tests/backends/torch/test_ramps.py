"""Gated ramps (backends/torch/mlp.py): ``length - indices - 1`` compiles to an MLP no wider
than tracr's (30 units at max_len 5, 272 at 16, rasp-semantics §13.2) and stays exact; a ramp is
used only where it is narrower than the step pairs and within its float32 tolerance."""

from __future__ import annotations

import pytest

from rasp_ir.backends.torch import mlp
from tests.backends.torch.helpers import (
    ROOT,
    all_inputs,
    check,
    example,
    program,
    random_inputs,
)

REVERSE = ROOT / "examples" / "reverse.rasp"
# tracr's MLP width for reverse: |length| x |indices| hidden units of its categorical MLP.
TRACR_REVERSE_WIDTH = {5: 30, 16: 272}


def test_reverse_is_exact_on_every_input_and_narrower_than_tracr_at_max_len_5() -> None:
    prog = example(REVERSE, max_len=5)
    model = check(prog, all_inputs(prog, 5))
    assert model.config.d_mlp == 25  # a base unit and 4 ramps per index
    assert model.config.d_mlp <= TRACR_REVERSE_WIDTH[5]


def test_reverse_at_max_len_16_is_narrower_than_tracr_and_exact() -> None:
    prog = example(REVERSE, max_len=16)
    model = check(prog, random_inputs(prog, 400) + all_inputs(prog, 2))
    assert model.config.d_mlp == 16 * 16
    assert model.config.d_mlp <= TRACR_REVERSE_WIDTH[16]


def test_every_length_reverses_at_max_len_16() -> None:
    prog = example(REVERSE, max_len=16, vocab_size=2)
    check(prog, [list("ab" * 8)[:n] for n in range(17)])


def test_a_ramp_outside_its_float32_tolerance_falls_back_to_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mlp, "RAMP_TOLERANCE", 0.0)
    prog = example(REVERSE, max_len=5)
    model = check(prog, all_inputs(prog, 5))
    assert model.config.d_mlp == 45  # a base unit and 4 step pairs per index


def test_steps_stay_where_they_are_narrower() -> None:
    # One threshold along the 9 lengths: a base unit and a step pair beat 8 ramps.
    prog = program(
        '%vocab {"a", "b"}\n%max_len 8\nbig = map(fn(n) -> n > 4, length);\noutput big;\n'
    )
    model = check(prog, all_inputs(prog, 8))
    assert model.config.d_mlp == 3
