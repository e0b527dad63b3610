"""What a MIPS task is: an input alphabet, a length, an output range, a reference labelling
function and a sampler in; seeded, split integer data out (reference §2, §13).

Arrays are ``int64``. Scalar inputs are ``(n, T)`` and two-number inputs ``(n, T, 2)``; outputs
are ``(n, T)``, or ``(n, T, 2)`` for a task with two outputs per step. The anchor stores some
scalar tasks with a trailing dimension of 1 (``(N, T, 1)``); that storage detail is dropped here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rasp_ir.api import RaspError

IntArray = npt.NDArray[np.int64]
Labeller = Callable[[IntArray], IntArray]
"""A task's reference function: inputs ``(n, T[, 2])`` of any length ``T`` in, outputs out;
output ``t`` depends only on inputs ``0..t``, and inputs before position 0 count as 0."""

DATASET_SIZE = 1_000_000
"""The anchor's ``D``: sequences generated per task before the split."""
ANCHOR_SEED = 42
"""The seed the anchor sets before generating every task."""


@dataclass(frozen=True)
class Alphabet:
    """The integers ``low..high`` (inclusive) that an input takes, ``width`` of them per step."""

    low: int
    high: int
    width: int = 1

    def describe(self) -> str:
        """``bits``, ``0..99``, or ``pairs of ...`` for two numbers per step."""
        values = "bits" if (self.low, self.high) == (0, 1) else f"{self.low}..{self.high}"
        return values if self.width == 1 else f"pairs of {values}"

    def shape(self, n: int, length: int) -> tuple[int, ...]:
        """The shape of ``n`` input sequences of ``length`` steps."""
        return (n, length) if self.width == 1 else (n, length, self.width)


@dataclass(frozen=True)
class OutputRange:
    """The smallest and largest output (inclusive) over every input sequence of the task's
    alphabet and length, and how many outputs there are per step."""

    low: int
    high: int
    width: int = 1

    def describe(self) -> str:
        """``0..990``, or ``pairs in ...`` for two outputs per step."""
        values = f"{self.low}..{self.high}"
        return values if self.width == 1 else f"pairs in {values}"


Sampler = Callable[["Task", int, np.random.Generator], IntArray]
"""Draws ``n`` input sequences of a task: ``(task, n, rng)`` in, ``(n, T[, 2])`` out."""


def uniform_inputs(task: Task, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` sequences with every input drawn independently and uniformly from the alphabet."""
    alphabet = task.alphabet
    shape = alphabet.shape(n, task.length)
    return rng.integers(alphabet.low, alphabet.high + 1, size=shape, dtype=np.int64)


@dataclass(frozen=True)
class Task:
    """One of the paper's 62 tasks (reference §13), by its paper name and row number.

    ``label`` is the task's reference function (any batch, any length); ``sample`` draws its
    inputs, uniformly from the alphabet unless the task says otherwise. ``steps`` is the
    anchor's training budget; ``train_percent`` is 90 or 80, the share of the generated
    sequences that is the training split (the rest is the test split). A task with
    ``unique_inputs`` drops repeated sequences before splitting, so it may yield fewer than
    ``n``.
    """

    number: int
    name: str
    alphabet: Alphabet
    length: int
    outputs: OutputRange
    steps: int
    label: Labeller
    train_percent: int = 90
    sample: Sampler = uniform_inputs
    unique_inputs: bool = False

    def generate(self, n: int, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
        """``n`` input sequences drawn with ``rng`` and their outputs, ``(x, y)``."""
        if n < 0:
            raise RaspError.single("mips-data", f"cannot generate {n} sequences", hint="n >= 0")
        x = self.sample(self, n, rng)
        if self.unique_inputs:
            x = np.unique(x, axis=0)
            x = x[rng.permutation(len(x))]
        return x, self.label(x)

    def split_sizes(self, n: int) -> tuple[int, int]:
        """How many of ``n`` sequences go to the training and the test split."""
        train = n * self.train_percent // 100
        return train, n - train

    def summary(self) -> str:
        """One line: name, alphabet, length, output range, training steps, split."""
        return (
            f"{self.name:<24} {self.alphabet.describe():<17} T={self.length:<3} "
            f"y {self.outputs.describe():<22} steps {self.steps:<6} "
            f"split {self.train_percent}/{100 - self.train_percent}"
        )


@dataclass(frozen=True)
class SplitData:
    """A task's data, as the anchor stores it: the first sequences train, the rest test."""

    x_train: IntArray
    y_train: IntArray
    x_test: IntArray
    y_test: IntArray


def make_split(task: Task, n: int = DATASET_SIZE, seed: int = ANCHOR_SEED) -> SplitData:
    """Generate ``n`` sequences of ``task`` from ``seed`` and split them (the same seed gives
    the same data); ``task.unique_inputs`` makes it fewer than ``n`` before the split."""
    x, y = task.generate(n, np.random.default_rng(seed))
    train, _ = task.split_sizes(len(x))
    return SplitData(x[:train], y[:train], x[train:], y[train:])


def shifted(x: IntArray, k: int) -> IntArray:
    """``x_{t-k}`` at every position ``t`` (axis 1), 0 before the start."""
    out = np.zeros_like(x)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def window_sum(x: IntArray, k: int) -> IntArray:
    """``x_{t-k+1} + ... + x_t`` at every position ``t`` (axis 1), 0 before the start."""
    total = np.cumsum(x, axis=1)
    return total - shifted(total, k)


def as_ints(values: npt.NDArray[np.bool_]) -> IntArray:
    """A truth array as 0/1 ``int64``."""
    return values.astype(np.int64)
