"""Affine machines whose A has finite order (A^p = I: Newton_Spring's rotation by 60 degrees, a
quarter turn, an order-3 matrix, with a constant, an initial state, an offset, a mod readout)
lift by periodic sums into one-layer programs and transformers equal to the machine on every
short input; the order is found, and an A of no finite order is refused naming it."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from rasp_ir.api import (
    LiftedSource,
    LiftOptions,
    RaspError,
    check_program,
    interpret,
    load_backend,
    verify,
)
from rasp_ir.frontends.mips.affine import AffineMachine
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct_affine, lift_affine
from rasp_ir.frontends.mips.periodic_sums import PERIODIC_SUMS, finite_order_powers

pytest.importorskip("torch")

SOURCE = LiftedSource.of("<periodic>", "0" * 64)
FORCES = (-1, 0, 1)
# Newton_Spring as the suite extracted it: z' = A z + (x, x), y = z_1, A^6 = I.
SPRING = AffineMachine(
    alphabet=FORCES,
    A=((0, 1), (-1, 1)),
    B=((1,), (1,)),
    c=(0, 0),
    initial=(0, 0),
    C=((1, 0),),
    d=(0,),
    task="Newton_Spring",
)
MACHINES = {
    "spring": SPRING,
    "quarter_turn": replace(
        SPRING, A=((0, -1), (1, 0)), c=(1, 0), initial=(2, -1), C=((1, 3),), d=(5,)
    ),
    "order_3_mod_5": replace(SPRING, A=((0, -1), (1, -1)), initial=(1, 1), modulus=5),
}
ORDERS = {"spring": 6, "quarter_turn": 4, "order_3_mod_5": 3}
LENGTH = 5  # every input up to here: a whole period of the order-3 and order-4 machines


def words(symbols: int, max_len: int) -> list[list[int]]:
    return [
        list(w) for n in range(1, max_len + 1) for w in itertools.product(range(symbols), repeat=n)
    ]


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_finite_order_machines_lift_and_compile_exactly(name: str) -> None:
    machine = MACHINES[name]
    lifted = lift_affine(machine, LiftOptions(max_len=LENGTH), SOURCE)
    assert lifted.certificate.agreement == 1.0
    assert construct_affine(machine).name == PERIODIC_SUMS
    tokens = [[machine.tokens[a] for a in w] for w in words(len(FORCES), LENGTH)]
    assert interpret(lifted.program, tokens).outputs()[OUTPUT] == machine.run_tokens(tokens)
    assert check_program(lifted.program).allocation.n_layers == 1
    report = verify(lifted.program, load_backend("torch"), exhaustive_max_len=4, samples=100)
    assert report.ok, report.mismatches[:3]


def test_spring_is_exact_far_past_its_period() -> None:
    lifted = lift_affine(SPRING, LiftOptions(max_len=40), SOURCE)
    assert lifted.certificate.agreement == 1.0
    long = [[FORCES[(7 * i + j) % 3] for i in range(40)] for j in range(5)]
    assert interpret(lifted.program, long).outputs()[OUTPUT] == SPRING.run_tokens(long)


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_the_order_is_the_smallest_p_with_a_power_the_identity(name: str) -> None:
    powers = finite_order_powers(MACHINES[name].A)
    assert powers is not None and len(powers) == ORDERS[name]


def test_an_a_of_no_finite_order_is_refused_naming_it() -> None:
    grows = replace(SPRING, A=((2, 1), (1, 1)))
    assert finite_order_powers(grows.A) is None
    with pytest.raises(RaspError, match=r"it has no finite order \(A\^p = I: periodic_sums\)"):
        lift_affine(grows, LiftOptions(max_len=4), SOURCE)
    with pytest.raises(RaspError, match=r"needs an A of finite order"):
        lift_affine(
            grows, LiftOptions(max_len=4, settings=(("construction", PERIODIC_SUMS),)), SOURCE
        )
