"""Finite functions over residual channels: leaves (what a head or the embedding wrote) and
tables of output codes over every combination of leaf states.

Every s-op the compiler handles is a :class:`Table` over *leaves*: the channels that hold
``tokens``, ``indices`` or a head's raw output. Maps compose tables by indexing (the same
tables the interpreter uses, :func:`rasp_ir.tables.map_table`), so a chain of maps is one
table over its leaf inputs and compiles to one MLP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

from rasp_ir.api import Value, is_number, value_key

LeafKind = Literal["onehot", "scalar", "ratio", "sumratio"]
Codes = npt.NDArray[np.int64]
MAX_TABLE = 2_000_000


@dataclass(frozen=True, eq=False)
class Leaf:
    """A residual channel a later MLP or head reads.

    ``onehot``: one dimension per defined state, none is the zero vector. ``scalar``: one
    dimension holding the (numeric) state. ``ratio``: one dimension holding ``1/(w+1)`` for the
    integer state ``w`` (a counting head). ``sumratio``: two dimensions ``(A, B)`` with
    ``A/B`` the state and ``B = 1/(w+1)``, ``w <= max_count``. ``ready``: the sublayer after
    which the channel holds its value (0 embedding, ``2L-1`` attention of layer L, ``2L`` its
    MLP).
    """

    name: str
    kind: LeafKind
    states: tuple[Value, ...]
    ready: int
    dims: tuple[int, ...]
    max_count: int = 0

    @property
    def numeric(self) -> bool:
        """True for channels read by thresholds (everything but one-hot)."""
        return self.kind != "onehot"

    def state_dim(self, state: int) -> int | None:
        """The one-hot dimension of a state (None for the undefined state)."""
        place = self._defined_places[state]
        return None if place is None else self.dims[place]

    @cached_property
    def _defined_places(self) -> tuple[int | None, ...]:
        """The place of every state among the defined ones (None for the undefined state)."""
        places: list[int | None] = []
        count = 0
        for value in self.states:
            places.append(None if value is None else count)
            count += value is not None
        return tuple(places)

    def number(self, state: int) -> Fraction:
        """The numeric value of a state of a numeric leaf."""
        value = self.states[state]
        if isinstance(value, bool) or not is_number(value):
            raise TypeError(f"state {value!r} of {self.name} is not a number")
        assert isinstance(value, (int, Fraction))
        return Fraction(value)

    @cached_property
    def sorted_numbers(self) -> tuple[Fraction, ...]:
        """The numeric values of every state, in increasing order (a numeric leaf only)."""
        return tuple(sorted(self.number(i) for i in range(len(self.states))))


@dataclass(frozen=True, eq=False)
class Table:
    """Output codes (into ``values``) for every combination of leaf states."""

    leaves: tuple[Leaf, ...]
    codes: Codes
    values: tuple[Value, ...]

    @property
    def size(self) -> int:
        return int(self.codes.size)


def identity(leaf: Leaf, values: tuple[Value, ...] | None = None) -> Table:
    """The table reading a leaf as is (``values`` defaults to the leaf's states)."""
    out = leaf.states if values is None else values
    index = {value_key(v): i for i, v in enumerate(out)}
    codes = np.array([index.get(value_key(s), 0) for s in leaf.states], dtype=np.int64)
    return Table((leaf,), codes, out)


def constant(value: Value) -> Table:
    """The table of a constant s-op (no leaves)."""
    return Table((), np.zeros((), dtype=np.int64), (value,))


def union_leaves(tables: list[Table]) -> tuple[Leaf, ...]:
    """The leaves of several tables, in order of first appearance."""
    seen: dict[int, Leaf] = {}
    for table in tables:
        for leaf in table.leaves:
            seen.setdefault(id(leaf), leaf)
    return tuple(seen.values())


def align(table: Table, leaves: tuple[Leaf, ...]) -> Codes:
    """``table.codes`` with one axis per leaf of ``leaves`` (size 1 where it does not read it)."""
    order = [leaves.index(leaf) for leaf in table.leaves]
    arr = table.codes.transpose(np.argsort(order)) if order else table.codes
    shape = [1] * len(leaves)
    for leaf in table.leaves:
        position = leaves.index(leaf)
        shape[position] = len(leaf.states)
    return arr.reshape(shape)


def table_size(leaves: tuple[Leaf, ...]) -> int:
    return math.prod(len(leaf.states) for leaf in leaves)


def drop_constant_axes(table: Table) -> Table:
    """The same function without the leaves it does not depend on."""
    codes = table.codes
    kept: list[Leaf] = []
    axis = 0
    for leaf in table.leaves:
        first = np.take(codes, [0], axis=axis)
        if bool((codes == first).all()):
            codes = np.take(codes, 0, axis=axis)
        else:
            kept.append(leaf)
            axis += 1
    return Table(tuple(kept), codes, table.values)


def behaviour_classes(table: Table, axis: int) -> list[int]:
    """A class id per state of ``axis``: states whose slices of the table are equal share one."""
    slices = np.moveaxis(table.codes, axis, 0).reshape(table.codes.shape[axis], -1)
    ids: dict[bytes, int] = {}
    return [ids.setdefault(row.tobytes(), len(ids)) for row in slices]


def substitute(table: Table, axis: int, leaf: Leaf, classes: list[int]) -> Table:
    """The table reading ``leaf`` (one state per class id) instead of the leaf on ``axis``."""
    first = {c: classes.index(c) for c in range(max(classes) + 1)}
    picked = np.take(table.codes, [first[c] for c in range(len(first))], axis=axis)
    leaves = list(table.leaves)
    leaves[axis] = leaf
    return Table(tuple(leaves), picked, table.values)
