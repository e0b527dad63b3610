"""Layer and head allocation at the minimum depth: a :class:`~rasp_ir.ir.Program` in, a
:class:`LayerAllocation` (depth, layer and sublayer of every live name) out.

The rule is tech-srl's (rasp-semantics §12), with structural deduplication of attention
patterns (§16.6):

* depth: ``tokens``, ``indices`` and constants 0; ``length`` 1 (it is
  ``selector_width(select(tokens, tokens, true))``); ``select`` one more than its deeper
  operand; selector ``and``/``or``/``not`` the deeper operand; ``aggregate(S, v)``
  ``max(depth(S), depth(v) + 1)``; ``selector_width(S)`` ``depth(S)``; a map the deepest
  input (a feed-forward does not add a layer).
* every s-op sits at its depth: aggregates and selector widths in the attention sublayer of
  that layer, maps in its MLP, depth-0 maps and constants in the embedding.
* a head is an attention pattern: in one layer, aggregates over structurally identical
  selectors share a head (one pattern moves several values); a selector width is a pattern of
  its own (it always attends to BOS), shared only with other widths of the same selector.
  Structural identity is that of :func:`rasp_ir.optimize.structural_identity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rasp_ir.ir import (
    Aggregate,
    Comparison,
    Full,
    Map,
    Node,
    PooledVote,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    is_selector,
    operands,
)
from rasp_ir.optimize import (
    StructuralIdentity,
    StructureMemo,
    live_names,
    structural_identity,
    structural_key,
)

Pattern = Literal["aggregate", "selector_width"]
Sublayer = Literal["attention", "mlp", "embedding", "input"]

# `length` is the width of this selector; it shares a head with an explicit width of it.
LENGTH_SELECTOR = Select("tokens", "tokens", Comparison("true"))
LENGTH_SELECTOR_TEXT = "select(tokens, tokens, true)"


@dataclass(frozen=True)
class Head:
    """One attention pattern of one layer.

    ``selector``: the first selector binding, in program order, that the head evaluates
    (``None`` when the head only computes ``length``, whose selector is implicit).
    ``computes``: the s-ops the head writes, ``length`` first, then in program order.
    """

    pattern: Pattern
    selector: str | None
    computes: tuple[str, ...]


@dataclass(frozen=True)
class Layer:
    """Layer ``index`` (1-based): its attention heads and the maps its MLP computes."""

    index: int
    heads: tuple[Head, ...]
    mlp: tuple[str, ...]


@dataclass(frozen=True)
class LayerAllocation:
    """The result of :func:`allocate_layers`.

    ``depth``: every binding and every primitive the program reads. ``placement``: every live
    name (an output or something an output depends on) as (sublayer, layer); primitives
    ``tokens``/``indices`` are ("input", 0), ``length`` ("attention", 1), a selector sits in the
    attention sublayer of the first layer whose heads use it. ``embedding``: live maps and
    constants folded into the embedding. ``layers``: layers 1 to ``n_layers``.
    """

    depth: dict[str, int]
    n_layers: int
    layers: tuple[Layer, ...]
    embedding: tuple[str, ...]
    placement: dict[str, tuple[Sublayer, int]]

    @property
    def heads_per_layer(self) -> tuple[int, ...]:
        """The number of heads in each layer, from layer 1."""
        return tuple(len(layer.heads) for layer in self.layers)


def node_depth(node: Node, depth: dict[str, int]) -> int:
    """The minimum depth of ``node`` given the depths of its operands."""
    if isinstance(node, Full):
        return 0
    if isinstance(node, (Select, SelectClosest)):
        return max(depth[node.keys], depth[node.queries]) + 1
    if isinstance(node, Aggregate):
        return max(depth[node.selector], depth[node.sop] + 1)
    if isinstance(node, PooledVote):
        # the scores are an MLP of the inputs, pooled by a head one layer later
        return max([depth[node.selector], *(depth[name] + 1 for name in node.inputs)])
    if isinstance(node, (Map, SelectorAnd, SelectorOr, SelectorNot, SelectorWidth)):
        return max((depth[name] for name in operands(node)), default=0)
    raise TypeError(f"unknown node {node!r}")


def program_depths(program: Program) -> dict[str, int]:
    """The minimum depth of every binding and of every primitive the program reads."""
    primitives = {"tokens": 0, "indices": 0, "length": 1}
    depth = dict(primitives)
    for binding in program.bindings:
        depth[binding.name] = node_depth(binding.node, depth)
    read = {name for b in program.bindings for name in operands(b.node)} | set(program.outputs)
    return {name: d for name, d in depth.items() if name not in primitives or name in read}


def allocate_layers(program: Program, memo: StructureMemo | None = None) -> LayerAllocation:
    """Place every live name of ``program`` at its minimum depth and count heads per layer;
    ``memo`` reuses the structural keys of bindings unchanged since its last use."""
    depth = program_depths(program)
    live = live_names(program)
    n_layers = max((depth[name] for name in live), default=0)
    heads = _heads(program, depth, live, structural_identity(program, memo))
    first_use = _selector_first_use(program, depth, live)
    placement: dict[str, tuple[Sublayer, int]] = {}
    embedding: list[str] = []
    mlp: dict[int, list[str]] = {index: [] for index in range(1, n_layers + 1)}
    for name in ("tokens", "indices", "length"):
        if name in live:
            placement[name] = ("attention", 1) if name == "length" else ("input", 0)
    for binding in program.bindings:
        name, node = binding.name, binding.node
        if name not in live:
            continue
        if is_selector(node):
            placement[name] = ("attention", first_use.get(name, depth[name]))
        elif isinstance(node, (Aggregate, SelectorWidth, PooledVote)):
            placement[name] = ("attention", depth[name])
        elif depth[name] == 0:
            placement[name] = ("embedding", 0)
            embedding.append(name)
        else:
            placement[name] = ("mlp", depth[name])
            mlp[depth[name]].append(name)
    layers = tuple(
        Layer(index, tuple(heads.get(index, ())), tuple(mlp[index]))
        for index in range(1, n_layers + 1)
    )
    return LayerAllocation(depth, n_layers, layers, tuple(embedding), placement)


def _heads(
    program: Program, depth: dict[str, int], live: frozenset[str], identity: StructuralIdentity
) -> dict[int, list[Head]]:
    """Heads by layer, each in order of the first s-op that needs it. Selectors are told apart
    by their representatives (the same structural key, the same representative); ``length``'s
    implicit selector is the first binding with its key, if there is one."""
    found: dict[tuple[int, Pattern, str], Head] = {}
    if "length" in live:
        length_selector = identity.first_with(structural_key(LENGTH_SELECTOR)) or "\0length"
        found[(1, "selector_width", length_selector)] = Head("selector_width", None, ("length",))
    for binding in program.bindings:
        node = binding.node
        if binding.name not in live or not isinstance(node, (Aggregate, SelectorWidth, PooledVote)):
            continue
        pattern: Pattern = "selector_width" if isinstance(node, SelectorWidth) else "aggregate"
        key = (depth[binding.name], pattern, identity.representative[node.selector])
        head = found.get(key, Head(pattern, None, ()))
        found[key] = Head(pattern, head.selector or node.selector, (*head.computes, binding.name))
    by_layer: dict[int, list[Head]] = {}
    for (layer, _, _), head in found.items():
        by_layer.setdefault(layer, []).append(head)
    return by_layer


def _selector_first_use(
    program: Program, depth: dict[str, int], live: frozenset[str]
) -> dict[str, int]:
    """For each selector that a live head evaluates, directly or as part of a composite
    selector, the first layer where one does."""
    first_use: dict[str, int] = {}
    for binding in program.bindings:
        node = binding.node
        if binding.name not in live or not isinstance(node, (Aggregate, SelectorWidth, PooledVote)):
            continue
        layer = depth[binding.name]
        names = [node.selector]
        while names:
            name = names.pop()
            if first_use.get(name, layer + 1) <= layer:
                continue
            first_use[name] = layer
            node_operands = operands(program.binding(name).node)
            names.extend(n for n in node_operands if program.is_selector_name(n))
    return first_use


def format_allocation(program: Program, allocation: LayerAllocation) -> str:
    """A readable table: one row per head and per non-empty MLP, the embedding first, and the
    bindings the outputs do not need (which get no place) at the end."""
    summary = " / ".join(str(n) for n in allocation.heads_per_layer) or "-"
    lines = [f"layers: {allocation.n_layers}   heads per layer: {summary}"]
    rows: list[tuple[str, str, str, str]] = [("layer", "unit", "pattern", "computes")]
    if allocation.embedding:
        rows.append(("0", "embedding", "", ", ".join(allocation.embedding)))
    for layer in allocation.layers:
        for number, head in enumerate(layer.heads, start=1):
            selector = head.selector or LENGTH_SELECTOR_TEXT
            pattern = f"{head.pattern}({selector})"
            rows.append((str(layer.index), f"head {number}", pattern, ", ".join(head.computes)))
        if layer.mlp:
            rows.append((str(layer.index), "mlp", "", ", ".join(layer.mlp)))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        padded = [row[column].ljust(widths[column]) for column in range(3)]
        lines.append("  ".join([*padded, row[3]]).rstrip())
    unplaced = [b.name for b in program.bindings if b.name not in allocation.placement]
    if unplaced:
        lines.append(f"unused (no place): {', '.join(unplaced)}")
    return "\n".join(lines)
