"""Counts modulo a period: a symbol whose effect repeats is counted through its canonical
representative, so the output table has the same size for every ``max_len``; the programs equal
their machines on every short input and on long random ones."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from rasp_ir.api import Value, format_program, interpret, ir
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.counts import Cycle, counts, cycle
from rasp_ir.frontends.mips.lift import construct, lifted_program
from rasp_ir.frontends.mips.machine import FiniteMachine, load_machine

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"


def outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def agrees(m: FiniteMachine, max_len: int, short: int, samples: int = 200) -> None:
    """The counts program equals ``m`` on every input up to ``short`` and on random inputs of
    length ``max_len``."""
    program = lifted_program(m, construct(m, max_len, "counts"), max_len)
    rng = random.Random(0)
    inputs = [list(x) for n in range(1, short + 1) for x in itertools.product(m.tokens, repeat=n)]
    inputs += [[rng.choice(m.tokens) for _ in range(max_len)] for _ in range(samples)]
    assert outputs(program, inputs) == m.run_tokens(inputs)


# Symbol 0 counts mod 2, symbol 1 mod 3; the output is the pair of residues coded 3*a + b.
TWO_PERIODS = FiniteMachine(
    (0, 1),
    tuple(f"{a}{b}" for a in range(2) for b in range(3)),
    0,
    tuple((3 * ((a + 1) % 2) + b, 3 * a + (b + 1) % 3) for a in range(2) for b in range(3)),
    tuple(3 * a + b for a in range(2) for b in range(3)),
)
# Symbol 1 walks 0 -> 1 -> 2 -> 3 -> 4 -> 2: it repeats from count 2 with period 3; symbol 0
# does nothing.
TAIL_AND_CYCLE = FiniteMachine(
    (0, 1), tuple("01234"), 0, ((0, 1), (1, 2), (2, 3), (3, 4), (4, 2)), (0, 1, 2, 3, 4)
)
# Saturates: the number of 1s, at most 3 (repeats from count 3 with period 1).
SATURATING = FiniteMachine((0, 1), tuple("0123"), 0, ((0, 1), (1, 2), (2, 3), (3, 3)), (0, 1, 2, 3))


def test_cycles_are_read_off_the_powers_of_each_symbol() -> None:
    assert cycle(TWO_PERIODS, 0) == Cycle(0, 2)
    assert cycle(TWO_PERIODS, 1) == Cycle(0, 3)
    assert cycle(TAIL_AND_CYCLE, 1) == Cycle(2, 3)
    assert cycle(SATURATING, 1) == Cycle(3, 1)


def test_mod5_counter_tables_residues_whatever_the_length() -> None:
    m = load_machine(EXAMPLES / "mod5_counter.json")
    sizes = {n: construct(m, n, "counts").table_entries for n in (10, 40, 500)}
    # Residue combinations whose counts fit in 10 inputs; from 16 inputs on, all of them.
    assert sizes[10] == 400
    assert sizes[40] == sizes[500] == 500
    built = construct(m, 500, "counts")
    assert built.details["count_reductions"] == ["count % 5"] * 4
    text = " ".join(format_program(lifted_program(m, built, 500)).split())
    assert "lookup( (c0 % 5, c1 % 5, c2 % 5, c3 % 5)," in text
    agrees(m, 12, 4)
    agrees(m, 300, 1, samples=50)


def test_parity_counts_mod_2() -> None:
    m = load_machine(EXAMPLES / "parity.json")
    built = construct(m, 1000, "counts")
    assert built.table_entries == 1
    assert built.details["count_reductions"] == ["count % 2"]
    agrees(m, 9, 9)
    agrees(m, 1000, 1, samples=20)


@pytest.mark.parametrize("m", [TWO_PERIODS, TAIL_AND_CYCLE, SATURATING])
def test_periodic_machines_equal_the_machine(m: FiniteMachine) -> None:
    agrees(m, 9, 9)
    agrees(m, 200, 1, samples=50)
    assert construct(m, 200, "counts").table_entries == construct(m, 20, "counts").table_entries


def test_counts_are_not_reduced_where_no_count_repeats() -> None:
    built = counts(TAIL_AND_CYCLE, 4)
    assert built is not None
    assert built.details["count_reductions"] == ["count"]
    assert " % " not in format_program(lifted_program(TAIL_AND_CYCLE, built, 4))
    agrees(TAIL_AND_CYCLE, 4, 4, samples=0)
    reduced = counts(TAIL_AND_CYCLE, 5)
    assert reduced is not None
    assert reduced.details["count_reductions"] == ["count below 2, else 2 + (count - 2) % 3"]
