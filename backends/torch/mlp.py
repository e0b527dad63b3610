"""A finite function over leaves in, ReLU hidden units that compute it exactly out.

Three constructions, cheapest that applies first:

* **linear read-out** (``num`` targets affine in the leaves, e.g. ``opens - closes`` or a
  cat -> num table): two units ``ReLU(z)``, ``ReLU(-z)``;
* **lookup** (only one-hot leaves): one unit per combination of leaf classes whose output
  differs from the most common one, ``ReLU(sum of indicators - (m - 1))`` (an exact AND);
* **gated steps** (one numeric leaf, any one-hot leaves): per combination ``G`` of one-hot
  classes, a base unit and a step pair ``ReLU(L z + 1/2 - K(1 - g)) - ReLU(L z - 1/2 - K(1 - g))``
  at every threshold where the output changes along the numeric leaf. ``z`` is a linear
  functional that is positive above the threshold with margin ``mu`` (``L = 1/mu``), ``g``
  the AND of ``G``'s indicators; a wrong ``G`` switches the pair off.

A step is exact (0 or 1) while the read value is within half a margin of a known state:
numerical MLPs are exact on their inferred value sets only (rasp-semantics §16.9).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import numpy as np
import numpy.typing as npt

from rasp_ir.backends.torch.functions import Leaf, Table, behaviour_classes, drop_constant_axes

Functional = dict[int, float]
MAX_LINEAR_CELLS = 50_000_000


@dataclass
class Unit:
    """One hidden unit: ``ReLU(inp . x)`` added to the residual through ``out``."""

    inp: Functional
    out: Functional


def add(*parts: tuple[float, Functional]) -> Functional:
    """A linear combination of functionals."""
    result: Functional = {}
    for scale, functional in parts:
        for dim, coefficient in functional.items():
            result[dim] = result.get(dim, 0.0) + scale * coefficient
    return {d: c for d, c in result.items() if c != 0.0}


def indicator(leaf: Leaf, states: set[int], one: int) -> Functional:
    """1 on the given states of a one-hot leaf, 0 on the others (none = all-zero one-hot)."""
    if any(leaf.state_dim(s) is None for s in states):
        everywhere = (leaf.state_dim(i) for i in range(len(leaf.states)) if i not in states)
        excluded = [d for d in everywhere if d is not None]
        return add((1.0, {one: 1.0}), *((-1.0, {d: 1.0}) for d in excluded))
    return {d: 1.0 for s in states if (d := leaf.state_dim(s)) is not None}


@dataclass(frozen=True)
class Step:
    """A functional positive above a threshold, ``|z| >= margin`` on every state."""

    z: Functional
    margin: float
    largest: float


def step(leaf: Leaf, below: int, above: int, one: int) -> Step:
    """The threshold halfway between two adjacent states of a numeric leaf.

    ``margin`` and ``largest`` are the smallest and largest ``|z|`` over the states, exact
    (Fractions) until the final rounding; for one-dimensional leaves with many states they
    come from the states nearest to and farthest from the threshold (sorted once per leaf).
    """
    theta = (leaf.number(below) + leaf.number(above)) / 2
    numbers = leaf.sorted_numbers
    if leaf.kind == "scalar":
        # |v - theta| over the states
        margin, largest = _distances(numbers, theta)
        z = {leaf.dims[0]: 1.0, one: -float(theta)}
    elif leaf.kind == "ratio":
        # a count's channel: at most max_len + 1 states
        values = [abs(1 - (theta + 1) / (w + 1)) for w in numbers]
        margin, largest = min(values), max(values)
        z = {one: 1.0, leaf.dims[0]: -float(theta + 1)}
    else:
        # |s - theta| / k over the states and the counts k = 1..max_count + 1, and |s - theta|:
        # the smallest has the largest k, the largest k = 1
        nearest, largest = _distances(numbers, theta)
        margin = nearest / (leaf.max_count + 1)
        z = {leaf.dims[0]: 1.0, leaf.dims[1]: -float(theta)}
    return Step(z, float(margin), float(largest))


def _distances(numbers: tuple[Fraction, ...], theta: Fraction) -> tuple[Fraction, Fraction]:
    """The smallest and the largest ``|v - theta|`` over the sorted ``numbers`` (exact)."""
    at = bisect_left(numbers, theta)
    nearest = min(abs(v - theta) for v in numbers[max(at - 1, 0) : at + 1])
    return nearest, max(abs(numbers[0] - theta), abs(numbers[-1] - theta))


def build_units(table: Table, encode: Callable[[int], Functional], one: int) -> list[Unit]:
    """Hidden units writing ``encode(code)`` for the code the table gives on the leaves."""
    table = drop_constant_axes(table)
    if not table.leaves:
        base = encode(int(table.codes))
        return [Unit({one: 1.0}, base)] if base else []
    numeric = [i for i, leaf in enumerate(table.leaves) if leaf.numeric]
    linear = linear_readout(table, encode, one)
    if linear is not None:
        return linear
    if not numeric:
        return _lookup(table, encode, one)
    if len(numeric) == 1:
        return _gated_steps(table, numeric[0], encode, one)
    names = ", ".join(table.leaves[i].name for i in numeric)
    raise ValueError(f"one MLP cannot combine several numeric channels ({names})")


def is_affine(table: Table, encode: Callable[[int], Functional], one: int) -> bool:
    return linear_readout(drop_constant_axes(table), encode, one) is not None


def linear_readout(
    table: Table, encode: Callable[[int], Functional], one: int
) -> list[Unit] | None:
    """Two units when the target is one scalar dimension affine in the leaves, else None."""
    target = _single_target(table, encode)
    if target is None:
        return None
    columns = 1 + sum(len(leaf.states) if not leaf.numeric else 1 for leaf in table.leaves)
    if table.size * columns > MAX_LINEAR_CELLS:
        return None
    outputs = np.array([encode(c).get(target, 0.0) for c in range(len(table.values))])
    y = outputs[table.codes.reshape(-1)]
    matrix, names = _design_matrix(table)
    coefficients, *_ = np.linalg.lstsq(matrix, y, rcond=None)
    if float(np.abs(matrix @ coefficients - y).max()) > 1e-9 * (1 + float(np.abs(y).max())):
        return None
    z = _affine_functional(table, names, coefficients.tolist(), one)
    if not z:
        return []
    return [Unit(z, {target: 1.0}), Unit(add((-1.0, z)), {target: -1.0})]


def _single_target(table: Table, encode: Callable[[int], Functional]) -> int | None:
    """The one dimension every code writes, if there is one and no leaf is a ratio."""
    dims = {d for code in range(len(table.values)) for d in encode(code)}
    if len(dims) != 1 or any(leaf.kind in ("ratio", "sumratio") for leaf in table.leaves):
        return None
    (target,) = dims
    return target


# A design-matrix column: (-1, None) the constant, (axis, None) a numeric leaf's value,
# (axis, state) a one-hot leaf's indicator of one state.
Column = tuple[int, int | None]


def _design_matrix(table: Table) -> tuple[npt.NDArray[np.float64], list[Column]]:
    """One row per grid point of the table, one column per affine term, and the columns."""
    grids = np.meshgrid(*(np.arange(len(leaf.states)) for leaf in table.leaves), indexing="ij")
    design = [np.ones(table.size)]
    names: list[Column] = [(-1, None)]
    for axis, leaf in enumerate(table.leaves):
        states = grids[axis].reshape(-1)
        if leaf.numeric:
            numbers = np.array([float(leaf.number(i)) for i in range(len(leaf.states))])
            design.append(numbers[states])
            names.append((axis, None))
            continue
        for s in range(len(leaf.states)):
            design.append((states == s).astype(np.float64))
            names.append((axis, s))
    return np.stack(design, axis=1), names


def _affine_functional(
    table: Table, names: list[Column], coefficients: list[float], one: int
) -> Functional:
    """The functional summing each column's term times its coefficient (negligible ones out)."""
    z: Functional = {}
    for (axis, state), coefficient in zip(names, coefficients, strict=True):
        if abs(coefficient) < 1e-12:
            continue
        if axis < 0:
            part = {one: 1.0}
        elif state is None:
            part = {table.leaves[axis].dims[0]: 1.0}
        else:
            part = indicator(table.leaves[axis], {state}, one)
        z = add((1.0, z), (coefficient, part))
    return z


def _classes(table: Table, axis: int) -> list[set[int]]:
    ids = behaviour_classes(table, axis)
    groups: dict[int, set[int]] = {}
    for state, class_id in enumerate(ids):
        groups.setdefault(class_id, set()).add(state)
    return list(groups.values())


def _gate(leaves: list[Leaf], combo: tuple[set[int], ...], one: int) -> Functional:
    """1 when every one-hot leaf is in its class of ``combo``, at most 0 otherwise."""
    parts = [
        (1.0, indicator(leaf, states, one)) for leaf, states in zip(leaves, combo, strict=True)
    ]
    return add(*parts, (-(len(leaves) - 1.0), {one: 1.0}))


def _lookup(table: Table, encode: Callable[[int], Functional], one: int) -> list[Unit]:
    leaves = list(table.leaves)
    classes = [_classes(table, axis) for axis in range(len(leaves))]
    combos = list(product(*classes))
    codes = [int(table.codes[tuple(min(c) for c in combo)]) for combo in combos]
    base = max(set(codes), key=codes.count)
    units = []
    base_out = encode(base)
    if base_out:
        units.append(Unit({one: 1.0}, base_out))
    for combo, code in zip(combos, codes, strict=True):
        if code != base:
            delta = add((1.0, encode(code)), (-1.0, base_out))
            units.append(Unit(_gate(leaves, combo, one), delta))
    return units


def _gated_steps(
    table: Table, axis: int, encode: Callable[[int], Functional], one: int
) -> list[Unit]:
    leaf = table.leaves[axis]
    codes = np.moveaxis(table.codes, axis, -1)
    others = [lf for i, lf in enumerate(table.leaves) if i != axis]
    classes = [_classes(_with_axis(codes, i), 0) for i in range(len(others))]
    units: list[Unit] = []
    for combo in product(*classes):
        profile = [int(c) for c in codes[tuple(min(c) for c in combo)]]
        gate = _gate(others, combo, one) if others else {one: 1.0}
        base_out = encode(profile[0])
        if base_out:
            units.append(Unit(gate, base_out))
        for k in range(len(profile) - 1):
            if profile[k] == profile[k + 1]:
                continue
            threshold = step(leaf, k, k + 1, one)
            slope = 1.0 / threshold.margin
            penalty = slope * threshold.largest + 2.0
            gated = add((slope, threshold.z), (penalty, gate), (-penalty, {one: 1.0}))
            delta = add((1.0, encode(profile[k + 1])), (-1.0, encode(profile[k])))
            units.append(Unit(add((1.0, gated), (0.5, {one: 1.0})), delta))
            units.append(Unit(add((1.0, gated), (-0.5, {one: 1.0})), add((-1.0, delta))))
    return units


def _with_axis(codes: npt.NDArray[np.int64], axis: int) -> Table:
    """A table whose axis 0 is ``axis`` of ``codes`` (for class computation only)."""
    moved = np.moveaxis(codes, axis, 0)
    return Table((), moved, ())
