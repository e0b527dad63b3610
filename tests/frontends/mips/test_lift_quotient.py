"""Quotient doubling: an adder's Moore machine (carry and digit) is lifted through its carry alone
(3 monoid elements whatever the base), a long division through its remainder; the programs equal
the machines on every short input, use ceil(log2(max_len - 1)) attention layers, random machines
lift exactly, and the compiled transformers agree with the interpreter."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir.api import Value, check_program, interpret, ir, load_backend, verify
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct, lifted_program
from rasp_ir.frontends.mips.machine import FiniteMachine
from rasp_ir.frontends.mips.quotient_doubling import output_quotient, quotient_doubling


def adder(base: int) -> FiniteMachine:
    """Base-``base`` addition, least significant digit first: the state is (carry, digit), the
    output the digit."""
    states = [(c, d) for c in range(2) for d in range(base)]
    pairs = [(x, y) for x in range(base) for y in range(base)]
    index = {s: i for i, s in enumerate(states)}
    delta = tuple(tuple(index[divmod(x + y + c, base)] for x, y in pairs) for c, _ in states)
    names = tuple(f"c{c}d{d}" for c, d in states)
    return FiniteMachine(tuple(pairs), names, 0, delta, tuple(d for _, d in states))


def long_division(divisor: int) -> FiniteMachine:
    """Bits most significant first divided by ``divisor``: the state is (remainder, quotient
    bit), the output the quotient bit."""
    states = [(r, q) for r in range(divisor) for q in range(2)]
    index = {s: i for i, s in enumerate(states)}
    delta = tuple(
        tuple(index[((2 * r + x) % divisor, (2 * r + x) // divisor)] for x in range(2))
        for r, _ in states
    )
    names = tuple(f"r{r}q{q}" for r, q in states)
    return FiniteMachine((0, 1), names, 0, delta, tuple(q for _, q in states))


def outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def every_input(m: FiniteMachine, max_len: int) -> list[list[int]]:
    return [list(x) for n in range(1, max_len + 1) for x in itertools.product(m.tokens, repeat=n)]


def target_layers(max_len: int) -> int:
    return 0 if max_len == 1 else max(1, math.ceil(math.log2(max_len - 1)))


@pytest.mark.parametrize("base", [2, 3, 7])
def test_an_adder_is_lifted_through_its_carry(base: int) -> None:
    m = adder(base)
    assert len(set(output_quotient(m).values())) == 2
    built = quotient_doubling(m, 10)
    assert built.details == {"quotient_states": 2, "monoid_elements": 3}
    assert construct(m, 10).name == "quotient_doubling"
    program = lifted_program(m, built, 10)
    inputs = every_input(m, 3 if base == 7 else 4)
    assert outputs(program, inputs) == m.run_tokens(inputs)
    checked = check_program(program)
    assert not checked.diagnostics and checked.allocation.n_layers == 4


@pytest.mark.parametrize("divisor", [3, 5, 7])
def test_a_long_division_is_lifted_through_its_remainder(divisor: int) -> None:
    m = long_division(divisor)
    assert len(set(output_quotient(m).values())) == divisor
    program = lifted_program(m, quotient_doubling(m, 8), 8)
    inputs = every_input(m, 8)
    assert outputs(program, inputs) == m.run_tokens(inputs)


@pytest.mark.parametrize("max_len", [1, 2, 3, 4, 5, 8, 9, 16, 17])
def test_quotient_doubling_needs_ceil_log2_of_max_len_minus_1_layers(max_len: int) -> None:
    m = adder(2)
    program = lifted_program(m, quotient_doubling(m, max_len), max_len)
    assert check_program(program).allocation.n_layers == target_layers(max_len)
    inputs = every_input(m, min(max_len, 5))
    assert outputs(program, inputs) == m.run_tokens(inputs)


@st.composite
def machines(draw: st.DrawFn) -> FiniteMachine:
    n = draw(st.integers(2, 4))  # at most 4^4 = 256 transformations: under the monoid bound
    k = draw(st.integers(2, 3))
    delta = tuple(tuple(draw(st.integers(0, n - 1)) for _ in range(k)) for _ in range(n))
    output = tuple(draw(st.integers(0, 2)) for _ in range(n))
    return FiniteMachine(tuple(range(k)), tuple(map(str, range(n))), 0, delta, output)


@settings(max_examples=40, deadline=None)
@given(machines(), st.integers(1, 9))
def test_random_machines_lift_exactly_with_quotient_doubling(
    m: FiniteMachine, max_len: int
) -> None:
    program = lifted_program(m, quotient_doubling(m, max_len), max_len)
    inputs = every_input(m, min(max_len, 5))
    assert outputs(program, inputs) == m.run_tokens(inputs)
    assert check_program(program).allocation.n_layers == target_layers(max_len)


@pytest.mark.parametrize("m", [adder(3), long_division(5)], ids=["adder3", "div5"])
def test_quotient_doubling_programs_compile_to_exact_transformers(m: FiniteMachine) -> None:
    program = lifted_program(m, quotient_doubling(m, 6), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=3, samples=200)
    assert report.ok, report.mismatches[:3]
