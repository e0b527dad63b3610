"""Lifted MLP tables as expression text: a complete table over a grid of reachable inputs in,
``lookup`` with the most common output as default (or, for counts, a small threshold tree) out.

Both forms agree with the table on every grid point by construction; the default of a lookup
only compresses entries of the grid, it never stands in for inputs outside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from rasp_ir.values import Value, format_number, format_value

MAX_TREE_LEAVES = 32
ENTRIES_PER_LINE = 8


def most_common(outputs: Sequence[int]) -> int:
    """The most frequent output (the smallest on ties)."""
    counts = Counter(outputs)
    best = max(counts.values())
    return min(o for o, c in counts.items() if c == best)


def lookup_text(params: Sequence[str], table: dict[tuple[Value, ...], int]) -> str:
    """``lookup(x, {...}, default=d)`` or ``lookup((x, y), {...}, default=d)``."""
    default = most_common(list(table.values()))
    entries = []
    for key, out in table.items():
        if out == default:
            continue
        key_text = (
            format_value(key[0]) if len(key) == 1 else f"({', '.join(map(format_value, key))})"
        )
        entries.append(f"{key_text}: {out}")
    lines = [
        ", ".join(entries[i : i + ENTRIES_PER_LINE])
        for i in range(0, len(entries), ENTRIES_PER_LINE)
    ]
    body = (",\n        ").join(lines)
    keys = params[0] if len(params) == 1 else f"({', '.join(params)})"
    return f"lookup({keys}, {{\n        {body}\n    }}, default={default})"


def table_expression(
    params: Sequence[str],
    axes: Sequence[Sequence[Value]],
    table: dict[tuple[Value, ...], int],
    *,
    numeric: bool,
) -> str:
    """The table as text: a threshold tree over numbers when small enough, else a lookup."""
    if numeric and all(isinstance(v, int) for axis in axes for v in axis):
        grid = np.array(list(table.values()), dtype=np.int64).reshape([len(a) for a in axes])
        if int(grid.max()) >= 62 or int(grid.min()) < 0:  # outputs become bits of an int64
            return lookup_text(params, table)
        tree = _tree(params, axes, grid, [(0, len(a)) for a in axes], [MAX_TREE_LEAVES])
        if tree is not None:
            return tree
    return lookup_text(params, table)


def _tree(
    params: Sequence[str],
    axes: Sequence[Sequence[Value]],
    grid: np.ndarray,
    bounds: list[tuple[int, int]],
    budget: list[int],
) -> str | None:
    """``a if x <= t else b`` splits until every region has one output; None past the budget."""
    region = grid[tuple(slice(lo, hi) for lo, hi in bounds)]
    values = np.unique(region)
    if len(values) == 1:
        budget[0] -= 1
        return str(int(values[0])) if budget[0] >= 0 else None
    best: tuple[int, int, int] | None = None
    masks = np.left_shift(np.int64(1), region)
    for axis, (lo, _) in enumerate(bounds):
        # Output sets as bitmasks, OR-ed over the other axes, then prefix and suffix unions:
        # each split's cost (distinct outputs left + right) in one pass.
        other = tuple(a for a in range(region.ndim) if a != axis)
        lines = np.bitwise_or.reduce(masks, axis=other) if other else masks
        before = np.bitwise_or.accumulate(lines)
        after = np.bitwise_or.accumulate(lines[::-1])[::-1]
        for offset in range(1, len(lines)):
            cost = _bits(int(before[offset - 1])) + _bits(int(after[offset]))
            if best is None or cost < best[0]:
                best = (cost, axis, lo + offset)
    assert best is not None
    _, axis, split = best
    lo, hi = bounds[axis]
    left = _tree(params, axes, grid, _with(bounds, axis, (lo, split)), budget)
    right = _tree(params, axes, grid, _with(bounds, axis, (split, hi)), budget) if left else None
    if left is None or right is None:
        return None
    threshold = axes[axis][split - 1]
    assert isinstance(threshold, int)
    return f"{_wrap(left)} if {params[axis]} <= {format_number(threshold)} else {_wrap(right)}"


def _bits(mask: int) -> int:
    return bin(mask).count("1")


def _with(
    bounds: list[tuple[int, int]], axis: int, value: tuple[int, int]
) -> list[tuple[int, int]]:
    return [value if a == axis else b for a, b in enumerate(bounds)]


def _wrap(text: str) -> str:
    return text if text.lstrip("-").isdigit() else f"({text})"
