"""The MIPS task table: names, settings and split sizes as reference §2 and §13 give them,
seeded determinism, causality, output ranges, the samplers, and unknown names."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.tasks import (
    DATASET_SIZE,
    TASKS,
    IntArray,
    Task,
    get_task,
    make_split,
)

ROOT = Path(__file__).parents[3]
ALL = list(TASKS.values())
IDS = list(TASKS)
EIGHTY_TWENTY = {
    *(f"Add_Mod_{m}" for m in range(3, 9)),
    "Div_3",
    "Div_5",
    "Div_7",
    "Dithering",
    "Newton_Freebody",
    "Newton_Gravity",
    "Newton_Spring",
    "Newton_Magnetic",
}
LENGTH_20 = {"Prev5", "Sum_Last5", "Sum_Last6", "Sum_Last7"}
TWENTY_THOUSAND_STEPS = {
    *(f"Base_{b}_Addition" for b in range(3, 8)),
    "Parity_Zeros",
    "Evens_Counter",
    *(task.name for task in ALL if 35 <= task.number <= 48),
}


def _uniform(task: Task, n: int, seed: int) -> IntArray:
    rng = np.random.default_rng(seed)
    shape = task.alphabet.shape(n, task.length)
    return rng.integers(task.alphabet.low, task.alphabet.high + 1, size=shape, dtype=np.int64)


def test_the_62_paper_tasks_in_table_order() -> None:
    assert len(TASKS) == 62
    assert [task.number for task in ALL] == list(range(1, 63))
    assert IDS[:3] == ["Binary_Addition", "Base_3_Addition", "Base_4_Addition"]
    assert IDS[-1] == "Newton_Magnetic"


def test_lengths_steps_and_splits() -> None:
    assert {t.name for t in ALL if t.length == 20} == LENGTH_20
    assert all(t.length == 10 for t in ALL if t.name not in LENGTH_20)
    assert {t.name for t in ALL if t.steps == 20_000} == TWENTY_THOUSAND_STEPS
    assert all(t.steps == 10_000 for t in ALL if t.name not in TWENTY_THOUSAND_STEPS)
    assert {t.name for t in ALL if t.train_percent == 80} == EIGHTY_TWENTY
    assert all(t.train_percent == 90 for t in ALL if t.name not in EIGHTY_TWENTY)


def test_alphabets() -> None:
    described = {name: task.alphabet.describe() for name, task in TASKS.items()}
    assert described["Binary_Addition"] == "pairs of bits"
    assert described["Base_7_Addition"] == "pairs of 0..6"
    assert described["Diff_Last2"] == "-100..99"
    assert described["Previous_Equals_Current"] == "0..7"
    assert described["Perfect_Square_Detector"] == "0..19"
    assert described["Dithering"] == "0..15"
    assert described["Newton_Spring"] == "-10..10"
    assert described["Newton_Magnetic"] == "pairs of -10..10"
    assert TASKS["Newton_Magnetic"].outputs.width == 2


def test_split_sizes_over_the_anchor_dataset_size() -> None:
    assert DATASET_SIZE == 1_000_000
    for task in ALL:
        expected = (800_000, 200_000) if task.name in EIGHTY_TWENTY else (900_000, 100_000)
        assert task.split_sizes(DATASET_SIZE) == expected


@pytest.mark.parametrize("name", ["Parity_All", "Div_3", "Newton_Magnetic"])
def test_make_split_shapes_and_sizes(name: str) -> None:
    task = get_task(name)
    data = make_split(task, 1001, seed=3)
    train, test = task.split_sizes(1001)
    assert data.x_train.shape == task.alphabet.shape(train, task.length)
    assert data.x_test.shape == task.alphabet.shape(test, task.length)
    assert data.y_train.shape[:2] == (train, task.length)
    assert data.y_test.shape[:2] == (test, task.length)
    assert train + test == 1001


def test_make_split_is_deterministic_by_seed() -> None:
    for task in ALL:
        first, again, other = (make_split(task, 50, seed) for seed in (7, 7, 8))
        for field in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
        assert not np.array_equal(first.x_train, other.x_train)


def test_the_split_is_the_generated_stream_cut_in_two() -> None:
    task = get_task("Sum_Last3")
    x, y = task.generate(100, np.random.default_rng(5))
    data = make_split(task, 100, seed=5)
    np.testing.assert_array_equal(np.concatenate([data.x_train, data.x_test]), x)
    np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_test]), y)


@pytest.mark.parametrize("task", ALL, ids=IDS)
def test_outputs_depend_only_on_inputs_so_far(task: Task) -> None:
    x = _uniform(task, 64, seed=task.number)
    y = task.label(x)
    fresh = _uniform(task, 64, seed=1000 + task.number)
    for t in range(task.length - 1):
        changed = x.copy()
        changed[:, t + 1 :] = fresh[:, t + 1 :]
        np.testing.assert_array_equal(task.label(changed)[:, : t + 1], y[:, : t + 1])
    for length in (1, 3):
        np.testing.assert_array_equal(task.label(x[:, :length]), y[:, :length])


@pytest.mark.parametrize("task", ALL, ids=IDS)
def test_generated_data_stays_in_the_alphabet_and_output_range(task: Task) -> None:
    x, y = task.generate(2000, np.random.default_rng(task.number))
    assert x.dtype == y.dtype == np.int64
    assert x.shape == task.alphabet.shape(len(x), task.length)
    assert y.shape == ((len(x), task.length) + ((2,) if task.outputs.width == 2 else ()))
    assert task.alphabet.low <= x.min() and x.max() <= task.alphabet.high
    assert task.outputs.low <= y.min() and y.max() <= task.outputs.high


@pytest.mark.parametrize("name", [n for n in IDS if n.startswith("Newton")])
def test_newton_output_ranges_are_exact(name: str) -> None:
    """Positions are affine in the forces: the extremes are forces of +-10 signed like each
    force's coefficient, and they reach the declared range exactly."""
    task = get_task(name)
    shape = task.alphabet.shape(1, task.length)
    size = int(np.prod(shape))
    rest = task.label(np.zeros(shape, dtype=np.int64))
    unit = np.eye(size, dtype=np.int64).reshape(size, *shape[1:])
    coefficients = task.label(unit) - rest
    reach = 10 * np.abs(coefficients).sum(axis=0)
    assert (rest[0] + reach).max() == task.outputs.high
    assert (rest[0] - reach).min() == task.outputs.low


def test_bit_palindrome_inputs_start_with_a_palindrome_of_two_or_more_bits() -> None:
    task = get_task("Bit_Palindrome")
    _, y = task.generate(3000, np.random.default_rng(0))
    assert (y[:, 0] == 1).all()
    assert (y[:, 1:].max(axis=1) == 1).all()
    longest = task.length - 1 - np.argmax(y[:, ::-1], axis=1)
    assert set(longest.tolist()) == set(range(1, task.length))


def test_previous_equals_current_drops_repeated_sequences() -> None:
    task = get_task("Previous_Equals_Current")
    assert task.unique_inputs

    def repeated(task: Task, n: int, rng: np.random.Generator) -> IntArray:
        return np.array([[1] * 10, [2] * 10, [1] * 10] * (n // 3), dtype=np.int64)

    x, y = replace(task, sample=repeated).generate(9, np.random.default_rng(0))
    assert sorted(x[:, 0].tolist()) == [1, 2]
    assert y[:, 1:].min() == 1
    x, _ = task.generate(3000, np.random.default_rng(0))
    assert len(np.unique(x, axis=0)) == len(x)


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(RaspError, match="cannot generate -1 sequences"):
        get_task("Prev1").generate(-1, np.random.default_rng(0))


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(RaspError) as caught:
        get_task("parity_all")
    assert "unknown MIPS task 'parity_all'" in str(caught.value)
    assert "did you mean 'Parity_All'" in str(caught.value)
    with pytest.raises(RaspError, match="Div_3"):
        get_task("Div3")
    with pytest.raises(RaspError, match="lists the 62 task names"):
        get_task("quicksort")


def test_the_task_modules_import_no_torch() -> None:
    code = "import sys, rasp_ir.frontends.mips.task_cmds; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
