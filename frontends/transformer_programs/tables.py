"""Lifted MLP tables as IR expressions: a complete table over a grid of reachable inputs in,
``lookup`` with the most common output as default out; for counts, whichever prints shortest of
that, a small threshold tree and, for two counts, a boundary (``high if y >= t(x) else low``,
with ``t`` a table over ``x`` and a few cells listed as exceptions).

Every form agrees with the table on every grid point by construction; the default of a lookup
only compresses entries of the grid, it never stands in for inputs outside it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rasp_ir.api import Value, format_expr, ir

MAX_TREE_LEAVES = 32
MAX_EXCEPTIONS = 8


def most_common(outputs: Sequence[int]) -> int:
    """The most frequent output (the smallest on ties)."""
    counts = Counter(outputs)
    best = max(counts.values())
    return min(o for o, c in counts.items() if c == best)


def lookup_expr(params: Sequence[str], table: dict[tuple[Value, ...], int]) -> ir.Lookup:
    """``lookup(x, {...}, default=d)`` or ``lookup((x, y), {...}, default=d)``, d the most
    common output (entries equal to it are left out)."""
    default = most_common(list(table.values()))
    entries = tuple((key, out) for key, out in table.items() if out != default)
    return ir.Lookup(tuple(ir.Param(p) for p in params), entries, ir.Const(default))


def table_expression(
    params: Sequence[str],
    axes: Sequence[Sequence[Value]],
    table: dict[tuple[Value, ...], int],
    *,
    numeric: bool,
) -> ir.Expr:
    """The table as an expression: over counts, the shortest (printed) of a threshold tree
    (when small enough), a boundary and a lookup; otherwise a lookup."""
    lookup: ir.Expr = lookup_expr(params, table)
    if not numeric or not all(isinstance(v, int) for axis in axes for v in axis):
        return lookup
    grid = np.array(list(table.values()), dtype=np.int64).reshape([len(a) for a in axes])
    candidates = [lookup]
    if int(grid.max()) - int(grid.min()) < 62:  # outputs become bits of an int64
        candidates.append(
            _tree(params, axes, grid, [(0, len(a)) for a in axes], [MAX_TREE_LEAVES]) or lookup
        )
    if len(axes) == 2:
        candidates.append(_boundary(params, axes, grid) or lookup)
    return _shortest(candidates)


def _shortest(candidates: Sequence[ir.Expr]) -> ir.Expr:
    """The candidate with the shortest text (the first on ties)."""
    return min(candidates, key=lambda expr: len(format_expr(expr)))


def _boundary(
    params: Sequence[str], axes: Sequence[Sequence[Value]], grid: np.ndarray
) -> ir.Expr | None:
    """``high if y >= t(x) else low``: along every row of one axis the output switches once,
    from the same ``low`` to the same ``high``, at a threshold ``t`` that is itself a table over
    the row axis; at most :data:`MAX_EXCEPTIONS` cells differ and are tested first. None when no
    orientation and pair of outputs fits."""
    best: tuple[int, int, np.ndarray, int, int, np.ndarray] | None = None
    for row_axis in (0, 1):
        rows = grid if row_axis == 0 else grid.T
        common = [o for o, _ in Counter(rows.ravel().tolist()).most_common(3)]
        for low, high in itertools.permutations(common, 2):
            # cost[r, s]: cells of row r that differ from `low` before column s and `high` from s
            not_low = np.cumsum(rows != low, axis=1)
            not_high = np.cumsum(rows != high, axis=1)
            zero = np.zeros((rows.shape[0], 1), dtype=np.int64)
            before = np.concatenate([zero, not_low], axis=1)
            after = not_high[:, -1:] - np.concatenate([zero, not_high], axis=1)
            cost = before + after
            switch = cost.argmin(axis=1)
            exceptions = int(cost[np.arange(len(switch)), switch].sum())
            if exceptions <= MAX_EXCEPTIONS and (best is None or exceptions < best[0]):
                best = (exceptions, row_axis, rows, low, high, switch)
    if best is None:
        return None
    _, row_axis, rows, low, high, switch = best
    row_name, column_name = params[row_axis], params[1 - row_axis]
    row_values = [_integer(v) for v in axes[row_axis]]
    column_values = [_integer(v) for v in axes[1 - row_axis]]
    past_end = column_values[-1] + 1
    thresholds = [column_values[s] if s < len(column_values) else past_end for s in switch.tolist()]
    threshold = _threshold(row_name, row_values, thresholds)
    column = ir.Param(column_name)
    expr: ir.Expr = ir.IfElse(
        ir.Binary(">=", column, threshold), ir.Const(int(high)), ir.Const(int(low))
    )
    expected = np.where(np.arange(rows.shape[1]) >= switch[:, None], high, low)
    differing = list(zip(*np.nonzero(rows != expected), strict=True))
    for r, c in reversed(differing):  # tested in row order
        cell = ir.Binary(
            "and",
            ir.Binary("==", ir.Param(row_name), ir.Const(row_values[r])),
            ir.Binary("==", column, ir.Const(column_values[c])),
        )
        expr = ir.IfElse(cell, ir.Const(int(rows[r, c])), expr)
    return expr


def _threshold(row_name: str, rows: list[int], thresholds: list[int]) -> ir.Expr:
    """The threshold as a function of the row: a table of it, or the row plus a table of the
    offsets, whichever is shorter."""
    direct = _function(row_name, rows, thresholds)
    offsets = _function(row_name, rows, [t - row for row, t in zip(rows, thresholds, strict=True)])
    row = ir.Param(row_name)
    relative: ir.Expr
    if isinstance(offsets, ir.Const):
        offset = _integer(offsets.value)
        relative = ir.Binary("-" if offset < 0 else "+", row, ir.Const(abs(offset)))
        relative = relative if offset else row
    else:
        relative = ir.Binary("+", row, offsets)
    return _shortest([direct, relative])


def _function(name: str, rows: list[int], outputs: list[int]) -> ir.Expr:
    if len(set(outputs)) == 1:
        return ir.Const(outputs[0])
    table: dict[tuple[Value, ...], int] = {
        (row,): out for row, out in zip(rows, outputs, strict=True)
    }
    return table_expression([name], [rows], table, numeric=True)


def _integer(value: Value) -> int:
    assert isinstance(value, int) and not isinstance(value, bool)
    return value


def _tree(
    params: Sequence[str],
    axes: Sequence[Sequence[Value]],
    grid: np.ndarray,
    bounds: list[tuple[int, int]],
    budget: list[int],
) -> ir.Expr | None:
    """``a if x <= t else b`` splits until every region has one output; None past the budget."""
    region = grid[tuple(slice(lo, hi) for lo, hi in bounds)]
    values = np.unique(region)
    if len(values) == 1:
        budget[0] -= 1
        return ir.Const(int(values[0])) if budget[0] >= 0 else None
    best: tuple[int, int, int, int] | None = None
    masks = np.left_shift(np.int64(1), region - grid.min())
    for axis, (lo, _) in enumerate(bounds):
        # Output sets as bitmasks, OR-ed over the other axes, then prefix and suffix unions:
        # each split's cost (distinct outputs left + right) in one pass.
        other = tuple(a for a in range(region.ndim) if a != axis)
        lines = np.bitwise_or.reduce(masks, axis=other) if other else masks
        before = np.bitwise_or.accumulate(lines)
        after = np.bitwise_or.accumulate(lines[::-1])[::-1]
        for offset in range(1, len(lines)):
            # ties: a split where the outputs change beats one inside a constant run
            inside_run = int(lines[offset - 1] == lines[offset])
            cost = _bits(int(before[offset - 1])) + _bits(int(after[offset]))
            if best is None or (cost, inside_run) < best[:2]:
                best = (cost, inside_run, axis, lo + offset)
    assert best is not None
    _, _, axis, split = best
    lo, hi = bounds[axis]
    left = _tree(params, axes, grid, _with(bounds, axis, (lo, split)), budget)
    if left is None:
        return None
    right = _tree(params, axes, grid, _with(bounds, axis, (split, hi)), budget)
    if right is None:
        return None
    threshold = ir.Const(_integer(axes[axis][split - 1]))
    return ir.IfElse(ir.Binary("<=", ir.Param(params[axis]), threshold), left, right)


def _bits(mask: int) -> int:
    return bin(mask).count("1")


def _with(
    bounds: list[tuple[int, int]], axis: int, value: tuple[int, int]
) -> list[tuple[int, int]]:
    return [value if a == axis else b for a, b in enumerate(bounds)]
