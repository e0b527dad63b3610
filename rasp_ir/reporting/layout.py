"""The dataflow graph laid out by layer: a program and its layer allocation in, node boxes in
rows (inputs and embedding, then each layer's selectors, heads and MLP, then what no output
needs) out, ready to be drawn.

Rows follow the allocation: a node sits in the row of its sublayer and layer; a node that reads
another node of its own row (``select(...) and select(...)``, a map of a map in one MLP) moves
to a row below it. Within a row, nodes are ordered by the mean position of what they read
(one top-down pass), ties in program order.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasp_ir.graph import used_primitives
from rasp_ir.ir import Program, is_selector, kind_name, operands
from rasp_ir.layers import LayerAllocation

CHAR_WIDTH = 7.2
NODE_HEIGHT = 34.0
ROW_GAP = 36.0
NODE_GAP = 18.0
MARGIN = 12.0
LABEL_WIDTH = 110.0


@dataclass(frozen=True)
class PlacedNode:
    """A node's box (centre ``x``, top ``y``, ``width``) and what it shows."""

    name: str
    kind: str
    where: str
    is_output: bool
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class GraphLayout:
    """Every node placed, the edges (operand, reader) and each row's label and top."""

    nodes: dict[str, PlacedNode]
    edges: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str, float], ...]
    width: float
    height: float


def _row_key(program: Program, allocation: LayerAllocation, name: str) -> tuple[int, str]:
    """(order, label) of the row a name belongs to."""
    placement = allocation.placement.get(name)
    if placement is None:
        return 10_000, "unused"
    sublayer, layer = placement
    if sublayer in ("input", "embedding"):
        return 0, "input"
    selector = name in program.by_name and is_selector(program.binding(name).node)
    if sublayer == "attention":
        return (
            (3 * layer - 2, f"L{layer} select") if selector else (3 * layer - 1, f"L{layer} heads")
        )
    return 3 * layer, f"L{layer} mlp"


def _where(allocation: LayerAllocation, name: str) -> str:
    placement = allocation.placement.get(name)
    if placement is None:
        return "unused"
    sublayer, layer = placement
    return sublayer if sublayer in ("input", "embedding") else f"L{layer} {sublayer}"


def layout_graph(program: Program, allocation: LayerAllocation) -> GraphLayout:
    """Place every binding and used primitive of ``program`` (see the module docstring)."""
    names = [*used_primitives(program), *(b.name for b in program.bindings)]
    reads = {b.name: tuple(dict.fromkeys(operands(b.node))) for b in program.bindings}
    kinds = {name: "primitive" for name in used_primitives(program)}
    kinds.update({b.name: kind_name(b.node) for b in program.bindings})
    level: dict[str, tuple[int, int, str]] = {}
    for name in names:
        order, label = _row_key(program, allocation, name)
        same_row = [level[r][1] + 1 for r in reads.get(name, ()) if level[r][0] == order]
        level[name] = (order, max(same_row, default=0), label)
    row_ids = sorted({(order, sub) for order, sub, _ in level.values()})
    labels = {(order, sub): label for order, sub, label in level.values()}
    outputs = set(program.outputs)
    nodes: dict[str, PlacedNode] = {}
    rows: list[tuple[str, float]] = []
    widest = 0.0
    for index, row in enumerate(row_ids):
        top = MARGIN + index * (NODE_HEIGHT + ROW_GAP)
        rows.append((labels[row], top))
        members = [n for n in names if level[n][:2] == row]
        members.sort(key=lambda n: _barycentre(n, reads, nodes, names))
        x = MARGIN + LABEL_WIDTH
        for name in members:
            width = max(len(name), len(kinds[name])) * CHAR_WIDTH + 16
            nodes[name] = PlacedNode(
                name,
                kinds[name],
                _where(allocation, name),
                name in outputs,
                x + width / 2,
                top,
                width,
            )
            x += width + NODE_GAP
        widest = max(widest, x)
    edges = tuple((r, b.name) for b in program.bindings for r in reads[b.name])
    height = MARGIN * 2 + len(row_ids) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    return GraphLayout(nodes, edges, tuple(rows), widest + MARGIN, height)


def _barycentre(
    name: str, reads: dict[str, tuple[str, ...]], placed: dict[str, PlacedNode], names: list[str]
) -> tuple[float, int]:
    xs = [placed[r].x for r in reads.get(name, ()) if r in placed]
    mean = sum(xs) / len(xs) if xs else 0.0
    return mean, names.index(name)
