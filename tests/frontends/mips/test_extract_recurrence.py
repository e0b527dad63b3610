"""Recurrence identification reads a linear task off an RNN's rounded outputs alone: a
ReLU RNN computing Newton's spring gives the order-2 companion machine, equal to the task
at T and 4T, without reading a hidden state; a bias that
grows with t goes into c; outputs that are no integer filter, and filters no recurrence
determined by T terms realizes, are refused with the reason; the extract command writes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.affine import AffineMachine
from rasp_ir.frontends.mips.extract import alphabet_symbols
from rasp_ir.frontends.mips.extract_recurrence import (
    extract_recurrence,
    lagged_design,
    recurrence,
)
from rasp_ir.frontends.mips.lift import load_any
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import save_run
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.verify_machine import agreement, model_reference, task_reference

from .test_extract_affine import linear_rnn, relu_current_rnn, run_extract

torch.set_num_threads(1)


def relu_spring_rnn() -> GeneralRNN:
    """Newton_Spring with the state (p, v) stored as (relu(p), relu(-p), relu(v), relu(-v)):
    p' = v + x, v' = v + x - p; y = p."""
    model = GeneralRNN(RNNConfig(1, 1, 4, hidden_depth=2, hidden_width=4, output_depth=1))
    p, v, x = np.array([1, -1, 0, 0, 0]), np.array([0, 0, 1, -1, 0]), np.eye(5)[4]
    first = np.array([v + x, -(v + x), v + x - p, -(v + x - p)], dtype=np.float64)
    weights = {
        "hidden.0.weight": first,
        "hidden.0.bias": np.zeros(4),
        "hidden.2.weight": np.eye(4),
        "hidden.2.bias": np.zeros(4),
        "output.0.weight": np.array([[1.0, -1.0, 0.0, 0.0]]),
        "output.0.bias": np.zeros(1),
    }
    model.load_state_dict({k: torch.tensor(w, dtype=torch.float32) for k, w in weights.items()})
    return model


def test_a_relu_spring_is_read_off_its_outputs() -> None:
    task = get_task("Newton_Spring")
    split = make_split(task, 1000, 0)
    alphabet = alphabet_symbols(task.alphabet)
    model = relu_spring_rnn()
    found = extract_recurrence(model, split.x_train, alphabet, task=task.name)
    machine = found.machine
    assert found.coefficients == (1, -1)
    assert found.markov[:, 0].tolist() == [1, 1, 0, -1, -1, 0, 1, 1, 0, -1]
    assert (machine.A, machine.B, machine.c, machine.C) == (
        ((0, 1), (-1, 1)),
        ((1,), (1,)),
        (0, 0),
        ((1, 0),),
    )
    assert found.positions == 800 * task.length
    for reference in (task_reference(task), model_reference(model)):
        assert agreement(machine, reference, split.x_test, "test split").ok
    long = np.random.default_rng(1).integers(-10, 11, size=(300, 4 * task.length))
    assert agreement(machine, task_reference(task), long, "4T").ok


def test_a_growing_bias_goes_into_c() -> None:
    # Newton_Gravity: v' = v + x - 1, p' = p + v' (h = (p, v), a linear RNN with a bias).
    model = linear_rnn([[1, 1], [0, 1]], [1, 1], [1, 0])
    model.hidden[0].bias.data = torch.tensor([-1.0, -1.0])
    task = get_task("Newton_Gravity")
    split = make_split(task, 500, 0)
    found = extract_recurrence(model, split.x_train, alphabet_symbols(task.alphabet))
    assert found.coefficients == (2, -1)
    assert found.bias.tolist() == [-(t + 1) * (t + 2) // 2 for t in range(task.length)]
    assert found.machine.c == (-1, -2) and found.machine.d == (0,)
    long = np.random.default_rng(2).integers(-10, 11, size=(300, 4 * task.length))
    assert agreement(found.machine, task_reference(task), long, "4T").ok


def test_a_constant_offset_needs_no_state() -> None:
    model = linear_rnn([[0]], [1], [1], read_bias=5.0)
    task = get_task("Current_Number")
    found = extract_recurrence(model, make_split(task, 200, 0).x_train, (*range(100),))
    assert found.coefficients == (0,)
    assert (found.machine.c, found.machine.d) == ((0,), (5,))


def test_what_is_no_filter_or_no_determined_recurrence_is_refused() -> None:
    task = get_task("Abs_Current")
    inputs = make_split(task, 300, 0).x_train
    with pytest.raises(RaspError, match="not an integer time-invariant filter"):
        extract_recurrence(relu_current_rnn(), inputs, alphabet_symbols(task.alphabet))
    assert recurrence(np.array([[1, 0, 0, 2]]), 1) is None
    assert recurrence(np.array([[1, 0, 0, 2]]), 3) is None  # one equation, three unknowns
    shift: list[list[float]] = [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    model = linear_rnn(shift, [1, 0, 0, 0], [1, 0, 0, 2])  # y = x_t + 2 x_{t-3}
    short = np.random.default_rng(0).integers(0, 100, size=(200, 4))
    with pytest.raises(RaspError, match=r"no linear recurrence of order below 4"):
        extract_recurrence(model, short, (*range(100),))


def test_the_design_lags_each_position_with_zeros_before_the_start() -> None:
    x = np.array([[[1], [2], [3]]])
    assert lagged_design(x).tolist() == [
        [1, 0, 0, 1, 0, 0],
        [2, 1, 0, 0, 1, 0],
        [3, 2, 1, 0, 0, 1],
    ]


def test_the_extract_command_writes_the_companion_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, machine_path = tmp_path / "run", tmp_path / "spring.json"
    save_run(relu_spring_rnn(), get_task("Newton_Spring"), run_dir)
    argv = [str(run_dir), "-o", str(machine_path), "--sequences", "500", "--method", "recurrence"]
    assert run_extract(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{machine_path}: companion-form machine of state dimension 2 (recurrence coefficients "
        "[1, -1]), equal to the RNN's rounded outputs on 4000 traced positions",
        *(
            f"{name} on the test split: 100 sequences, 1000 positions, 0 disagree"
            for name in ("RNN", "Newton_Spring")
        ),
    ]
    machine = load_any(machine_path)
    assert isinstance(machine, AffineMachine) and machine.A == ((0, 1), (-1, 1))
