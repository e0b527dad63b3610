"""Graph views of a program: a :class:`~rasp_ir.ir.Program` in, a networkx dependency graph or
Graphviz DOT text out. Neither touches the program; each call builds a fresh value."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import networkx as nx

from rasp_ir.ir import PRIMITIVES, Binding, Program, kind_name, operands

if TYPE_CHECKING:
    from rasp_ir.layers import LayerAllocation

# Shapes by kind: attention results are ellipses, elementwise results boxes, selectors
# diamonds, primitives plain text.
SHAPES: dict[str, str] = {
    "primitive": "plaintext",
    "const": "box",
    "map": "box",
    "aggregate": "ellipse",
    "selector_width": "ellipse",
    "select": "diamond",
    "select_closest": "diamond",
    "and": "diamond",
    "or": "diamond",
    "not": "diamond",
}


def used_primitives(program: Program) -> tuple[str, ...]:
    """The primitives that some binding reads or that are outputs, in the order of PRIMITIVES."""
    read = {name for b in program.bindings for name in operands(b.node)} | set(program.outputs)
    return tuple(name for name in PRIMITIVES if name in read)


def program_graph(program: Program) -> nx.DiGraph:
    """A dependency graph: one node per binding and per used primitive, an edge from each
    operand to each binding reading it.

    Node attributes: ``kind`` (:func:`~rasp_ir.ir.kind_name`, or ``"primitive"``), ``encoding``
    (``"cat"`` for primitives, ``None`` for selectors) and ``is_output``. Edge attribute
    ``count``: how many times the user reads the operand (``map(x, x)`` gives one edge, count 2).
    """
    graph = nx.DiGraph()
    outputs = set(program.outputs)
    for name in used_primitives(program):
        graph.add_node(name, kind="primitive", encoding="cat", is_output=name in outputs)
    for binding in program.bindings:
        graph.add_node(
            binding.name,
            kind=kind_name(binding.node),
            encoding=binding.encoding,
            is_output=binding.name in outputs,
        )
        for operand, count in Counter(operands(binding.node)).items():
            graph.add_edge(operand, binding.name, count=count)
    return graph


def dot_string(text: str) -> str:
    """``text`` as a double-quoted DOT string: backslashes and quotes escaped, newlines as
    DOT's centred line break ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(program: Program, allocation: LayerAllocation | None = None) -> str:
    """Graphviz DOT text for ``program``, deterministic, nodes and edges in binding order.

    Each node is labelled with its name and kind (and encoding for s-ops); outputs get a double
    border. With ``allocation``, each placed node's label also says where it runs
    (``L2 attention``, ``L1 mlp``, ``embedding``, ``input``).
    """
    outputs = set(program.outputs)
    lines = ["digraph program {", "  rankdir=TB;"]
    for name in used_primitives(program):
        label = _label(name, "primitive", allocation)
        lines.append(_node_line(name, label, SHAPES["primitive"], name in outputs))
    for binding in program.bindings:
        label = _label(binding.name, _kind_text(binding), allocation)
        shape = SHAPES[kind_name(binding.node)]
        lines.append(_node_line(binding.name, label, shape, binding.name in outputs))
    for binding in program.bindings:
        for operand, count in Counter(operands(binding.node)).items():
            attributes = f" [label={dot_string(f'x{count}')}]" if count > 1 else ""
            lines.append(f"  {dot_string(operand)} -> {dot_string(binding.name)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _kind_text(binding: Binding) -> str:
    kind = kind_name(binding.node)
    return kind if binding.encoding is None else f"{kind} : {binding.encoding}"


def _label(name: str, kind: str, allocation: LayerAllocation | None) -> str:
    lines = [name, kind]
    if allocation is not None and name in allocation.placement:
        sublayer, layer = allocation.placement[name]
        lines.append(sublayer if sublayer in ("embedding", "input") else f"L{layer} {sublayer}")
    return "\n".join(lines)


def _node_line(name: str, label: str, shape: str, is_output: bool) -> str:
    extra = ", peripheries=2, style=bold" if is_output else ""
    return f"  {dot_string(name)} [label={dot_string(label)}, shape={shape}{extra}];"
