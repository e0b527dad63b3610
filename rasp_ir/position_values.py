"""A program in, the values that depend on positions alone out: ``indices``, ``length`` and
every binding computed from them only (``select(indices, indices, <)``, ``length - indices -
1``), kept per width and shared by the batches that have no padding.

In a batch without padding such a value is the same in every example, masks included (all
pairs, or keys up to the query when causal). It is computed on the first such batch of a width;
its first example is kept, read-only, and later batches of that width get it broadcast over
their examples instead of computing it again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.evaluation_steps import BatchState, Step
from rasp_ir.ir import Program, operands

POSITIONS = ("indices", "length")


def position_only_names(program: Program) -> frozenset[str]:
    """``indices``, ``length`` and the bindings that read nothing else, directly or not."""
    names = set(POSITIONS)
    for binding in program.bindings:
        if all(name in names for name in operands(binding.node)):
            names.add(binding.name)
    return frozenset(names)


class PositionValues:
    """The position-only values of one program, kept per width."""

    def __init__(self, program: Program) -> None:
        self.names = position_only_names(program)
        self._kept: dict[int, dict[str, npt.NDArray[Any]]] = {}

    def shared(self, name: str, step: Step) -> Step:
        """``step`` of the position-only binding ``name``, its value kept per width."""
        return lambda state: self.value(state, name, step)

    def value(self, state: BatchState, name: str, compute: Step) -> npt.NDArray[Any]:
        """``name``'s value on the batch: the kept one broadcast over its examples, else
        ``compute(state)`` (kept when the batch has no padding)."""
        batch = state.shape[0]
        if not state.full or batch == 0:
            return compute(state)
        kept = self._kept.setdefault(state.width, {})
        found = kept.get(name)
        if found is None:
            computed = compute(state)
            first = computed[:1].copy()
            first.flags.writeable = False
            kept[name] = first
            return computed
        if batch == 1:
            return found
        return np.broadcast_to(found, (batch, *found.shape[1:]))
