"""Prefix max: machines whose state is the running maximum of a key of the input (a running max,
a running min, a key ranked out of token order, "a 1 has occurred") are detected, lifted in one
attention layer with a table as small as their outputs, equal the machine on every short input,
and compile to transformers that agree with the interpreter; other machines are refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rasp_ir.api import Value, check_program, format_program, interpret, ir, load_backend, verify
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct, lifted_program
from rasp_ir.frontends.mips.machine import FiniteMachine, load_machine
from rasp_ir.frontends.mips.prefix_max import prefix_max, state_ranks

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"


def running(symbols: int, rank: list[int], output: list[int]) -> FiniteMachine:
    """State 0 is the start, state 1 + a the running maximum symbol a (by ``rank``); it
    outputs ``output[a]``."""
    delta = [tuple(1 + a for a in range(symbols))]
    for held in range(symbols):
        delta.append(tuple(1 + (a if rank[a] > rank[held] else held) for a in range(symbols)))
    names = ("start", *(f"max{a}" for a in range(symbols)))
    return FiniteMachine(tuple(range(symbols)), names, 0, tuple(delta), (0, *output))


MAX_SEEN = running(5, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4])
MIN_SEEN = running(5, [4, 3, 2, 1, 0], [0, 1, 2, 3, 4])
# The key ranks 2 < 0 < 3 < 1 (not token order); the output is the parity of the winner.
OUT_OF_ORDER = running(4, [1, 3, 0, 2], [0, 1, 0, 1])
# Outputs 1 once a 1 has occurred.
SEEN_A_ONE = FiniteMachine((0, 1), ("none", "one"), 0, ((0, 1), (1, 1)), (0, 1))


def outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def every_input(m: FiniteMachine, max_len: int) -> list[list[int]]:
    return [list(x) for n in range(1, max_len + 1) for x in itertools.product(m.tokens, repeat=n)]


@pytest.mark.parametrize(
    ("m", "reduce", "key"),
    [
        (MAX_SEEN, "max", "tokens"),
        (MIN_SEEN, "min", "tokens"),
        (OUT_OF_ORDER, "max", "rank"),
        (SEEN_A_ONE, "max", "tokens"),
    ],
)
def test_running_maxima_lift_exactly_in_one_layer(m: FiniteMachine, reduce: str, key: str) -> None:
    built = prefix_max(m, 6)
    assert built is not None
    assert (built.details["reduce"], built.details["key"]) == (reduce, key)
    program = lifted_program(m, built, 6)
    assert outputs(program, every_input(m, 6)) == m.run_tokens(every_input(m, 6))
    checked = check_program(program)
    assert not checked.diagnostics and checked.allocation.n_layers == 1


def test_the_cheapest_construction_of_a_running_maximum_is_prefix_max() -> None:
    # counts applies too (the machine is commutative), but tables every count combination.
    assert construct(MIN_SEEN, 10).name == "prefix_max"
    text = format_program(lifted_program(MIN_SEEN, construct(MIN_SEEN, 10), 10))
    assert "aggregate(select(indices, indices, <=), tokens, reduce=min)" in text
    assert "machine_output = map(fn(m) -> m, running_min);" in text


def test_ranks_out_of_token_order_are_read_from_a_table() -> None:
    assert state_ranks(OUT_OF_ORDER) == {1: 1, 2: 3, 3: 0, 4: 2}
    text = format_program(lifted_program(OUT_OF_ORDER, construct(OUT_OF_ORDER, 8), 8))
    assert "running_rank = aggregate(select(indices, indices, <=), rank, reduce=max);" in text


@pytest.mark.parametrize("name", ["parity", "cycle4", "window3", "binary_addition"])
def test_machines_that_keep_no_running_maximum_are_refused(name: str) -> None:
    assert prefix_max(load_machine(EXAMPLES / f"{name}.json"), 6) is None
    assert state_ranks(load_machine(EXAMPLES / f"{name}.json")) is None


def test_a_step_to_a_third_state_is_not_a_maximum() -> None:
    # From max1, a 0 goes to a state of its own: not the larger of the two.
    m = FiniteMachine(
        (0, 1), ("s", "a", "b", "c"), 0, ((1, 2), (1, 2), (3, 2), (3, 3)), (0, 1, 2, 3)
    )
    assert prefix_max(m, 6) is None


@pytest.mark.parametrize("m", [MAX_SEEN, MIN_SEEN, OUT_OF_ORDER])
def test_prefix_max_programs_compile_to_exact_transformers(m: FiniteMachine) -> None:
    program = lifted_program(m, construct(m, 6, "prefix_max"), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=4, samples=200)
    assert report.ok, report.mismatches[:3]
