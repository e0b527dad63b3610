"""Integer-affine machines: the JSON form is read (and malformed files refused naming what is
wrong), ``AffineMachine.run`` follows the recurrence, machines with A = I lift by affine prefix
sums (and the examples by their construction) into programs equal to the machine on every short
input and on random long ones, other A are refused, and the construction is recorded in the
header comment and the certificate."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rasp_ir.api import LiftedSource, LiftOptions, RaspError, Value, interpret, ir
from rasp_ir.frontends.mips import FRONTEND
from rasp_ir.frontends.mips.affine import AffineMachine, affine_from_json
from rasp_ir.frontends.mips.affine_windows import nilpotent_powers
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct_affine, lift_affine, lifted_program, load_any
from rasp_ir.frontends.mips.machine import MachineFormatError
from rasp_ir.frontends.mips.prefix_sums import prefix_sums

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"
AFFINE_EXAMPLES = {
    "sum_all": "prefix_sums",
    "sum_all_100": "prefix_sums",
    "weighted_sum_mod7": "prefix_sums",
    "pair_difference": "prefix_sums",
    "sum_last3": "affine_windows",
    "diff_last2": "affine_windows",
    "newton_freebody": "polynomial_sums",
}
# Attention layers where not 1: one per nested sum.
LAYERS = {"newton_freebody": 2}

# Long inputs: the hub's value-set inference enumerates the sums a numerical aggregate can take
# (at most 2,000,000), which sum_all_100 exceeds beyond about 200 positions.
LONG = 200
# Nested sums take about L^3 values (newton_freebody's total_0 passes 2,000,000 near L = 58).
LONG_LENGTHS = {"newton_freebody": 40}


def affine(name: str) -> AffineMachine:
    machine = load_any(EXAMPLES / f"{name}.json")
    assert isinstance(machine, AffineMachine)
    return machine


def outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def reference(machine: AffineMachine, word: list[int]) -> list[int]:
    """The recurrence written out, one position at a time (symbol indices in)."""
    z, found = list(machine.initial), []
    for a in word:
        symbol = machine.alphabet[a]
        x = symbol if isinstance(symbol, tuple) else (symbol,)
        z = [
            sum(machine.A[i][j] * z[j] for j in range(len(z)))
            + sum(machine.B[i][k] * x[k] for k in range(len(x)))
            + machine.c[i]
            for i in range(len(z))
        ]
        y = sum(machine.C[0][j] * z[j] for j in range(len(z))) + machine.d[0]
        found.append(y if machine.modulus is None else y % machine.modulus)
    return found


def random_a(rng: random.Random, n: int, kind: str) -> tuple[tuple[int, ...], ...]:
    """An identity, strictly lower-triangular (nilpotent) or arbitrary n x n matrix."""
    if kind == "identity":
        return tuple(tuple(int(i == j) for j in range(n)) for i in range(n))
    if kind == "nilpotent":
        return tuple(tuple(rng.randint(-2, 2) if j < i else 0 for j in range(n)) for i in range(n))
    return tuple(tuple(rng.randint(-1, 1) for _ in range(n)) for _ in range(n))


def random_machine(rng: random.Random, kind: str) -> AffineMachine:
    n = rng.randint(1, 3)
    pairs = rng.random() < 0.3
    alphabet: tuple[Any, ...] = (
        tuple(itertools.product(range(2), repeat=2)) if pairs else tuple(range(-1, 3))
    )
    width = 2 if pairs else 1

    def ints(k: int) -> tuple[int, ...]:
        return tuple(rng.randint(-3, 3) for _ in range(k))

    a = random_a(rng, n, kind)
    return AffineMachine(
        alphabet=alphabet,
        A=a,
        B=tuple(ints(width) for _ in range(n)),
        c=ints(n),
        initial=ints(n),
        C=(ints(n),),
        d=ints(1),
        modulus=rng.choice([None, 1, 2, 7]),
    )


def test_run_follows_the_recurrence() -> None:
    rng = random.Random(1)
    for _ in range(30):
        machine = random_machine(rng, rng.choice(["identity", "nilpotent", "any"]))
        words = [[rng.randrange(len(machine.alphabet)) for _ in range(9)] for _ in range(5)]
        assert machine.run(words).tolist() == [reference(machine, w) for w in words]


@pytest.mark.parametrize("name", sorted(AFFINE_EXAMPLES))
def test_examples_lift_exactly_and_record_the_construction(name: str) -> None:
    options = LiftOptions(exhaustive_limit=2_000, samples=100, max_len=12)
    lifted = FRONTEND.lift(EXAMPLES / f"{name}.json", options)
    data = lifted.certificate.to_json()
    assert lifted.certificate.ok
    assert data["details"]["construction"] == AFFINE_EXAMPLES[name]
    assert data["details"]["machine_kind"] == "affine"
    assert data["details"]["attention_layers"] == LAYERS.get(name, 1)
    assert data["source"]["kind"] == "affine"
    shown = "affine " + AFFINE_EXAMPLES[name].replace("affine_", "").replace("_", " ")
    assert f"Construction: {shown}." in " ".join((lifted.program.comment or "").split())


def test_the_readout_and_weights_are_recorded() -> None:
    built = prefix_sums(affine("weighted_sum_mod7"))
    # w(x) = C B x + C c = 2 x + 3; C z_0 + d = 1.
    assert built.details == {
        "step_weights": {"0": 3, "1": 5, "2": 7, "3": 9},
        "offset": 1,
        "readout": "mod 7",
    }


@pytest.mark.parametrize("name", sorted(AFFINE_EXAMPLES))
def test_long_inputs_are_exact(name: str) -> None:
    machine = affine(name)
    length = LONG_LENGTHS.get(name, LONG)
    program = lifted_program(machine, construct_affine(machine), length)
    rng = random.Random(2)
    inputs = [[rng.choice(machine.tokens) for _ in range(length)] for _ in range(20)]
    assert outputs(program, inputs) == machine.run_tokens(inputs)


@pytest.mark.parametrize("kind", ["identity", "nilpotent"])
def test_random_accumulating_and_forgetting_machines_lift_exactly(kind: str) -> None:
    rng = random.Random(3)
    for _ in range(12):
        machine = random_machine(rng, kind)
        lifted = lift_affine(
            machine, LiftOptions(exhaustive_limit=400, samples=30, max_len=6), SOURCE
        )
        assert lifted.certificate.ok


SOURCE = LiftedSource.of("<random>", "0" * 64)
SHIFT = AffineMachine(
    alphabet=(0, 1),
    A=((0, 0), (1, 0)),
    B=((1,), (0,)),
    c=(0, 0),
    initial=(0, 0),
    C=((1, 1),),
    d=(0,),
)


def test_nilpotent_a_are_found_with_their_index() -> None:
    assert nilpotent_powers(SHIFT.A) == [((1, 0), (0, 1)), ((0, 0), (1, 0))]
    assert nilpotent_powers(((0,),)) == [((1,),)]
    assert nilpotent_powers(((1, 1), (0, 1))) is None


def test_other_a_are_refused() -> None:
    shear = replace(SHIFT, A=((1, 1), (0, 1)))
    growing = replace(SHIFT, A=((2, 1), (1, 1)))  # no finite order: its entries grow
    with pytest.raises(RaspError, match=r"its A, \[\[2, 1\], \[1, 1\]\], has an eigenvalue"):
        lift_affine(growing, LiftOptions(), SOURCE)
    shift = r"needs A = I .* this machine's A is \[\[0, 0\], \[1, 0\]\]"
    with pytest.raises(RaspError, match=shift):
        construct_affine(SHIFT, "prefix_sums")
    with pytest.raises(RaspError, match="the affine_windows construction needs a nilpotent A"):
        construct_affine(shear, "affine_windows")


def test_the_initial_state_counts_at_the_first_positions() -> None:
    # z remembers the last two inputs, starting from (5, 7): y_t = z_0 + z_1 after reading.
    machine = replace(SHIFT, initial=(5, 7))
    built = construct_affine(machine)
    assert built.name == "affine_windows"
    assert built.details["terms"] == ["step_0", "back_1", "start"]
    program = lifted_program(machine, built, 5)
    words = [list(w) for n in range(1, 6) for w in itertools.product((0, 1), repeat=n)]
    assert outputs(program, words) == machine.run_tokens(words)
    assert machine.run_tokens([[0, 0]]) == [[5, 0]]


def test_finite_constructions_are_refused_for_affine_machines() -> None:
    options = LiftOptions(settings=(("construction", "doubling"),))
    with pytest.raises(RaspError, match="the doubling construction does not lift affine"):
        FRONTEND.lift(EXAMPLES / "sum_all.json", options)
    forced = LiftOptions(settings=(("construction", "prefix_sums"),), samples=5)
    assert FRONTEND.lift(EXAMPLES / "sum_all.json", forced).certificate.ok


def good() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (EXAMPLES / "weighted_sum_mod7.json").read_text(encoding="utf-8")
    )
    return data


def bad(**changes: object) -> dict[str, Any]:
    data = good()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


BAD = [
    (bad(A=None), "an affine machine lacks field(s) A"),
    (bad(E=[1]), "unknown field(s) of an affine machine E"),
    (bad(A=[[1, 0]]), "A must be 2 x 2: a list of 2 row(s) of 2 integer(s), got [[1, 0]]"),
    (bad(B=[[1, 0], [0, 0]]), "B must be 2 x 1"),
    (bad(C=[1, 2]), "C must be 1 x 2"),
    (bad(c=[0]), "c must be a list of 2 integer(s)"),
    (bad(d=3), "d must be a list of 1 integer(s)"),
    (bad(initial=[0, 0.5]), "an entry of initial must be an integer, got 0.5"),
    (bad(A=[[1, 0], [0, True]]), "an entry of A must be an integer, got true"),
    (bad(state_dim=0), "state_dim must be at least 1"),
    (bad(state_dim="2"), 'state_dim must be an integer, got "2"'),
    (bad(readout={"kind": "round"}), "readout must be"),
    (bad(readout={"kind": "mod", "modulus": 0}), "the readout's modulus must be at least 1"),
    (bad(readout={"kind": "mod"}), 'a mod readout has exactly the fields "kind" and "modulus"'),
    (bad(readout={"kind": "identity", "modulus": 3}), "an identity readout takes no other"),
    (bad(alphabet=[0, [0, 1]]), "alphabet mixes integers and pairs"),
    (bad(format_version=2), "format_version 2 is not supported"),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_bad_affine_machines_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(MachineFormatError) as error:
        affine_from_json(data)
    assert message in str(error.value)


def test_bad_affine_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(bad(B=[[1, 2], [3, 4]])), encoding="utf-8")
    with pytest.raises(RaspError) as error:
        FRONTEND.lift(path, LiftOptions())
    assert str(path) in str(error.value)
    assert "B must be 2 x 1" in str(error.value)


def test_a_zero_needs_no_attention() -> None:
    # y_t = (2 x_t + 1) + 4: the state holds only the last input.
    machine = AffineMachine(
        alphabet=(0, 1), A=((0,),), B=((2,),), c=(1,), initial=(3,), C=((1,),), d=(4,)
    )
    built = construct_affine(machine)
    assert (built.name, built.attention_layers, built.details["terms"]) == (
        "affine_windows",
        0,
        ["step_0"],
    )
    constant = replace(machine, B=((0,),), c=(0,), modulus=3)
    program = lifted_program(constant, construct_affine(constant), 4)
    assert outputs(program, [[0, 1, 1]]) == constant.run_tokens([[0, 1, 1]]) == [[1, 1, 1]]
