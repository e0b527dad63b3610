"""Numerical maps affine in numerical inputs in, linear functionals on the residual out.

A ``num`` map whose body is affine in its parameters (``v0 + v1 - 2 * v2 + 3``: sums,
differences, products with constants) over inputs that are themselves linear in the residual (a
scalar channel, a number per state of a one-hot channel, a constant, or another such map) is
never tabulated over the product of its inputs' values: it is the weighted sum of the dimensions
that hold them. It is written into one scalar dimension, by two ReLU units (``ReLU(z)`` and
``-ReLU(-z)``) of the first MLP that sees its inputs, only where something reads it as a
channel; chains of such maps compose into one functional first. ``abs`` of such an affine
body (an abs readout, ``|x_t - x_{t-1}|``) is written the same way, by ``ReLU(z) + ReLU(-z)``
(:func:`absolute_leaf`).

Sums over selectors of positions only (``select(indices, indices - j, ==)``,
``select(indices, indices, <=)``) are read the same way (:func:`scaled_sum_leaf`): their head
writes the exact sum into a scalar dimension, so Sum_Last-k and Sum_All compile to a few
dimensions and units rather than one-hot tabulations of every combination of terms.

Exactness: every value is an integer or a fraction held in float32. A map's values and a sum
over at most one key (the sink and the key tie exactly: weights 1/2) must stay below 2^23
(:data:`EXACT_LIMIT`); a prefix sum's weights carry the float32 rounding of its scores, about
``2^-24 |score|`` each, so it is kept scalar only while ``4 * 2^-24 * |score| * max |S|`` is
below a quarter of the gap between its values (measured: max |S| = 9,900 over 100 positions is
off by at most 0.01 before decoding snaps it); otherwise the compiler keeps its ratio channel.

A sum kept in a ratio channel (``sumratio``: ``A = S/(w+1)`` and ``B = 1/(w+1)`` over a row of
``w <= P`` keys) is exact only while its decoding is (:func:`ratio_decoding_error`). Every MLP
that reads it thresholds ``z = A - theta B`` with a step pair ``ReLU(L z + 1/2) - ReLU(L z - 1/2)``
per threshold, ``L = 2 (P + 1) / gap`` (``|z|`` may be as small as ``gap / (2 (P + 1))``). A unit
that fires holds ``L z <= L X`` (``X`` the largest ``|value|`` summed: ``|S| <= w X``), with a
float32 rounding of about ``2^-24 L X``, and the read-out adds up to ``2 K`` of them (``K`` the
sum's values less one): the output is off by about ``2 K * 2^-24 * L X``. The attention weights'
own error, about ``2^-24 |score|`` each, is far smaller (measured: ``|A - S B| < 10^-4`` at
``P = 100``). The compiler refuses the sum unless four times that bound stays under a quarter of
a step. Measured on suffix sums (``select(indices, indices, >=)``) over 100 positions: values
0..56 and 0..99 decoded off by one on random extreme inputs, 0..30 did not on 200 of them; the
bound admits 0..5 (``tests/backends/torch/test_ratio_sums.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from rasp_ir.api import Value, affine_coefficients, ir, is_number
from rasp_ir.backends.torch.functions import MAX_TABLE, Leaf, Table, identity
from rasp_ir.backends.torch.mlp import Functional, Unit, add

if TYPE_CHECKING:
    from rasp_ir.backends.torch.plan import Plan

EXACT_LIMIT = 2**23


@dataclass(frozen=True)
class LinearForm:
    """An s-op as a linear functional of residual dimensions (``one`` for the constant) and the
    channels those dimensions belong to."""

    functional: Functional
    leaves: tuple[Leaf, ...]
    numeric: bool

    @property
    def ready(self) -> int:
        """The sublayer after which every dimension it reads holds its value."""
        return max((leaf.ready for leaf in self.leaves), default=0)


def linear_form(plan: Plan, binding: ir.Binding) -> LinearForm | None:
    """The linear form of the ``num`` map ``binding`` when its body is affine and every input
    is linear in the residual, at least one of them numerical (maps of one-hot channels alone
    stay tables, written by the embedding); otherwise None."""
    node = binding.node
    if not isinstance(node, ir.Map) or binding.encoding != "num" or not node.inputs:
        return None
    form = _affine_form(plan, node, node.fn.body)
    if form is None or not _exact(plan.sets[binding.name]):
        return None
    if len(form.leaves) == 1:
        (only,) = form.leaves
        if only.kind == "scalar" and form.functional == {only.dims[0]: 1.0}:
            return None  # the channel itself: its table is the identity, no unit needed
    return form


def absolute_leaf(plan: Plan, binding: ir.Binding) -> Leaf | None:
    """A scalar channel holding the ``num`` map ``binding`` when its body is ``abs(e)`` of an
    affine ``e`` of inputs linear in the residual, at least one numerical: ``|z| = ReLU(z) +
    ReLU(-z)``, two units of the first MLP that sees the inputs, exact. None otherwise (the
    map is tabulated)."""
    node = binding.node
    if not isinstance(node, ir.Map) or binding.encoding != "num" or not node.inputs:
        return None
    body = node.fn.body
    if not isinstance(body, ir.Call) or body.func != "abs" or len(body.args) != 1:
        return None
    form = _affine_form(plan, node, body.args[0])
    if form is None or not _exact(plan.sets[binding.name]):
        return None
    leaf = _scalar_channel(plan, binding.name, form, sign=1.0)
    plan.provided[(binding.name, "scalar")] = leaf
    return leaf


def _affine_form(plan: Plan, node: ir.Map, expr: ir.Expr) -> LinearForm | None:
    """``expr``, affine in the parameters of ``node``, as a linear form of the residual: None
    when it is not affine, an input is not linear in the residual, or no input is numerical."""
    coefficients = affine_coefficients(expr)
    if coefficients is None:
        return None
    terms, constant = coefficients
    parts: list[tuple[float, Functional]] = [(float(constant), {plan.one: 1.0})]
    leaves: dict[int, Leaf] = {}
    numeric = False
    for param, name in zip(node.fn.params, node.inputs, strict=True):
        form = input_form(plan, name)
        if form is None:
            return None
        numeric = numeric or form.numeric
        leaves.update((id(leaf), leaf) for leaf in form.leaves)
        parts.append((float(terms.get(param, 0)), form.functional))
    if not numeric:
        return None
    return LinearForm(add(*parts), tuple(leaves.values()), numeric=True)


def input_form(plan: Plan, name: str) -> LinearForm | None:
    """The s-op ``name`` as a linear form: a linear map already, a constant, a scalar channel
    read as is, or a number per state of one one-hot channel; None otherwise."""
    if name in plan.linear:
        return plan.linear[name]
    table = plan.table(name)
    numbers = [table.values[int(c)] for c in np.ravel(table.codes)]
    if not all(is_number(v) and not isinstance(v, bool) for v in numbers):
        return None
    if not table.leaves:
        return LinearForm({plan.one: float(numbers[0])}, (), numeric=False)  # type: ignore[arg-type]
    if len(table.leaves) != 1:
        return None
    (leaf,) = table.leaves
    if leaf.kind == "scalar":
        same = all(v == s for v, s in zip(numbers, leaf.states, strict=True))
        return LinearForm({leaf.dims[0]: 1.0}, (leaf,), numeric=True) if same else None
    return _one_hot_form(leaf, numbers) if leaf.kind == "onehot" else None


def _one_hot_form(leaf: Leaf, numbers: list[Value]) -> LinearForm | None:
    """A number per state of the one-hot ``leaf`` as a linear form; None when its undefined
    state (the zero vector) would have to read as a number other than 0."""
    functional: Functional = {}
    for state, number in enumerate(numbers):
        dim = leaf.state_dim(state)
        if dim is None:
            if number != 0:  # the undefined state is the zero vector: it can only read as 0
                return None
            continue
        if number != 0:
            functional[dim] = float(number)  # type: ignore[arg-type]
    return LinearForm(functional, (leaf,), numeric=False)


def _exact(values: tuple[Value, ...]) -> bool:
    """Whether every value is a number that float32 holds exactly enough (below 2^24)."""
    return all(
        v is not None and is_number(v) and abs(v) < EXACT_LIMIT  # type: ignore[arg-type,operator]
        for v in values
    )


def materialize_linear(plan: Plan, name: str) -> Leaf:
    """A scalar channel holding the linear s-op ``name``, written by two units of the first MLP
    that sees its inputs."""
    return _scalar_channel(plan, name, plan.linear[name], sign=-1.0)


def _scalar_channel(plan: Plan, name: str, form: LinearForm, sign: float) -> Leaf:
    """A scalar channel for s-op ``name`` written by two units of the first MLP that sees the
    dimensions of ``form``: ``ReLU(z) + sign * ReLU(-z)``, which is z for ``sign`` -1 and |z|
    for ``sign`` 1."""
    from rasp_ir.backends.torch.plan import MlpTask

    layer = max(1, -(-(form.ready + 1) // 2))
    values = plan.sets[name]
    leaf = plan._leaf(name, "scalar", values, 2 * layer)
    (dim,) = leaf.dims
    z = form.functional
    units = [Unit(z, {dim: 1.0}), Unit(add((-1.0, z)), {dim: sign})] if z else []
    plan.tasks.append(MlpTask(layer, name, identity(leaf), "scalar", leaf.dims, values, units))
    return leaf


def linear_table(plan: Plan, name: str) -> Table:
    """The table of the linear s-op ``name`` for a reader that needs one: composed over its
    inputs' channels like any map when that reads at most one numerical channel (no extra
    layer), else over its materialised scalar channel."""
    leaves = plan.linear[name].leaves
    numeric = sum(1 for leaf in leaves if leaf.numeric)
    if numeric <= 1 and math.prod(len(leaf.states) for leaf in leaves) <= MAX_TABLE:
        return plan.map_table(plan.program.binding(name))
    return identity(plan.require(name, "scalar"))


def scaled_sum_leaf(
    plan: Plan, binding: ir.Binding, value: Leaf, source: list[tuple[int, float]]
) -> Leaf | None:
    """The exact sum of aggregate ``binding`` in a scalar channel, when its selector compares
    positions only and selects keys at or before the query (so the width ``w(q)`` is a function
    of the query position): its head gives the sink the weight ``M - w(q)`` of ``M`` (a score
    offset ``log(M - w(q))``), each key ``1/M``, and scales the values by ``M``. None when the
    selector is not of that kind or the sum is too large for float32 (see the module)."""
    node = binding.node
    assert isinstance(node, ir.Aggregate)
    if not _compares_positions(plan, node.selector):
        return None
    literals = plan.literals(node.selector)
    selected = np.logical_and.reduce([lit.table for lit in literals])
    positions = [int(v) for v in plan.indices.states]  # type: ignore[arg-type]
    for k, q in zip(*np.nonzero(selected), strict=True):
        if positions[int(k)] > positions[int(q)]:
            return None
    widths = selected.sum(axis=0)
    scale = int(widths.max(initial=0)) + 1
    values = plan.sets[binding.name]
    if not all(v is not None and is_number(v) for v in values):
        return None
    if not _scalable(values, scale, len(literals) * plan.c + math.log(scale)):
        return None
    scores = plan._conj_scores(literals, bos=len(literals) * plan.c)
    for q, width in enumerate(widths.tolist()):
        dim = plan.indices.state_dim(q)
        if dim is not None and 0 < width < scale - 1:
            scores[(dim, plan.bos)] = math.log(scale - width)
    layer = plan.place([value, plan.indices])
    head = plan.head(layer, "scaled-sum", node.selector, scores)
    leaf = plan._leaf(binding.name, "scalar", values, 2 * layer - 1)
    head.values += [(src, leaf.dims[0], w * scale) for src, w in source]
    head.computes.append(binding.name)
    return leaf


def ratio_decoding_error(values: tuple[Value, ...], summed: float, count: int) -> float:
    """A bound on how far (in output steps) an MLP reading a sum from its ratio channel may be
    off (see the module): ``values`` are the sum's, ``summed`` the largest ``|value|`` summed,
    ``count`` the most keys a row selects. The compiler keeps the sum while it is below 1/4."""
    numbers = sorted(Fraction(v) for v in values if v is not None)
    gap = min((b - a for a, b in pairwise(numbers)), default=Fraction(1))
    slope = 2 * (count + 1) / float(gap)
    return 4 * 2 * max(len(numbers) - 1, 1) * 2.0**-24 * slope * summed


def _compares_positions(plan: Plan, selector: str) -> bool:
    """Whether ``selector`` is a select, or a conjunction of selects, whose keys and queries
    are functions of ``indices`` alone."""
    node = plan.program.binding(selector).node
    if isinstance(node, ir.SelectorAnd):
        return _compares_positions(plan, node.left) and _compares_positions(plan, node.right)
    if not isinstance(node, ir.Select):
        return False
    sides = (plan.table(node.keys).leaves, plan.table(node.queries).leaves)
    return all(len(leaves) == 1 and leaves[0] is plan.indices for leaves in sides)


def _scalable(values: tuple[Value, ...], scale: int, score: float) -> bool:
    """Whether a sum taking ``values`` is read exactly from a head that scales its weights by
    ``scale`` (see the module): the float32 error of the weights, about ``2^-24 |score|`` each,
    stays under a quarter of the gap between values."""
    numbers = sorted(Fraction(v) for v in values)  # type: ignore[arg-type]
    largest = max(abs(numbers[0]), abs(numbers[-1]))
    if largest >= EXACT_LIMIT:
        return False
    if scale <= 2:
        return True  # the sink and the one key tie: weights of exactly 1/2
    gap = min((b - a for a, b in pairwise(numbers)), default=Fraction(1))
    return 4 * 2.0**-24 * score * float(largest) < float(gap) / 4
