"""Affine machines whose readout adds terms ``e |a . z|``: hand-built linear RNNs with a ReLU
readout computing Abs_Diff and Diff_Abs_Values are extracted as such machines, equal to their
task at T and 4T; the fit refuses what is no such sum; the JSON form round-trips and refuses
malformed terms; nilpotent machines with abs readouts lift by affine windows into programs and
transformers equal to the machine on every short input, each abs term two ReLU units; other
constructions refuse them by name instead of printing a wrong program."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from rasp_ir.api import (
    LiftOptions,
    RaspError,
    check_program,
    eliminate_dead_code,
    interpret,
    load_backend,
    verify,
)
from rasp_ir.frontends.mips.affine import AffineMachine, affine_from_json, affine_to_json
from rasp_ir.frontends.mips.affine_fit import fit_abs_readout, kink_forms
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.extract import alphabet_symbols
from rasp_ir.frontends.mips.extract_affine import extract_affine
from rasp_ir.frontends.mips.lift import lift_affine
from rasp_ir.frontends.mips.machine import MachineFormatError
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.verify_machine import agreement, model_reference, task_reference

from .test_extract_affine import SOURCE

torch.set_num_threads(1)


def two_step_rnn(read: list[list[float]], out: list[float]) -> GeneralRNN:
    """h' = (x, h_1): the last two inputs, in the basis (h1 + h2, h1 - h2) / 2 so that the
    lattice is not the hidden axes; y = out . relu(read h)."""
    model = GeneralRNN(RNNConfig(1, 1, 2, hidden_depth=1, output_depth=2, output_width=len(read)))
    basis = np.array([[0.5, 0.5], [0.5, -0.5]])  # h = basis @ (x_t, x_{t-1})
    shift = basis @ np.array([[0, 0], [1, 0]]) @ np.linalg.inv(basis)
    weights = {
        "hidden.0.weight": np.hstack([shift, basis[:, :1]]),
        "hidden.0.bias": np.zeros(2),
        "output.0.weight": np.array(read) @ np.linalg.inv(basis),
        "output.0.bias": np.zeros(len(read)),
        "output.2.weight": np.array([out]),
        "output.2.bias": np.zeros(1),
    }
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()})
    return model


ABS_DIFF = two_step_rnn([[1, -1], [-1, 1]], [1, 1])
DIFF_ABS = two_step_rnn([[1, 0], [-1, 0], [0, 1], [0, -1]], [1, 1, -1, -1])
EXTRACTED = [
    ("Abs_Diff", ABS_DIFF, ((1, (1, -1)),)),
    ("Diff_Abs_Values", DIFF_ABS, ((-1, (0, 1)), (1, (1, 0)))),
]


@pytest.mark.parametrize(("task_name", "model", "kinks"), EXTRACTED, ids=[e[0] for e in EXTRACTED])
def test_a_relu_readout_of_a_lattice_state_becomes_abs_terms(
    task_name: str, model: GeneralRNN, kinks: tuple[tuple[int, tuple[int, ...]], ...]
) -> None:
    task = get_task(task_name)
    split = make_split(task, 1000, 0)
    alphabet = alphabet_symbols(task.alphabet)
    machine = extract_affine(model, split.x_train, alphabet, tolerance=0.1).machine
    assert (machine.A, machine.B, machine.C, machine.d) == (
        ((0, 0), (1, 0)),
        ((1,), (0,)),
        ((0, 0),),
        (0,),
    )
    assert machine.kinks == kinks and machine.modulus is None
    for reference in (task_reference(task), model_reference(model)):
        assert agreement(machine, reference, split.x_test, "test split").ok
    long = np.random.default_rng(1).integers(-100, 100, size=(300, 4 * task.length))
    assert agreement(machine, task_reference(task), long, "4T").ok
    assert affine_from_json(affine_to_json(machine)) == machine


def test_only_forms_that_change_sign_are_tried_and_non_sums_are_refused() -> None:
    z = np.array([[1, 2], [3, -1], [-2, 5]])
    # z1 + z2 is positive on all three states, so |z1 + z2| is affine there: not a kink.
    assert kink_forms(z).tolist() == [[0, 1], [1, -1], [1, 0]]
    assert kink_forms(np.abs(z)).tolist() == [[1, -1]]
    grid = np.indices((9, 9)).reshape(2, -1).T - 4
    found = fit_abs_readout(grid, 3 * np.abs(grid[:, 0] - grid[:, 1]) - grid[:, 1] + 2)
    assert found is not None and (found.C, found.d, found.kinks) == ([0, -1], 2, ((3, (1, -1)),))
    assert fit_abs_readout(grid, np.maximum(grid[:, 0], grid[:, 1])) is None
    assert fit_abs_readout(np.abs(grid[:, :1]), np.abs(grid[:, 0])) is None


def machine_data(readout: object) -> dict[str, Any]:
    machine = AffineMachine((0, 1), ((0, 0), (1, 0)), ((1,), (0,)), (0, 0), (0, 0), ((0, 0),), (0,))
    data = affine_to_json(machine)
    data["readout"] = readout
    return data


BAD_TERMS = [
    ({"kind": "abs"}, 'an abs readout has exactly the fields "kind" and "terms"'),
    ({"kind": "abs", "terms": []}, "(a nonempty list)"),
    ({"kind": "abs", "terms": [{"coefficient": 1}]}, 'an abs term is {"coefficient": e'),
    ({"kind": "abs", "terms": [{"coefficient": 1, "form": [1]}]}, "an abs term's form must be"),
    ({"kind": "abs", "terms": [{"coefficient": 0, "form": [1, 0]}]}, "e nonzero"),
    ({"kind": "abs", "terms": [{"coefficient": 2, "form": [0, 0]}]}, "the form not all 0"),
    ({"kind": "abs", "terms": [{"coefficient": 0.5, "form": [1, 0]}]}, "must be an integer"),
]


@pytest.mark.parametrize(("readout", "message"), BAD_TERMS)
def test_malformed_abs_readouts_are_refused(readout: object, message: str) -> None:
    with pytest.raises(MachineFormatError) as error:
        affine_from_json(machine_data(readout))
    assert message in str(error.value)


SHIFT2 = ((0, 0), (1, 0))
SHIFT3 = ((0, 0, 0), (1, 0, 0), (0, 1, 0))
SMALL = tuple(range(-3, 4))
# Hand-written abs readouts over a shift register (A nilpotent): |x_t - x_{t-1}|, |x_t| -
# |x_{t-1}|, and one over three inputs with a linear part, d, an initial state the first
# positions still see and a form over all three.
HAND_WRITTEN = {
    "abs_diff": AffineMachine(
        SMALL, SHIFT2, ((1,), (0,)), (0, 0), (0, 0), ((0, 0),), (0,), kinks=((1, (1, -1)),)
    ),
    "diff_abs_values": AffineMachine(
        SMALL,
        SHIFT2,
        ((1,), (0,)),
        (0, 0),
        (0, 0),
        ((0, 0),),
        (0,),
        kinks=((-1, (0, 1)), (1, (1, 0))),
    ),
    "three_back": AffineMachine(
        SMALL[1:-1],
        SHIFT3,
        ((1,), (0,), (0,)),
        (1, 0, 0),
        (2, -1, 3),
        ((1, 0, -1),),
        (4,),
        kinks=((2, (1, -2, 1)), (-3, (0, 1, 1))),
    ),
}
# Every input up to this length (three_back: its whole window and start terms, 5 symbols).
LENGTHS = {"abs_diff": 4, "diff_abs_values": 4, "three_back": 3}


def exhaustive(alphabet: int, max_len: int) -> list[list[int]]:
    return [
        list(word)
        for n in range(1, max_len + 1)
        for word in itertools.product(range(alphabet), repeat=n)
    ]


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_abs_readouts_lift_and_compile_exactly(name: str) -> None:
    machine, length = HAND_WRITTEN[name], LENGTHS[name]
    lifted = lift_affine(machine, LiftOptions(max_len=length), SOURCE)
    assert lifted.certificate.agreement == 1.0
    words = exhaustive(len(machine.alphabet), length)
    tokens = [[machine.tokens[a] for a in word] for word in words]
    expected = machine.run_tokens(tokens)
    assert interpret(lifted.program, tokens).outputs()[OUTPUT] == expected
    assert check_program(lifted.program).allocation.n_layers == 1
    report = verify(lifted.program, load_backend("torch"), exhaustive_max_len=length)
    assert report.ok, report.mismatches[:3]
    assert report.checked == len(words) + 1  # and the empty input


def test_an_abs_term_compiles_to_two_relu_units() -> None:
    wide = replace(HAND_WRITTEN["abs_diff"], alphabet=tuple(range(-50, 51)))
    program = lift_affine(wide, LiftOptions(max_len=6), SOURCE).program
    model = load_backend("torch").lower(eliminate_dead_code(program))
    assert model.config.d_mlp == 2  # |z| = ReLU(z) + ReLU(-z), not a table of z's 201 values


def test_abs_readouts_of_a_state_that_accumulates_are_refused_by_name() -> None:
    machine = replace(HAND_WRITTEN["abs_diff"], A=((1, 0), (0, 1)))
    with pytest.raises(RaspError, match=r"the prefix_sums construction does not read a readout "):
        lift_affine(machine, LiftOptions(max_len=4), SOURCE)
