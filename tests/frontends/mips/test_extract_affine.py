"""Integer-affine extraction reads the known machine off hand-built linear RNNs (whatever the
basis of their hidden space), checked against the task and lifted exactly; RNNs whose states
are off a lattice, whose updates or readouts are not affine are refused with the reason; the
extract command writes an affine machine file; a briefly trained linear RNN is extracted."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.api import LiftedSource, LiftOptions, RaspError
from rasp_ir.frontends.mips import FRONTEND
from rasp_ir.frontends.mips.affine import AffineMachine, affine_from_json, affine_to_json
from rasp_ir.frontends.mips.affine_fit import fit_mod_readout, fit_readout, fit_transition
from rasp_ir.frontends.mips.extract import alphabet_symbols
from rasp_ir.frontends.mips.extract_affine import extract_affine
from rasp_ir.frontends.mips.extract_cmds import register_extract_commands
from rasp_ir.frontends.mips.lattice import coordinates, hermite_rows, lattice_basis
from rasp_ir.frontends.mips.lift import lift_affine, load_any
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import load_run, save_run
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.train import TrainSettings, train_rnn
from rasp_ir.frontends.mips.verify_machine import (
    agreement,
    all_inputs,
    model_reference,
    task_reference,
)

torch.set_num_threads(1)
SOURCE = LiftedSource.of("<extracted>", "0" * 64)


def linear_rnn(
    w: list[list[float]],
    u: list[float],
    read: list[float],
    bias: float = 0.0,
    read_bias: float = 0.0,
) -> GeneralRNN:
    """h' = W h + u x + bias, y = read . h + read_bias (a linear RNN, a linear readout)."""
    dim = len(w)
    model = GeneralRNN(RNNConfig(1, 1, dim, hidden_depth=1, output_depth=1))
    weights = {
        "hidden.0.weight": [[*row, ui] for row, ui in zip(w, u, strict=True)],
        "hidden.0.bias": [bias] * dim,
        "output.0.weight": [read],
        "output.0.bias": [read_bias],
    }
    state = {key: torch.tensor(value, dtype=torch.float32) for key, value in weights.items()}
    model.load_state_dict(state, strict=True)
    return model


def rotated_sum_last2() -> GeneralRNN:
    """h = x_t b1 + x_{t-1} b2 with b1 = (1.2, 1.6), b2 = (-0.8, 0.6) (orthogonal, unequal
    lengths): W b1 = b2, W b2 = 0; y = x_t + x_{t-1}."""
    b1, b2 = np.array([1.2, 1.6]), np.array([-0.8, 0.6])
    w = np.outer(b2, b1) / (b1 @ b1)
    read = b1 / (b1 @ b1) + b2 / (b2 @ b2)
    return linear_rnn(w.tolist(), b1.tolist(), read.tolist())


SHIFT = ((0, 0), (1, 0))
KNOWN = [
    # name, task, RNN, A, C: B = e_1, c = d = 0, initial 0 throughout.
    ("sum_all", "Sum_All", linear_rnn([[1]], [1], [1]), ((1,),), ((1,),)),
    ("half_sum", "Sum_All", linear_rnn([[1]], [0.5], [2]), ((1,),), ((1,),)),
    ("current", "Current_Number", linear_rnn([[0]], [1], [1]), ((0,),), ((1,),)),
    ("prev1", "Prev1", linear_rnn([[0, 0], [1, 0]], [1, 0], [0, 1]), SHIFT, ((0, 1),)),
    ("sum_last2", "Sum_Last2", rotated_sum_last2(), SHIFT, ((1, 1),)),
    ("diff_last2", "Diff_Last2", linear_rnn([[0, 0], [1, 0]], [1, 0], [1, -1]), SHIFT, ((1, -1),)),
]


@pytest.mark.parametrize(
    ("task_name", "model", "a", "c"), [k[1:] for k in KNOWN], ids=[k[0] for k in KNOWN]
)
def test_the_known_machine_is_extracted_and_lifts(
    task_name: str, model: GeneralRNN, a: tuple[tuple[int, ...], ...], c: tuple[tuple[int]]
) -> None:
    task = get_task(task_name)
    split = make_split(task, 1000, 0)
    alphabet = alphabet_symbols(task.alphabet)
    found = extract_affine(model, split.x_train, alphabet, tolerance=0.1, task=task_name)
    machine = found.machine
    n, first = len(a), ((1,),) + ((0,),) * (len(a) - 1)
    assert (a, first, c) == (machine.A, machine.B, machine.C)
    assert machine.c == machine.initial == (0,) * n and machine.d == (0,)
    assert machine.modulus is None and machine.task == task_name
    assert machine.max_len == task.length
    assert found.max_deviation < 1e-3 and found.max_fraction < 1e-3
    assert found.denominator == 1 and found.transitions == 900 * task.length
    for reference in (task_reference(task), model_reference(model)):
        assert agreement(machine, reference, split.x_test, "test split").ok
    small = [s for s in alphabet if isinstance(s, int) and abs(s) < 6]
    for length in (1, 2, 3):
        assert agreement(machine, task_reference(task), all_inputs(small, length), "slice").ok
    lifted = lift_affine(machine, LiftOptions(max_len=6, exhaustive_limit=300, samples=50), SOURCE)
    assert lifted.certificate.ok


def test_the_lattice_basis_is_the_hidden_direction_of_each_coordinate() -> None:
    task = get_task("Sum_Last2")
    inputs = make_split(task, 300, 0).x_train
    found = extract_affine(rotated_sum_last2(), inputs, alphabet_symbols(task.alphabet))
    assert np.allclose(found.basis, [[1.2, 1.6], [-0.8, 0.6]], atol=1e-4)
    assert np.allclose(found.offset, 0, atol=1e-4)
    half = extract_affine(linear_rnn([[1]], [0.5], [2]), inputs, alphabet_symbols(task.alphabet))
    assert np.allclose(half.basis, [[0.5]]) and half.machine.A == ((1,),)


def test_a_leaky_unit_the_readout_never_sees_is_dropped() -> None:
    # Prev1 with a third unit h3' = 0.5 h3 + x (off every lattice) that no output reads,
    # now or later: the machine has the two registers only.
    w: list[list[float]] = [[0, 0, 0], [1, 0, 0], [0, 0, 0.5]]
    model = linear_rnn(w, [1, 0, 1], [0, 1, 0])
    task = get_task("Prev1")
    split = make_split(task, 500, 0)
    found = extract_affine(model, split.x_train, alphabet_symbols(task.alphabet), task="Prev1")
    assert found.machine.state_dim == 2 and found.machine.A == SHIFT
    assert np.allclose(found.basis, [[1, 0, 0], [0, 1, 0]], atol=1e-4)
    assert agreement(found.machine, task_reference(task), split.x_test, "test split").ok


def test_the_input_direction_stays_a_lattice_vector_when_the_inputs_are_even() -> None:
    # Inputs 0, 2, 4 only: the states 2k u generate 2Z u, but z' = z + x needs Z u.
    model = linear_rnn([[1]], [1], [1])
    inputs = 2 * np.random.default_rng(0).integers(0, 3, size=(200, 8))
    found = extract_affine(model, inputs, tuple(range(0, 10)))
    machine = found.machine
    assert np.allclose(found.basis, [[1]])
    assert (machine.A, machine.B, machine.C) == (((1,),), ((1,),), ((1,),))
    assert agreement(machine, model_reference(model), inputs, "rnn").ok


def test_a_bias_shifts_the_lattice_off_h0() -> None:
    # h' = 0.9 x + 0.4, y = (h - 0.4) / 0.9 = x: the states after the first step lie on
    # 0.4 + 0.9 Z, which h_0 = 0 is not on; z = x all the same, from z_0 = 0.
    model = linear_rnn([[0]], [0.9], [1 / 0.9], bias=0.4, read_bias=-0.4 / 0.9)
    task = get_task("Current_Number")
    split = make_split(task, 300, 0)
    found = extract_affine(model, split.x_train, alphabet_symbols(task.alphabet), tolerance=0.01)
    machine = found.machine
    assert (machine.A, machine.B, machine.c, machine.initial) == (((0,),), ((1,),), (0,), (0,))
    assert (machine.C, machine.d) == (((1,),), (0,))
    assert np.allclose(found.basis, [[0.9]]) and np.allclose(found.offset, [0.4])
    assert found.max_deviation < 1e-4
    assert agreement(machine, task_reference(task), split.x_test, "task").ok


def test_a_fractional_bias_gives_a_finer_lattice() -> None:
    # h' = h + x + 0.5: the states u (S + t/2) need the lattice Z u / 2, so z = 2 S + t;
    # y = 2 h = z.
    model = linear_rnn([[1]], [1], [2], bias=0.5)
    inputs = np.random.default_rng(0).integers(0, 10, size=(200, 6))
    found = extract_affine(model, inputs, tuple(range(0, 10)), tolerance=0.1)
    machine = found.machine
    assert found.denominator == 2 and np.allclose(found.basis, [[0.5]])
    assert (machine.A, machine.B, machine.c) == (((1,),), ((2,),), (1,))
    assert agreement(machine, model_reference(model), inputs, "rnn").ok


def test_a_newton_gravity_rnn_is_extracted_with_its_constant() -> None:
    # h = (v, p): v' = v + x - 1, p' = p + v + x - 1; y = p. The lattice coordinates are those
    # of the input directions u = (1, 1) and W u = (1, 2), so A is W's companion matrix (W^2 u
    # = 2 W u - u); gravity is the constant c.
    model = linear_rnn([[1, 0], [1, 1]], [1, 1], [0, 1], bias=-1)
    task = get_task("Newton_Gravity")
    split = make_split(task, 500, 0)
    found = extract_affine(model, split.x_train, alphabet_symbols(task.alphabet), tolerance=0.01)
    machine = found.machine
    assert np.allclose(found.basis, [[1, 1], [1, 2]], atol=1e-4)
    assert (machine.A, machine.B, machine.c) == (((0, -1), (1, 2)), ((1,), (0,)), (-1, 0))
    assert machine.initial == (0, 0) and (machine.C, machine.d) == (((1, 2),), (0,))
    assert agreement(machine, task_reference(task), split.x_test, "task").ok
    lifted = lift_affine(machine, LiftOptions(max_len=4), SOURCE)
    assert lifted.certificate.ok
    assert lifted.certificate.to_json()["details"]["construction"] == "polynomial_sums"


def test_pair_inputs_give_two_input_columns() -> None:
    # h' = h + a - b on pairs (a, b) of 0..3; y = h.
    model = GeneralRNN(RNNConfig(2, 1, 1, hidden_depth=1, output_depth=1))
    weights = {
        "hidden.0.weight": [[1.0, 1.0, -1.0]],
        "hidden.0.bias": [0.0],
        "output.0.weight": [[1.0]],
        "output.0.bias": [0.0],
    }
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=True)
    alphabet = tuple((a, b) for a in range(4) for b in range(4))
    inputs = np.random.default_rng(0).integers(0, 4, size=(300, 6, 2))
    machine = extract_affine(model, inputs, alphabet, tolerance=0.01).machine
    assert (machine.A, machine.B, machine.C) == (((1,),), ((1, -1),), ((1,),))
    expected = np.cumsum(inputs[..., 0] - inputs[..., 1], axis=1)
    assert agreement(machine, lambda x: expected, inputs, "running difference").ok
    lifted = lift_affine(machine, LiftOptions(max_len=4, exhaustive_limit=100, samples=20), SOURCE)
    assert lifted.certificate.ok


def relu_current_rnn() -> GeneralRNN:
    """h' = x; y = relu(h) = (x + |x|) / 2: a lattice state, a readout neither affine nor a
    sum of integer multiples of |a . z|."""
    model = GeneralRNN(RNNConfig(1, 1, 1, hidden_depth=1, output_depth=2, output_width=1))
    weights = {
        "hidden.0.weight": [[0.0, 1.0]],
        "hidden.0.bias": [0.0],
        "output.0.weight": [[1.0]],
        "output.0.bias": [0.0],
        "output.2.weight": [[1.0]],
        "output.2.bias": [0.0],
    }
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=True)
    return model


def mod3_rnn() -> GeneralRNN:
    """With s = h + x in 0..4: h' = s mod 3 (states on the lattice Z, a non-affine update)."""
    model = GeneralRNN(RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=3, output_depth=1))
    weights = {
        "hidden.0.weight": [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
        "hidden.0.bias": [0.0, -2.0, -3.0],
        "hidden.2.weight": [[1.0, -3.0, 3.0]],
        "hidden.2.bias": [0.0],
        "output.0.weight": [[1.0]],
        "output.0.bias": [0.0],
    }
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=True)
    return model


REFUSED = [
    ("relu_current", relu_current_rnn(), "Abs_Current", "the readout is not affine"),
    ("leaky", linear_rnn([[0.5]], [1], [1]), "Sum_All", "not on the lattice"),
    ("mod3", mod3_rnn(), "Add_Mod_3", "do not move by an integer-affine map"),
]


@pytest.mark.parametrize(
    ("model", "task_name", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_rnns_that_are_not_integer_affine_are_refused(
    model: GeneralRNN, task_name: str, message: str
) -> None:
    task = get_task(task_name)
    inputs = make_split(task, 300, 0).x_train
    alphabet = alphabet_symbols(task.alphabet)
    with pytest.raises(RaspError, match=message):
        extract_affine(model, inputs, alphabet, tolerance=0.1)


def test_states_off_the_lattice_are_refused_at_a_tight_tolerance() -> None:
    # h' = h + x + 0.37 (a bias): states u S + 0.37 t are on no lattice Z u / m, m <= 16.
    model = linear_rnn([[1]], [1], [1], bias=0.37)
    task = get_task("Sum_All")
    inputs = make_split(task, 300, 0).x_train
    with pytest.raises(RaspError, match="not on one lattice"):
        extract_affine(model, inputs, alphabet_symbols(task.alphabet), tolerance=0.01)


def test_a_bad_tolerance_or_no_input_is_refused() -> None:
    model = linear_rnn([[1]], [1], [1])
    with pytest.raises(RaspError, match="tolerance must be positive"):
        extract_affine(model, np.zeros((2, 3), dtype=np.int64), (0, 1), tolerance=0)
    with pytest.raises(RaspError, match="no input sequences"):
        extract_affine(model, np.zeros((0, 3), dtype=np.int64), (0, 1))


def test_transitions_are_fitted_exactly_or_refused() -> None:
    z = np.arange(0, 12, dtype=np.int64)[:, None]
    x = np.array([[v % 4] for v in range(12)], dtype=np.int64)
    fitted = fit_transition(z, x, z + 2 * x - 1)
    assert (fitted.A, fitted.B, fitted.c) == ([[1]], [[2]], [-1])
    with pytest.raises(RaspError, match="do not move by an integer-affine map: 8 of 12"):
        fit_transition(z, x, (z + x) % 3)


def test_readouts_are_fitted_exactly_or_mod_k_or_with_abs_terms_or_refused() -> None:
    z = np.arange(-5, 20, dtype=np.int64)[:, None]
    exact = fit_readout(z, 3 * z[:, 0] - 2)
    assert (exact.C, exact.d, exact.modulus) == ([3], -2, None)
    modular = fit_readout(z, (2 * z[:, 0] + 1) % 5)
    assert (modular.C, modular.d, modular.modulus) == ([2], 1, 5)
    assert fit_mod_readout(z, np.abs(z[:, 0])) is None
    absolute = fit_readout(z, 2 * np.abs(z[:, 0]) - z[:, 0])
    assert (absolute.C, absolute.d, absolute.modulus, absolute.kinks) == (
        [-1],
        0,
        None,
        ((2, (1,)),),
    )
    with pytest.raises(RaspError, match="not affine in the lattice state"):
        fit_readout(z, np.maximum(z[:, 0], 0) // 2)


def test_lattice_bases_are_hermite_then_size_reduced() -> None:
    assert hermite_rows([[4, 6], [6, 9], [2, 0]]) == [[2, 0], [0, 3]]
    points = np.array([[0, 0], [2, 4], [4, 2], [6, 6], [2, -2]])
    basis = lattice_basis(points)
    z = coordinates(points, basis)
    assert z is not None and np.array_equal(z @ np.array(basis), points)
    assert abs(round(np.linalg.det(np.array(basis, dtype=float)))) == 12
    assert coordinates(np.array([[1, 0]]), basis) is None
    assert lattice_basis(np.array([[0, 0], [3, 0], [5, 0]])) == [[1, 0]]


def test_affine_machines_round_trip_through_json() -> None:
    task = get_task("Prev1")
    inputs = make_split(task, 200, 0).x_train
    model = linear_rnn([[0, 0], [1, 0]], [1, 0], [0, 1])
    machine = extract_affine(model, inputs, alphabet_symbols(task.alphabet), source="s").machine
    assert affine_from_json(affine_to_json(machine)) == machine
    modular = AffineMachine((0, 1), ((1,),), ((1,),), (0,), (0,), ((1,),), (0,), modulus=2)
    assert affine_from_json(affine_to_json(modular)) == modular


def run_extract(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rasp mips")
    register_extract_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["extract", *argv])
    status: int = args.handler(args)
    return status


def test_the_extract_command_writes_an_affine_machine_that_lifts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, machine_path = tmp_path / "run", tmp_path / "sum_last2.json"
    save_run(rotated_sum_last2(), get_task("Sum_Last2"), run_dir)
    argv = [str(run_dir), "-o", str(machine_path), "--sequences", "500", "--method", "affine"]
    assert run_extract(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f"{machine_path}: integer-affine machine of state dimension 2, readout identity "
        "(4950 hidden states traced, lattice denominator 1; largest deviation"
    )
    assert lines[0].endswith("4500 transitions reproduced exactly")
    assert lines[1:] == [
        f"{name} on the test split: 50 sequences, 500 positions, 0 disagree"
        for name in ("RNN", "Sum_Last2")
    ]
    machine = load_any(machine_path)
    assert isinstance(machine, AffineMachine) and machine.C == ((1, 1),)
    assert machine.source == f"extracted from {run_dir} (integer lattice) at tolerance 0.4"
    lifted = FRONTEND.lift(machine_path, LiftOptions(max_len=5, exhaustive_limit=200, samples=20))
    assert lifted.certificate.ok


def test_a_briefly_trained_linear_rnn_is_extracted(tmp_path: Path) -> None:
    # A linear RNN (D = 1, linear readout) trains to a perfect Sum_All test split in about two
    # seconds on a CPU (deterministic); its states drift by up to about 0.03 from the lattice.
    task = get_task("Sum_All")
    settings = TrainSettings(
        steps=3000, batch_size=256, dataset_size=10_000, eval_every=3000, eval_batch=4096
    )
    config = RNNConfig(1, 1, 1, hidden_depth=1, output_depth=1)
    result = train_rnn(task, tmp_path, config, settings, progress=False, seeds=[2])
    assert result.seeds[0].perfect
    model = load_run(tmp_path).model
    split = make_split(task, 2000, 0)
    found = extract_affine(model, split.x_train, alphabet_symbols(task.alphabet))
    machine = found.machine
    assert (machine.A, machine.B, machine.C) == (((1,),), ((1,),), ((1,),))
    assert agreement(machine, task_reference(task), split.x_test, "task").ok
