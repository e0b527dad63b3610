"""What every construction builds, and the IR pieces they share: a finite table in, a map binding
out; a lookback distance in, the bindings of an attention head that reads ``j`` positions back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasp_ir.api import Value, ir, value_key

OUTPUT = "machine_output"


@dataclass(frozen=True)
class Construction:
    """The bindings of one exact construction, before certification.

    ``name``: ``windows``, ``counts``, ``doubling``, ``prefix_sums``, ``affine_windows`` or
    ``polynomial_sums``.
    ``attention_layers``: the layers the construction needs by design (what
    ``check_program`` must allocate). ``table_entries``: the entries of every lookup table it
    wrote (a size measure for choosing between constructions). ``summary``: one paragraph for
    the program's header comment. ``details``: JSON facts for the certificate.
    """

    name: str
    bindings: tuple[ir.Binding, ...]
    attention_layers: int
    table_entries: int
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> tuple[int, int]:
        """What the cheapest construction minimises: layers, then table entries."""
        return (self.attention_layers, self.table_entries)


def table_binding(
    name: str,
    params: tuple[str, ...],
    inputs: tuple[str, ...],
    table: Mapping[tuple[Value, ...], Value],
    comment: str,
    keys: tuple[ir.Expr, ...] | None = None,
) -> tuple[ir.Binding, int]:
    """``name = map(fn(params) -> lookup(keys, {...}, default=d), inputs)`` and its entry
    count; ``keys`` are the expressions of ``params`` the table is indexed by (the parameters
    themselves by default); ``d`` is the most common value of ``table`` and only the other keys
    are written. Keys the table lacks also get ``d``: callers table every key that can occur."""
    counts = Counter(value_key(v) for v in table.values())
    default = max(table.values(), key=lambda v: (counts[value_key(v)], _order(v)))
    entries = tuple(
        (key, value)
        for key, value in sorted(table.items(), key=lambda kv: tuple(map(_order, kv[0])))
        if value_key(value) != value_key(default)
    )
    body: ir.Expr = ir.Const(default)
    if entries:
        lookup_keys = keys if keys is not None else tuple(ir.Param(p) for p in params)
        body = ir.Lookup(lookup_keys, entries, ir.Const(default))
    node = ir.Map(ir.Lambda(params, body), inputs)
    return ir.Binding(name, node, "cat", comment=comment), len(entries)


def _order(v: Value) -> tuple[int, Any]:
    """A sort key for the integers and ``None`` that tables hold."""
    return (0, 0) if v is None else (1, v)


def lookback_bindings(
    name: str, j: int, sop: str, default: Value, comment: str
) -> list[ir.Binding]:
    """``name = aggregate(select(indices, indices - j, ==), sop, default=default)``: ``sop`` at
    position ``t - j``, ``default`` where ``t < j`` (one attention head). The nested nodes get
    the names the parser derives, so the printer writes the head on one line."""
    shifted = ir.Lambda(("indices",), ir.Binary("-", ir.Param("indices"), ir.Const(j)))
    return [
        ir.Binding(f"{name}__map", ir.Map(shifted, ("indices",)), "cat"),
        ir.Binding(
            f"{name}__select", ir.Select("indices", f"{name}__map", ir.Comparison("==")), None
        ),
        ir.Binding(
            name, ir.Aggregate(f"{name}__select", sop, default=default), "cat", comment=comment
        ),
    ]


def distance_text(j: int) -> str:
    """``1 position`` or ``j positions``, for comments."""
    return "1 position" if j == 1 else f"{j} positions"
