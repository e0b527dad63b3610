"""Affine machines with a unipotent A ((A - I)^k = 0: Newton_Freebody, Newton_Gravity, their
companion-basis form, deeper chains) lift by polynomial sums into programs equal to the machine
and to the Newton tasks on every short input, with one attention layer per nested sum; a mod
readout is kept, the initial state costs no extra layer, and any other A is refused naming the
eigenvalue condition."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rasp_ir.api import (
    LiftedSource,
    LiftOptions,
    RaspError,
    Value,
    format_expr,
    interpret,
    ir,
    load_backend,
    verify,
)
from rasp_ir.frontends.mips.affine import AffineMachine, Matrix
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct_affine, lift_affine, lifted_program, load_any
from rasp_ir.frontends.mips.polynomial_sums import sum_rows, unipotent_powers
from rasp_ir.frontends.mips.task_newton import newton_freebody, newton_gravity
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.verify_cmds import task_groups

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"
SOURCE = LiftedSource.of("<unipotent>", "0" * 64)
FORCES = (-2, -1, 0, 1, 2)
# Newton_Freebody over a small force alphabet: z = (v, p), v += x, p += v.
FREEBODY = AffineMachine(
    alphabet=FORCES,
    A=((1, 0), (1, 1)),
    B=((1,), (1,)),
    c=(0, 0),
    initial=(0, 0),
    C=((0, 1),),
    d=(0,),
    task="Newton_Freebody",
)
# Newton_Gravity: the acceleration is x - 1.
GRAVITY = replace(FREEBODY, c=(-1, -1), task="Newton_Gravity")
# The companion basis an RNN extraction gives (A similar to a shear, not I + N itself), with a
# constant, an initial state and an offset.
COMPANION = replace(
    FREEBODY, A=((0, -1), (1, 2)), B=((1,), (0,)), c=(0, 1), initial=(2, -1), C=((1, 3),), d=(5,)
)
# Jerk -> acceleration -> velocity -> position: N^2 != 0, N^3 = 0.
CHAIN3 = AffineMachine(
    alphabet=FORCES,
    A=((1, 0, 0), (1, 1, 0), (0, 1, 1)),
    B=((1,), (0,), (0,)),
    c=(0, 0, 1),
    initial=(1, 0, -1),
    C=((1, -1, 2),),
    d=(0,),
)
EXHAUSTIVE = LiftOptions(exhaustive_limit=4_000, samples=50, max_len=5)


def outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def test_unipotent_a_are_found_in_any_basis() -> None:
    assert unipotent_powers(FREEBODY.A) == [((1, 0), (0, 1)), ((0, 0), (1, 0))]
    assert unipotent_powers(((1,),)) == [((1,),)]
    companion = unipotent_powers(COMPANION.A)
    assert companion is not None and companion[1] == ((-1, -1), (1, 1))
    chain = unipotent_powers(CHAIN3.A)
    assert chain is not None and len(chain) == 3
    assert unipotent_powers(((0, -1), (1, 0))) is None
    assert unipotent_powers(((2,),)) is None
    assert unipotent_powers(((1, 0), (0, 0))) is None


def test_freebody_sums_the_force_twice() -> None:
    # H_1 = C N = (1, 0) reads the velocity's input, H_0 = C - C N adds nothing: y = P(P(x)).
    powers = unipotent_powers(FREEBODY.A)
    assert powers is not None
    assert sum_rows(FREEBODY, powers) == [(-1, 1), (1, 0)]
    built = construct_affine(FREEBODY)
    assert (built.name, built.attention_layers) == ("polynomial_sums", 2)
    assert built.details["step_weights"] == {
        "step_0": dict.fromkeys(map(str, FORCES), 0),
        "step_1": {str(x): x for x in FORCES},
    }


@pytest.mark.parametrize(
    ("machine", "task"), [(FREEBODY, newton_freebody), (GRAVITY, newton_gravity)]
)
def test_newton_machines_lift_to_their_tasks(machine: AffineMachine, task: object) -> None:
    lifted = lift_affine(machine, EXHAUSTIVE, SOURCE)
    data = lifted.certificate.to_json()
    assert lifted.certificate.ok
    assert data["inputs"]["exhaustive"]["max_length"] == 5
    assert data["details"]["construction"] == "polynomial_sums"
    assert data["details"]["attention_layers"] == 2
    assert callable(task)
    for length in range(1, 6):
        batch = [list(w) for w in itertools.product(machine.tokens, repeat=length)]
        expected = task(np.array(batch, dtype=np.int64)).tolist()
        assert outputs(lifted.program, batch) == expected


def test_the_newton_example_equals_its_task_on_the_full_alphabet() -> None:
    machine = load_any(EXAMPLES / "newton_freebody.json")
    assert isinstance(machine, AffineMachine)
    task = get_task("Newton_Freebody")
    groups = task_groups(machine, task, 500, 0)
    assert [g.wrong for g in groups] == [()] * len(groups)
    program = lifted_program(machine, construct_affine(machine), task.length)
    x_test = make_split(task, 500, 0).x_test
    assert outputs(program, x_test.tolist()) == task.label(x_test).tolist()


def test_the_companion_basis_with_a_constant_lifts_exactly() -> None:
    lifted = lift_affine(COMPANION, EXHAUSTIVE, SOURCE)
    assert lifted.certificate.ok
    assert lifted.certificate.to_json()["details"]["attention_layers"] == 2
    assert outputs(lifted.program, [[0, 0, 0]]) == COMPANION.run_tokens([[0, 0, 0]])


def test_a_three_step_chain_takes_three_sums_and_stays_exact_on_longer_inputs() -> None:
    lifted = lift_affine(CHAIN3, EXHAUSTIVE, SOURCE)
    assert lifted.certificate.ok
    assert lifted.certificate.to_json()["details"]["nested_sums"] == 3
    program = lifted_program(CHAIN3, construct_affine(CHAIN3), 12)
    rng = random.Random(4)
    inputs = [[rng.choice(FORCES) for _ in range(12)] for _ in range(20)]
    assert outputs(program, inputs) == CHAIN3.run_tokens(inputs)


def test_a_mod_readout_reduces_every_summand() -> None:
    machine = replace(COMPANION, modulus=7)
    lifted = lift_affine(machine, EXHAUSTIVE, SOURCE)
    assert lifted.certificate.ok
    maps = [b.node for b in lifted.program.bindings if isinstance(b.node, ir.Map)]
    assert maps and all(format_expr(node.fn.body).endswith("% 7") for node in maps)


def test_the_initial_state_alone_costs_one_sum_fewer() -> None:
    # Starting at velocity 1 with no force: y_t = t + 1, one sum of the constant 1.
    machine = replace(FREEBODY, B=((0,), (0,)), initial=(1, 0))
    built = construct_affine(machine)
    assert built.attention_layers == 1
    program = lifted_program(machine, built, 4)
    assert outputs(program, [[0, 2, -1, 1]]) == [[1, 2, 3, 4]] == machine.run_tokens([[0] * 4])
    constant = replace(machine, A=((1, 0), (0, 1)), initial=(0, 3))
    assert construct_affine(constant, "polynomial_sums").attention_layers == 0


def unimodular_conjugate(rng: random.Random, a: Matrix) -> Matrix:
    """``S A S^-1`` for an integer S with an integer inverse (a product of row operations)."""
    n = len(a)
    s = [[int(i == j) for j in range(n)] for i in range(n)]
    inverse = [row[:] for row in s]
    for _ in range(3):
        i, j = rng.sample(range(n), 2) if n > 1 else (0, 0)
        if i == j:
            continue
        k = rng.choice([-1, 1])
        # S <- E S with E = I + k e_ij; S^-1 <- S^-1 E^-1.
        s[i] = [s[i][m] + k * s[j][m] for m in range(n)]
        for row in inverse:
            row[j] -= k * row[i]
    product = [[sum(s[i][m] * a[m][j] for m in range(n)) for j in range(n)] for i in range(n)]
    return tuple(
        tuple(sum(product[i][m] * inverse[m][j] for m in range(n)) for j in range(n))
        for i in range(n)
    )


def test_random_unipotent_machines_lift_exactly() -> None:
    rng = random.Random(5)
    for _ in range(10):
        n = rng.randint(1, 3)
        lower = tuple(
            tuple(int(i == j) or (rng.randint(-2, 2) if j < i else 0) for j in range(n))
            for i in range(n)
        )

        def ints(k: int) -> tuple[int, ...]:
            return tuple(rng.randint(-3, 3) for _ in range(k))

        machine = AffineMachine(
            alphabet=(-1, 0, 1, 2),
            A=unimodular_conjugate(rng, lower),
            B=tuple(ints(1) for _ in range(n)),
            c=ints(n),
            initial=ints(n),
            C=(ints(n),),
            d=ints(1),
            modulus=rng.choice([None, 2, 7]),
        )
        assert unipotent_powers(machine.A) is not None
        options = LiftOptions(exhaustive_limit=400, samples=30, max_len=6)
        assert lift_affine(machine, options, SOURCE).certificate.ok


@pytest.mark.parametrize("a", [((0, -1), (1, 3)), ((2,),), ((1, 0), (0, 0))])
def test_other_a_are_refused_naming_the_eigenvalues(a: Matrix) -> None:
    n = len(a)
    machine = AffineMachine(
        alphabet=(0, 1),
        A=a,
        B=((1,),) * n,
        c=(0,) * n,
        initial=(0,) * n,
        C=((1,) * n,),
        d=(0,),
    )
    shown = str([list(row) for row in a]).replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(RaspError, match=f"its A, {shown}, has an eigenvalue other than 1"):
        construct_affine(machine)
    with pytest.raises(RaspError, match="the polynomial_sums construction needs a unipotent A"):
        construct_affine(machine, "polynomial_sums")


@pytest.mark.parametrize("machine", [FREEBODY, replace(COMPANION, modulus=7)])
def test_torch_compiles_the_lifted_program_exactly(machine: AffineMachine) -> None:
    pytest.importorskip("torch")
    program = lifted_program(machine, construct_affine(machine), 4)
    report = verify(program, load_backend("torch"), exhaustive_max_len=4)
    assert report.ok, report.mismatches[:3]
    assert report.checked == sum(len(FORCES) ** n for n in range(5))
