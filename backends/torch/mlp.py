"""A finite function over leaves in, ReLU hidden units that compute it exactly out.

Three constructions, cheapest that applies first:

* **linear read-out** (``num`` targets affine in the leaves, e.g. ``opens - closes`` or a
  cat -> num table): two units ``ReLU(z)``, ``ReLU(-z)``;
* **lookup** (only one-hot leaves): one unit per combination of leaf classes whose output
  differs from the most common one, ``ReLU(sum of indicators - (m - 1))`` (an exact AND), or,
  when fewer, one unit per nested box of classes whose most common output differs from its
  enclosing box's;
* **gated steps** (one numeric leaf, any one-hot leaves): per combination ``G`` of one-hot
  classes, a base unit and a step pair ``ReLU(L z + 1/2 - K(1 - g)) - ReLU(L z - 1/2 - K(1 - g))``
  at every threshold where the output changes along the numeric leaf. ``z`` is a linear
  functional that is positive above the threshold with margin ``mu`` (``L = 1/mu``), ``g``
  the AND of ``G``'s indicators; a wrong ``G`` switches the pair off;
* **gated ramps** (the same tables, when narrower): per ``G`` a base unit and one unit
  ``ReLU(z_k / z_k(k) - K(1 - g))`` per threshold, read out by the exact interpolation of the
  outputs over the states (``length - indices - 1``: 1 + (P-1) units per index instead of
  1 + 2(P-1)).

A step is exact (0 or 1) while the read value is within half a margin of a known state; a ramp
is within :data:`RAMP_TOLERANCE` on the known states (checked in float32 when it is built):
numerical MLPs are exact on their inferred value sets only (rasp-semantics §16.9).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from itertools import pairwise, product

import numpy as np
import numpy.typing as npt

from rasp_ir.api import is_number
from rasp_ir.backends.torch.functions import Leaf, Table, behaviour_classes, drop_constant_axes

Functional = dict[int, float]
MAX_LINEAR_CELLS = 50_000_000
# Ramps are solved in Fractions, quadratic in the states of the thresholded leaf.
MAX_RAMP_STATES = 128
# How far from its table a ramp readout may be on a state, computed in float32.
RAMP_TOLERANCE = 2.0**-10
# The nested-box search of a lookup tries every code and cut of every box: small grids only.
MAX_BOX_CELLS = 64
# Boxes cut one class against the rest only along leaves of at most this many classes (the
# search stays polynomial), and give up past this many boxes searched.
MAX_SINGLE_CUT_CLASSES = 4
MAX_BOX_SEARCH = 20_000


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
    """The cheaper of two exact one-hot constructions: a unit per class combination whose
    output differs from the most common one, or the nested boxes of :func:`_box_units`."""
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
    if len(combos) > MAX_BOX_CELLS:
        return units
    grid = np.array(codes, dtype=np.int64).reshape([len(c) for c in classes])
    boxes = _box_units(leaves, classes, grid, encode, one)
    return boxes if boxes is not None and len(boxes) < len(units) else units


def _box_units(
    leaves: list[Leaf],
    classes: list[list[set[int]]],
    grid: npt.NDArray[np.int64],
    encode: Callable[[int], Functional],
    one: int,
) -> list[Unit] | None:
    """Units over nested boxes of class combinations (``grid``: the output code of each).

    A box (a set of classes per leaf) takes one code; where that differs from its parent
    box's, one unit adds the difference, gated on the box (1 inside, at most 0 outside:
    the AND of one indicator per restricted leaf). A box that is not constant is split along
    one leaf (:func:`_splits`) and each part is a child box; the fewest units over every choice
    of code and cut are kept (grids of at most :data:`MAX_BOX_CELLS` cells; larger ones keep the
    per-combination lookup). A cell's units are the boxes containing it, whose differences
    telescope to its code. None when the search passes :data:`MAX_BOX_SEARCH` boxes."""
    Box = tuple[tuple[int, ...], ...]
    searched = [0]

    @cache
    def best(box: Box, parent: int | None) -> tuple[tuple[Box, int, int | None], ...]:
        """The fewest (box, code, parent code) units that give every cell of ``box`` its code
        when the enclosing boxes give ``parent``."""
        searched[0] += 1
        if searched[0] > MAX_BOX_SEARCH:
            raise _SearchTooLong
        cells = grid[np.ix_(*box)]
        values = {int(v) for v in np.unique(cells)}
        choices: list[tuple[tuple[Box, int, int | None], ...]] = []
        for code in sorted(values | ({parent} if parent is not None else set())):
            own = ((box, code, parent),) if code != parent else ()
            if values == {code}:
                choices.append(own)
                continue
            for groups in _splits(box, cells):
                children = tuple(u for group in groups for u in best(group, code))
                choices.append(own + children)
        return min(choices, key=len)

    try:
        found = best(tuple(tuple(range(len(c))) for c in classes), None)
    except _SearchTooLong:
        return None
    units = [
        Unit(
            _box_gate(leaves, classes, box, one),
            add((1.0, encode(code)), (-1.0, encode(parent) if parent is not None else {})),
        )
        for box, code, parent in found
    ]
    return [unit for unit in units if unit.out]


class _SearchTooLong(Exception):
    """The nested-box search passed its budget."""


def _splits(
    box: tuple[tuple[int, ...], ...], cells: npt.NDArray[np.int64]
) -> list[list[tuple[tuple[int, ...], ...]]]:
    """Ways to cut ``box`` into child boxes along one leaf: its classes grouped by equal slices
    of ``cells``, and each class against the rest."""
    ways = []
    for axis, chosen in enumerate(box):
        if len(chosen) < 2:
            continue
        groups: dict[bytes, list[int]] = {}
        for position, class_index in enumerate(chosen):
            groups.setdefault(np.take(cells, [position], axis=axis).tobytes(), []).append(
                class_index
            )
        cuts = [list(groups.values())] if len(groups) > 1 else []
        if 2 < len(chosen) <= MAX_SINGLE_CUT_CLASSES:
            cuts += [[[c], [d for d in chosen if d != c]] for c in chosen]
        for cut in cuts:
            ways.append(
                [tuple(tuple(g) if a == axis else c for a, c in enumerate(box)) for g in cut]
            )
    return ways


def _box_gate(
    leaves: list[Leaf],
    classes: list[list[set[int]]],
    box: tuple[tuple[int, ...], ...],
    one: int,
) -> Functional:
    """1 when every leaf is in one of its classes of ``box``, at most 0 otherwise; leaves with
    every class in the box are not read."""
    read = [
        (leaf, set().union(*(kinds[i] for i in chosen)))
        for leaf, kinds, chosen in zip(leaves, classes, box, strict=True)
        if len(chosen) < len(kinds)
    ]
    return _gate([leaf for leaf, _ in read], tuple(states for _, states in read), one)


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
        changes = sum(a != b for a, b in pairwise(profile))
        steps = (1 if encode(profile[0]) else 0) + 2 * changes
        # Ramps take one unit per threshold: worth trying only where steps take more.
        basis = _ramp_basis(leaf) if len(profile) - 1 < steps else None
        ramps = None if basis is None else basis.units(profile, gate, encode, one, steps)
        units.extend(_step_units(leaf, profile, gate, encode, one) if ramps is None else ramps)
    return units


def _step_units(
    leaf: Leaf, profile: list[int], gate: Functional, encode: Callable[[int], Functional], one: int
) -> list[Unit]:
    """A base unit and a saturating step pair at every threshold where the output changes."""
    base_out = encode(profile[0])
    units = [Unit(gate, base_out)] if base_out else []
    for k in range(len(profile) - 1):
        if profile[k] == profile[k + 1]:
            continue
        threshold = step(leaf, k, k + 1, one)
        slope = 1.0 / threshold.margin
        gated = _gated(threshold, slope, gate, one)
        delta = add((1.0, encode(profile[k + 1])), (-1.0, encode(profile[k])))
        units.append(Unit(add((1.0, gated), (0.5, {one: 1.0})), delta))
        units.append(Unit(add((1.0, gated), (-0.5, {one: 1.0})), add((-1.0, delta))))
    return units


def _gated(threshold: Step, slope: float, gate: Functional, one: int) -> Functional:
    """``slope * z`` where the gate is 1, and at most ``-2`` wherever it is 0 or less."""
    penalty = slope * threshold.largest + 2.0
    return add((slope, threshold.z), (penalty, gate), (-penalty, {one: 1.0}))


@dataclass(frozen=True)
class _RampBasis:
    """Ramps over the states of a numeric leaf, one per threshold ``k`` (between states
    ``k-1`` and ``k``): ``ReLU(z_k / z_k(k))`` with ``z_k`` the functional of :func:`step`.

    On the states ramp ``k`` is 0 below state ``k`` and 1 at it, so with a constant unit in
    column 0 the states-by-units matrix ``values`` is unit lower triangular: every profile
    along the leaf has exactly one readout (the interpolation of its outputs), found by
    forward substitution. ``scales[k-1]`` is ``z_k(k)`` and ``largest[k-1]`` the largest
    ``|z_k|`` on the states, both exact. Only for leaves whose functional takes one value per
    state (``scalar`` and ``ratio``; a ``sumratio``'s depends on the count too)."""

    leaf: Leaf
    values: npt.NDArray[np.float64]
    scales: tuple[Fraction, ...]
    largest: tuple[Fraction, ...]

    def units(
        self,
        profile: list[int],
        gate: Functional,
        encode: Callable[[int], Functional],
        one: int,
        narrower_than: int,
    ) -> list[Unit] | None:
        """A constant unit and the ramps the readout of ``profile`` needs, gated; None
        unless they are fewer than ``narrower_than`` and within :data:`RAMP_TOLERANCE` of the
        outputs on every state in float32 (unlike a step pair, a ramp does not saturate)."""
        n = len(profile)
        if n - 1 >= narrower_than:
            return None
        encoded = {code: encode(code) for code in set(profile)}
        dims = sorted({d for functional in encoded.values() for d in functional})
        targets = np.array([[encoded[code].get(d, 0.0) for d in dims] for code in profile])
        readout = np.zeros_like(targets)
        for s in range(n):
            readout[s] = targets[s] - self.values[s, :s] @ readout[:s]
        # What is zero in exact arithmetic comes out as rounding noise.
        readout[np.abs(readout) < 1e-12 * (1.0 + float(np.abs(targets).max(initial=0.0)))] = 0.0
        live = [k for k in range(1, n) if readout[k].any()]
        if readout[0].any() + len(live) >= narrower_than:
            return None
        leaf = self.leaf

        def out(k: int) -> Functional:
            return {d: float(w) for d, w in zip(dims, readout[k], strict=True) if w}

        ungated = [
            Unit(_scaled(step(leaf, k - 1, k, one).z, self.scales[k - 1]), out(k)) for k in live
        ]
        if _float32_error(leaf, one, out(0), ungated, targets, dims) > RAMP_TOLERANCE:
            return None
        units = [Unit(gate, out(0))] if readout[0].any() else []
        for k, unit in zip(live, ungated, strict=True):
            penalty = float(self.largest[k - 1] / self.scales[k - 1]) + 2.0
            gated = add((1.0, unit.inp), (penalty, gate), (-penalty, {one: 1.0}))
            units.append(Unit(gated, unit.out))
        return units


@lru_cache(maxsize=16)
def _ramp_basis(leaf: Leaf) -> _RampBasis | None:
    """The ramps over the states of ``leaf``; None unless it is a scalar or ratio leaf of at
    most :data:`MAX_RAMP_STATES` numeric states (kept for the MLP's other gates)."""
    n = len(leaf.states)
    if leaf.kind not in ("scalar", "ratio") or not 1 < n <= MAX_RAMP_STATES:
        return None
    if any(isinstance(v, bool) or not is_number(v) for v in leaf.states):
        return None
    values = np.zeros((n, n))
    values[:, 0] = 1.0
    scales, largest = [], []
    for k in range(1, n):
        z = _ramp(leaf, k)
        values[:, k] = [float(max(v, Fraction(0)) / z[k]) for v in z]
        scales.append(z[k])
        largest.append(max(abs(v) for v in z))
    return _RampBasis(leaf, values, tuple(scales), tuple(largest))


def _ramp(leaf: Leaf, k: int) -> list[Fraction]:
    """The functional of :func:`step` at the threshold between states ``k-1`` and ``k`` of a
    scalar or ratio leaf, exactly, on every state."""
    theta = (leaf.number(k - 1) + leaf.number(k)) / 2
    numbers = [leaf.number(s) for s in range(len(leaf.states))]
    if leaf.kind == "scalar":
        return [v - theta for v in numbers]
    return [1 - (theta + 1) / (w + 1) for w in numbers]


def _float32_error(
    leaf: Leaf,
    one: int,
    base: Functional,
    units: list[Unit],
    targets: npt.NDArray[np.float64],
    dims: list[int],
) -> float:
    """The largest difference between the ungated units' output computed in float32 and the
    ``targets`` (states x ``dims``), over every state of ``leaf`` read exactly and 8 ulps off
    either way."""
    reads = [one, leaf.dims[0]]
    w_in = np.array([[u.inp.get(d, 0.0) for d in reads] for u in units], dtype=np.float32)
    w_out = np.array([[u.out.get(d, 0.0) for d in dims] for u in units], dtype=np.float32)
    bias = np.array([base.get(d, 0.0) for d in dims], dtype=np.float32)
    numbers = np.array([float(leaf.number(s)) for s in range(len(leaf.states))])
    read = numbers if leaf.kind == "scalar" else 1 / (numbers + 1)
    worst = 0.0
    for shift in (-8, 0, 8):
        x = read.astype(np.float32) * np.float32(1 + shift * 2.0**-24)
        inputs = np.stack([np.ones_like(x), x], axis=1)
        got = np.maximum(inputs @ w_in.T, np.float32(0)) @ w_out.reshape(len(units), -1) + bias
        worst = max(worst, float(np.abs(got - targets).max(initial=0.0)))
    return worst


def _scaled(functional: Functional, scale: Fraction) -> Functional:
    """``functional / scale``."""
    return {d: float(w / scale) for d, w in functional.items()}


def _with_axis(codes: npt.NDArray[np.int64], axis: int) -> Table:
    """A table whose axis 0 is ``axis`` of ``codes`` (for class computation only)."""
    moved = np.moveaxis(codes, axis, 0)
    return Table((), moved, ())
