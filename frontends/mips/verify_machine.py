"""Checking an extracted machine: a machine and a reference (an RNN's rounded outputs or a
task's targets) in, on given sequences or on every sequence up to a length; how many
sequences and positions agree, and the first disagreement, out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from rasp_ir.api import RaspError

from .affine import AffineMachine
from .extract import symbol_indices
from .machine import FiniteMachine, Symbol
from .rnn import GeneralRNN
from .task_spec import IntArray, Task

Machine = FiniteMachine | AffineMachine
Reference = Callable[[IntArray], IntArray]
"""Input sequences ``(n, T)`` or ``(n, T, 2)`` in, one output per position ``(n, T)`` out."""
EXHAUSTIVE_LIMIT = 1_000_000


@dataclass(frozen=True)
class Disagreement:
    """An input on which the machine and the reference differ, at its first differing
    position."""

    inputs: list[Symbol]
    position: int
    expected: int
    found: int


@dataclass(frozen=True)
class Agreement:
    """How a machine compares with ``reference`` on ``sequences`` inputs (``positions``
    outputs in all): how many positions and sequences differ, and the first that does."""

    reference: str
    sequences: int
    positions: int
    wrong_positions: int
    wrong_sequences: int
    first: Disagreement | None

    @property
    def ok(self) -> bool:
        """Whether machine and reference agree everywhere."""
        return self.wrong_positions == 0

    def summary(self) -> str:
        """One line: what was compared and how it went."""
        head = (
            f"{self.reference}: {self.sequences} sequences, {self.positions} positions, "
            f"{self.wrong_positions} disagree"
        )
        if self.first is None:
            return head
        first = self.first
        return (
            f"{head} (first: input {first.inputs}, position {first.position}, expected "
            f"{first.expected}, machine {first.found})"
        )


def model_reference(model: GeneralRNN) -> Reference:
    """The RNN's rounded outputs as a reference (the RNN must have one output)."""

    def predict(x: IntArray) -> IntArray:
        outputs: IntArray = model.predict(torch.from_numpy(np.asarray(x)))[..., 0].numpy()
        return outputs

    return predict


def task_reference(task: Task) -> Reference:
    """A task's targets as a reference (the task must have one output per step)."""
    if task.outputs.width != 1:
        raise RaspError.single(
            "mips-verify", f"{task.name} has {task.outputs.width} outputs per step; a machine one"
        )
    return task.label


def agreement(
    machine: Machine, reference: Reference, inputs: npt.ArrayLike, name: str
) -> Agreement:
    """``machine`` compared with ``reference`` (called ``name`` in messages) on ``inputs``."""
    x = np.asarray(inputs, dtype=np.int64)
    found = np.asarray(machine.run(symbol_indices(x, machine.alphabet))).astype(np.int64)
    expected = np.asarray(reference(x), dtype=np.int64).reshape(found.shape)
    wrong = found != expected
    rows = np.flatnonzero(wrong.any(axis=1))
    first = None
    if rows.size:
        row = int(rows[0])
        at = int(np.argmax(wrong[row]))
        symbols: list[Symbol] = [tuple(s) if x.ndim == 3 else s for s in x[row].tolist()]
        first = Disagreement(symbols, at, int(expected[row, at]), int(found[row, at]))
    return Agreement(name, len(x), int(found.size), int(wrong.sum()), int(rows.size), first)


def all_inputs(alphabet: Sequence[Symbol], length: int) -> IntArray:
    """Every input sequence of ``length`` symbols of ``alphabet``, ``(|alphabet|^length, length)``
    or ``(..., length, 2)`` for pairs, in lexicographic order of symbol index."""
    table = np.array(alphabet, dtype=np.int64)
    grid = np.indices((len(alphabet),) * length).reshape(length, -1).T
    inputs: IntArray = table[grid]
    return inputs


def exhaustive_agreement(
    machine: Machine,
    reference: Reference,
    max_len: int,
    name: str,
    limit: int = EXHAUSTIVE_LIMIT,
) -> Agreement:
    """``machine`` compared with ``reference`` on every input of length 1 to ``max_len``; a
    RaspError when that is more than ``limit`` sequences."""
    k = len(machine.alphabet)
    total = sum(k**length for length in range(1, max_len + 1))
    if total > limit:
        raise RaspError.single(
            "mips-verify",
            f"every input up to length {max_len} over {k} symbols is {total} sequences, more "
            f"than {limit}",
            hint="check a shorter length exhaustively and longer inputs by sampling",
        )
    parts = [
        agreement(machine, reference, all_inputs(machine.alphabet, length), name)
        for length in range(1, max_len + 1)
    ]
    first = next((part.first for part in parts if part.first is not None), None)
    return Agreement(
        name,
        sum(p.sequences for p in parts),
        sum(p.positions for p in parts),
        sum(p.wrong_positions for p in parts),
        sum(p.wrong_sequences for p in parts),
        first,
    )
