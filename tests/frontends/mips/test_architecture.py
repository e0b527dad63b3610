"""The search space of reference §5: mixed-radix codes, their order, equivalence of widths
at depth 1, configurations and the JSON form."""

from __future__ import annotations

import random

import pytest

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.architecture import SPACE_SIZE, Architecture
from rasp_ir.frontends.mips.search import START_CODE
from rasp_ir.frontends.mips.tasks import get_task


def test_codes_round_trip_and_follow_the_digit_order() -> None:
    rng = random.Random(0)
    for code in [0, SPACE_SIZE - 1, *(rng.randrange(SPACE_SIZE) for _ in range(200))]:
        assert Architecture.decode(code).encode() == code
    assert Architecture.decode(0) == Architecture(1, 1, 1, 1, 1)
    assert Architecture.decode(SPACE_SIZE - 1) == Architecture(3, 3, 128, 256, 256)
    assert Architecture(1, 2, 1, 1, 1) > Architecture(1, 1, 128, 256, 256)


def test_the_sweep_starts_at_a_linear_rnn_of_two_hidden_units() -> None:
    assert Architecture.decode(START_CODE) == Architecture(1, 1, 2, 1, 1)


def test_widths_of_depth_one_mlps_are_irrelevant() -> None:
    assert Architecture(1, 1, 4, 200, 17).canonical() == Architecture(1, 1, 4, 1, 1)
    assert Architecture(2, 1, 4, 200, 17).canonical() == Architecture(2, 1, 4, 200, 1)
    assert Architecture(2, 3, 4, 200, 17).canonical() == Architecture(2, 3, 4, 200, 17)


def test_an_architecture_configures_an_rnn_for_a_task() -> None:
    config = Architecture(2, 1, 8, 64, 1).config(get_task("Binary_Addition"))
    assert (config.input_dim, config.output_dim, config.hidden_dim) == (2, 1, 8)
    assert (config.output_depth, config.output_width, config.hidden_depth) == (2, 64, 1)
    assert Architecture(2, 1, 8, 64, 1).describe() == "D=8, hidden MLP linear, output MLP 2x64"
    assert Architecture(2, 1, 8, 64, 1).slug() == "o2-h1-d8-ow64-hw1"


def test_json_round_trip_and_bad_input() -> None:
    architecture = Architecture(3, 2, 5, 7, 9)
    assert Architecture.from_json(architecture.to_json()) == architecture
    with pytest.raises(RaspError, match="not an architecture"):
        Architecture.from_json({"hidden_dim": 3})
    with pytest.raises(RaspError, match="must be integers"):
        Architecture.from_json(architecture.to_json() | {"hidden_dim": "3"})
    with pytest.raises(RaspError, match="outside the search space"):
        Architecture(4, 1, 1, 1, 1)
    with pytest.raises(RaspError, match="outside the search space"):
        Architecture.decode(SPACE_SIZE)
