"""Programs over large value sets compile quickly and exactly: the programs the MIPS frontend
lifts from integer-affine machines over the alphabet 0..99 (prefix sums with 991 values, a window
table over 100 x 100 inputs, a sum of partial sums too large to compose into one table, the
linear form of Sum_Last4) agree
with the interpreter, and a threshold's margin (taken from
the states nearest to and farthest from it) equals the one over every state."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from rasp_ir.api import Value, load_backend, parse_program, verify
from rasp_ir.backends.torch import compile_program
from rasp_ir.backends.torch.functions import Leaf, LeafKind
from rasp_ir.backends.torch.mlp import step
from rasp_ir.frontends.mips.affine import AffineMachine, affine_from_json
from rasp_ir.frontends.mips.lift import construct_affine, lifted_program, load_any

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"


def test_sum_all_over_100_symbols_compiles_exactly() -> None:
    machine = load_any(EXAMPLES / "sum_all_100.json")
    program = lifted_program(machine, construct_affine(machine), 10)  # type: ignore[arg-type]
    report = verify(program, load_backend("torch"), exhaustive_max_len=1, samples=200)
    assert report.ok, report.mismatches[:3]


def test_sum_last2_over_100_symbols_compiles_exactly() -> None:
    machine = affine_from_json(
        {
            "format": "rasp-ir/mips-machine",
            "format_version": 1,
            "kind": "affine",
            "task": "Sum_Last2",
            "alphabet": list(range(100)),
            "state_dim": 2,
            "A": [[0, 0], [1, 0]],
            "B": [[1], [0]],
            "c": [0, 0],
            "initial": [0, 0],
            "C": [[1, 1]],
            "d": [0],
        }
    )
    program = lifted_program(machine, construct_affine(machine), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=1, samples=100)
    assert report.ok, report.mismatches[:3]


def sum_last(k: int, symbols: int) -> AffineMachine:
    """Sum_Last-k over the alphabet 0..symbols-1: z shifts the last k inputs, y sums them."""
    return affine_from_json(
        {
            "format": "rasp-ir/mips-machine",
            "format_version": 1,
            "kind": "affine",
            "task": f"Sum_Last{k}",
            "alphabet": list(range(symbols)),
            "state_dim": k,
            "A": [[int(i == j + 1) for j in range(k)] for i in range(k)],
            "B": [[int(i == 0)] for i in range(k)],
            "c": [0] * k,
            "initial": [0] * k,
            "C": [[1] * k],
            "d": [0],
        }
    )


def test_a_map_over_maps_too_large_to_compose_reads_them_materialised() -> None:
    # Sum_Last4 over 40 symbols with categorical copies: the output adds two categorical partial
    # sums, whose composition over the four channels they read would take 40^4 > 2,000,000
    # entries; each partial sum gets its own MLP instead, and the output's table is over their
    # 79 x 79 values.
    vocab = "{" + ", ".join(map(str, range(40))) + "}"
    lines = [f"%vocab {vocab}", "%max_len 6"]
    for j in range(1, 4):
        lines.append(
            f"back_{j} = aggregate(select(indices, indices - {j}, ==), tokens, default=0);"
        )
    lines += [
        "partial_0_1 = map(fn(a, b) -> a + b, tokens, back_1);",
        "partial_2_3 = map(fn(a, b) -> a + b, back_2, back_3);",
        "total = map(fn(a, b) -> a + b, partial_0_1, partial_2_3);",
        "output total;",
    ]
    program = parse_program("\n".join(lines), "<sum_last4>")
    report = verify(program, load_backend("torch"), exhaustive_max_len=1, samples=200)
    assert report.ok, report.mismatches[:3]


def test_the_lifted_sum_last4_over_40_symbols_is_linear() -> None:
    # The lift's numerical form: three one-key sums and one affine map, no table at all.
    program = lifted_program(sum_last(4, 40), construct_affine(sum_last(4, 40)), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=1, samples=200)
    assert report.ok, report.mismatches[:3]
    model = compile_program(program)
    assert (model.config.n_layers, model.config.d_mlp) == (1, 2)
    assert model.config.d_model == 40 + 6 + 2 + 3 + 1  # tokens, positions, one, bos, sums, output


def test_sum_all_over_20_symbols_on_every_short_input() -> None:
    small = affine_from_json(
        {
            "format": "rasp-ir/mips-machine",
            "format_version": 1,
            "kind": "affine",
            "task": "Sum_All",
            "alphabet": list(range(20)),
            "state_dim": 1,
            "A": [[1]],
            "B": [[1]],
            "c": [0],
            "initial": [0],
            "C": [[1]],
            "d": [0],
        }
    )
    program = lifted_program(small, construct_affine(small), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=2, samples=300)
    assert report.ok, report.mismatches[:3]


def _every_state(leaf: Leaf, theta: Fraction) -> tuple[Fraction, Fraction]:
    """The smallest and largest |z| over every state (and every count of a sum), written out."""
    numbers = [leaf.number(i) for i in range(len(leaf.states))]
    if leaf.kind == "scalar":
        values = [v - theta for v in numbers]
    elif leaf.kind == "ratio":
        values = [1 - (theta + 1) / (w + 1) for w in numbers]
    else:
        counts = range(1, leaf.max_count + 2)
        values = [(s - theta) / k for s in numbers for k in counts]
        values += [s - theta for s in numbers]
    return min(abs(v) for v in values), max(abs(v) for v in values)


@pytest.mark.parametrize("kind", ["scalar", "ratio", "sumratio"])
def test_step_margins_equal_those_over_every_state(kind: LeafKind) -> None:
    rng = random.Random(kind)
    for _ in range(30):
        if kind == "ratio":
            states: list[Value] = list(sorted(rng.sample(range(12), rng.randint(2, 12))))
        else:
            numbers = {Fraction(rng.randint(-50, 50), rng.randint(1, 6)) for _ in range(20)}
            states = [n if n.denominator > 1 else int(n) for n in sorted(numbers)]
        if rng.random() < 0.5:
            rng.shuffle(states)
        dims = (3,) if kind != "sumratio" else (3, 4)
        leaf = Leaf("x", kind, tuple(states), 1, dims, max_count=rng.randint(0, 9))
        below = rng.randrange(len(states) - 1)
        threshold = step(leaf, below, below + 1, 0)
        theta = (leaf.number(below) + leaf.number(below + 1)) / 2
        margin, largest = _every_state(leaf, theta)
        assert (threshold.margin, threshold.largest) == (float(margin), float(largest))


def test_state_dims_skip_the_undefined_state() -> None:
    leaf = Leaf("x", "onehot", ("a", None, "b", "c"), 0, (7, 8, 9))
    assert [leaf.state_dim(i) for i in range(4)] == [7, None, 8, 9]
