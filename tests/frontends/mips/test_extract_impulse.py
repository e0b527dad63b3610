"""Impulse-response extraction reads the integer filter off linear RNNs that the lattice method
refuses (an update that is not nilpotent, a readout that leaves old inputs a little weight),
with a bound that holds on every input; RNNs whose Markov parameters are not near integers,
or that are not linear end to end, are refused with the numbers; pair inputs get one
register per component; ``rasp mips solve`` tries it after the lattice, and ``rasp mips extract
--method impulse`` writes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.affine import AffineMachine
from rasp_ir.frontends.mips.extract import alphabet_symbols
from rasp_ir.frontends.mips.extract_affine import extract_affine
from rasp_ir.frontends.mips.extract_impulse import extract_impulse, impulse_response
from rasp_ir.frontends.mips.lift import load_any
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import Run, save_run
from rasp_ir.frontends.mips.solve import methods
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.verify_machine import agreement, model_reference, task_reference

from .test_extract_affine import linear_rnn, run_extract

torch.set_num_threads(1)


def leaky_current() -> GeneralRNN:
    """h1' = x, h2' = h2 / 2 + x; y = h1 + h2 / 1000: the output is x_t plus less than 0.2
    (over 0..99); h2 is dense, on no lattice."""
    return linear_rnn([[0, 0], [0, 0.5]], [1, 1], [1, 0.001])


def test_a_leaky_rnn_the_lattice_refuses_is_read_as_its_filter() -> None:
    task = get_task("Current_Number")
    alphabet = alphabet_symbols(task.alphabet)
    split = make_split(task, 1000, 0)
    model = leaky_current()
    with pytest.raises(RaspError, match="lattice"):
        extract_affine(model, split.x_train, alphabet)
    found = extract_impulse(model, alphabet, task.length, task=task.name)
    machine = found.machine
    assert (machine.A, machine.B, machine.C, machine.d) == (((0,),), ((1,),), ((1,),), (0,))
    assert machine.c == machine.initial == (0,) and machine.max_len == task.length
    # g_k = 0.001 / 2^k beyond the integer 1 at k = 0: the bound is 99 * 0.001 * (2 - 2^-9).
    assert found.max_error == pytest.approx(99 * 0.001 * (2 - 2**-9), rel=1e-5)
    for reference in (task_reference(task), model_reference(model)):
        assert agreement(machine, reference, split.x_test, "test split").ok
    # The worst input for the bound: 99 everywhere.
    assert agreement(machine, model_reference(model), np.full((1, 10), 99), "all 99").ok


def test_a_prev2_with_a_small_eigenvalue_becomes_a_shift_register() -> None:
    # W = shift + 0.001 I: g_2 = 1 + O(1e-3), g_3 = 0.003, g_4 = 6e-6, ... ; y reads cell 3.
    eps = 0.001
    w = [[eps, 0, 0], [1, eps, 0], [0, 1, eps]]
    model = linear_rnn(w, [1, 0, 0], [0, 0, 1], read_bias=0.05)
    task = get_task("Prev2")
    found = extract_impulse(model, alphabet_symbols(task.alphabet), task.length)
    machine = found.machine
    shift = ((0, 0, 0), (1, 0, 0), (0, 1, 0))
    assert (machine.A, machine.B, machine.C, machine.d) == (
        shift,
        ((1,), (0,), (0,)),
        ((0, 0, 1),),
        (0,),
    )
    markov, bias = impulse_response(model, task.length)
    assert markov[:4, 0] == pytest.approx([0, 0, 1 + 3 * eps**2, 3 * eps], rel=1e-3, abs=1e-6)
    assert bias == pytest.approx(np.full(task.length, 0.05), abs=1e-6)
    split = make_split(task, 1000, 0)
    for reference in (task_reference(task), model_reference(model)):
        assert agreement(machine, reference, split.x_test, "test split").ok


def test_pair_inputs_get_one_register_per_component() -> None:
    # h' = (a, b, h1): y = a_t - b_{t-1}; b_t itself is never read, so it needs two cells.
    model = GeneralRNN(RNNConfig(2, 1, 3, hidden_depth=1, output_depth=1))
    weights = {
        "hidden.0.weight": [[0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 1, 0, 0, 0]],
        "hidden.0.bias": [0.0, 0.0, 0.0],
        "output.0.weight": [[1.0, 0.0, -1.0]],
        "output.0.bias": [0.0],
    }
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()})
    alphabet = tuple((a, b) for a in range(3) for b in range(3))
    machine = extract_impulse(model, alphabet, 6).machine
    assert machine.B == ((1, 0), (0, 1), (0, 0))
    assert machine.A == ((0, 0, 0), (0, 0, 0), (0, 1, 0))
    assert machine.C == ((1, 0, -1),)
    inputs = np.random.default_rng(0).integers(0, 3, size=(200, 6, 2))
    indices = inputs[..., 0] * 3 + inputs[..., 1]
    expected = model.predict(torch.from_numpy(inputs).float())[..., 0].numpy()
    assert np.array_equal(machine.run(indices).astype(np.int64), expected)


def test_rnns_that_are_no_integer_filter_are_refused() -> None:
    task = get_task("Sum_All")
    alphabet = alphabet_symbols(task.alphabet)
    with pytest.raises(RaspError, match=r"not an integer filter within 0.4: at position 1"):
        extract_impulse(linear_rnn([[0.5]], [1], [1]), alphabet, task.length)
    drifting = linear_rnn([[1]], [1], [1], bias=0.15)
    with pytest.raises(RaspError, match="at position 2 the bound on its distance"):
        extract_impulse(drifting, alphabet, task.length)
    nonlinear = GeneralRNN(RNNConfig(1, 1, 2, hidden_depth=2, output_depth=1))
    with pytest.raises(RaspError, match="linear end to end"):
        extract_impulse(nonlinear, alphabet, task.length)
    with pytest.raises(RaspError, match=r"tolerance must be in \(0, 1/2\)"):
        extract_impulse(linear_rnn([[1]], [1], [1]), alphabet, 10, tolerance=0.5)


def test_solve_tries_the_impulse_response_after_the_lattice_on_linear_rnns() -> None:
    def run_of(config: RNNConfig, task_name: str) -> Run:
        return Run(GeneralRNN(config), get_task(task_name))

    linear = RNNConfig(1, 1, 8, hidden_depth=1, output_depth=1)
    assert methods(run_of(linear, "Prev4"), get_task("Prev4")) == [
        "affine",
        "impulse",
        "behaviour",
        "geometric",
        "recurrence",
    ]
    readout = RNNConfig(1, 1, 8, hidden_depth=1, output_depth=2, output_width=4)
    assert "impulse" not in methods(run_of(readout, "Abs_Diff"), get_task("Abs_Diff"))


def test_the_extract_command_writes_the_filter_of_a_leaky_rnn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, machine_path = tmp_path / "run", tmp_path / "current.json"
    save_run(leaky_current(), get_task("Current_Number"), run_dir)
    argv = [str(run_dir), "-o", str(machine_path), "--sequences", "500", "--method", "impulse"]
    assert run_extract(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{machine_path}: shift-register machine of state dimension 1 (Markov parameters "
        "rounded over 10 steps; largest error bound 0.198): equal to the RNN's rounded outputs "
        "on every input of length <= 10",
        *(
            f"{name} on the test split: 50 sequences, 500 positions, 0 disagree"
            for name in ("RNN", "Current_Number")
        ),
    ]
    machine = load_any(machine_path)
    assert isinstance(machine, AffineMachine) and machine.C == ((1,),)
    assert machine.source == f"extracted from {run_dir} (impulse response) at tolerance 0.4"
