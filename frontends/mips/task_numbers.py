"""The number tasks of reference §13 (rows 16-41 and 52-58): counters, sums, delays,
differences, running extremes, majorities, detectors, sums mod m and dithering, each a
:class:`Task` with its reference function (inputs in, per-position outputs out)."""

from __future__ import annotations

import numpy as np

from .task_spec import Alphabet, IntArray, Labeller, OutputRange, Task, as_ints, shifted, window_sum

PERCENTS = Alphabet(0, 99)
SIGNED = Alphabet(-100, 99)
PERFECT_SQUARES = (0, 1, 4, 9, 16)
DITHER_LEVEL = 15


def evens_counter(x: IntArray) -> IntArray:
    """How many of ``x_0..x_t`` are even (no modulus)."""
    return np.cumsum(x % 2 == 0, axis=1)


def sum_all(x: IntArray) -> IntArray:
    """``x_0 + ... + x_t``."""
    return np.cumsum(x, axis=1)


def sum_last(k: int) -> Labeller:
    """``x_{t-k+1} + ... + x_t``, inputs before the start counting as 0."""

    def total(x: IntArray) -> IntArray:
        return window_sum(x, k)

    return total


def current_number(x: IntArray) -> IntArray:
    """``x_t``."""
    return x.copy()


def previous(k: int) -> Labeller:
    """``x_{t-k}``, and 0 for ``t < k``."""

    def delayed(x: IntArray) -> IntArray:
        return shifted(x, k)

    return delayed


def previous_equals_current(x: IntArray) -> IntArray:
    """``[x_t = x_{t-1}]`` with ``x_{-1} = 0`` (so ``y_0 = [x_0 = 0]``)."""
    return as_ints(x == shifted(x, 1))


def diff_last2(x: IntArray) -> IntArray:
    """``x_t - x_{t-1}`` with ``x_{-1} = 0``."""
    return x - shifted(x, 1)


def abs_diff(x: IntArray) -> IntArray:
    """``|x_t - x_{t-1}|`` with ``x_{-1} = 0``."""
    difference: IntArray = x - shifted(x, 1)
    return np.abs(difference)


def abs_current(x: IntArray) -> IntArray:
    """``|x_t|``."""
    return np.abs(x)


def diff_abs_values(x: IntArray) -> IntArray:
    """``|x_t| - |x_{t-1}|`` with ``x_{-1} = 0``."""
    return np.abs(x) - np.abs(shifted(x, 1))


def min_seen(x: IntArray) -> IntArray:
    """``min(x_0..x_t)``."""
    return np.minimum.accumulate(x, axis=1)


def max_seen(x: IntArray) -> IntArray:
    """``max(x_0..x_t)`` (a running maximum, not a sum)."""
    return np.maximum.accumulate(x, axis=1)


def majority(values: int) -> Labeller:
    """The most frequent value among ``x_0..x_t`` (inputs ``0..values-1``); a tie goes to
    the smallest value."""

    def most_frequent(x: IntArray) -> IntArray:
        counts = np.cumsum(x[:, :, None] == np.arange(values), axis=1)
        winner: IntArray = np.argmax(counts, axis=2).astype(np.int64)
        return winner

    return most_frequent


def evens_detector(x: IntArray) -> IntArray:
    """``[x_t even]``."""
    return as_ints(x % 2 == 0)


def perfect_square_detector(x: IntArray) -> IntArray:
    """``[x_t is a perfect square]`` (inputs ``0..19``: 0, 1, 4, 9 or 16)."""
    return as_ints(np.isin(x, PERFECT_SQUARES))


def add_mod(modulus: int) -> Labeller:
    """``(x_0 + ... + x_t) mod modulus``."""

    def running_sum(x: IntArray) -> IntArray:
        return np.cumsum(x, axis=1) % modulus

    return running_sum


def dithering(x: IntArray) -> IntArray:
    """1-bit error diffusion: with ``S_t = x_0 + ... + x_t`` and ``S_{-1} = 0``,
    ``y_t = S_t // 15 - S_{t-1} // 15`` (0 or 1 for inputs ``0..15``)."""
    level = np.cumsum(x, axis=1) // DITHER_LEVEL
    return level - shifted(level, 1)


def _task(
    number: int,
    name: str,
    alphabet: Alphabet,
    outputs: tuple[int, int],
    steps: int,
    label: Labeller,
    length: int = 10,
) -> Task:
    return Task(number, name, alphabet, length, OutputRange(*outputs), steps, label)


def _sum_last_task(number: int, k: int) -> Task:
    length = 20 if k >= 5 else 10
    return _task(number, f"Sum_Last{k}", PERCENTS, (0, 99 * k), 10_000, sum_last(k), length)


def _previous_task(number: int, k: int) -> Task:
    length = 20 if k == 5 else 10
    return _task(number, f"Prev{k}", PERCENTS, (0, 99), 10_000, previous(k), length)


def _majority_task(number: int, values: int) -> Task:
    alphabet = Alphabet(0, values - 1)
    return _task(
        number, f"Majority_0_{values - 1}", alphabet, (0, values - 1), 20_000, majority(values)
    )


def _add_mod_task(number: int, modulus: int) -> Task:
    alphabet, outputs = Alphabet(0, modulus - 1), OutputRange(0, modulus - 1)
    return Task(number, f"Add_Mod_{modulus}", alphabet, 10, outputs, 10_000, add_mod(modulus), 80)


NUMBER_TASKS: tuple[Task, ...] = (
    _task(16, "Evens_Counter", Alphabet(0, 9), (0, 10), 20_000, evens_counter),
    _task(17, "Sum_All", PERCENTS, (0, 990), 10_000, sum_all),
    *(_sum_last_task(number, k) for number, k in zip(range(18, 24), range(2, 8), strict=True)),
    _task(24, "Current_Number", PERCENTS, (0, 99), 10_000, current_number),
    *(_previous_task(number, k) for number, k in zip(range(25, 30), range(1, 6), strict=True)),
    Task(
        30,
        "Previous_Equals_Current",
        Alphabet(0, 7),
        10,
        OutputRange(0, 1),
        10_000,
        previous_equals_current,
        unique_inputs=True,
    ),
    _task(31, "Diff_Last2", SIGNED, (-199, 199), 10_000, diff_last2),
    _task(32, "Abs_Diff", SIGNED, (0, 199), 10_000, abs_diff),
    _task(33, "Abs_Current", SIGNED, (0, 100), 10_000, abs_current),
    _task(34, "Diff_Abs_Values", SIGNED, (-100, 100), 10_000, diff_abs_values),
    _task(35, "Min_Seen", Alphabet(0, 9), (0, 9), 20_000, min_seen),
    _task(36, "Max_Seen", PERCENTS, (0, 99), 20_000, max_seen),
    *(_majority_task(number, values) for number, values in ((37, 2), (38, 3), (39, 4))),
    _task(40, "Evens_Detector", Alphabet(0, 9), (0, 1), 20_000, evens_detector),
    _task(41, "Perfect_Square_Detector", Alphabet(0, 19), (0, 1), 20_000, perfect_square_detector),
    *(_add_mod_task(number, m) for number, m in zip(range(52, 58), range(3, 9), strict=True)),
    Task(58, "Dithering", Alphabet(0, 15), 10, OutputRange(0, 1), 10_000, dithering, 80),
)
"""Rows 16-41 and 52-58 of reference §13."""
