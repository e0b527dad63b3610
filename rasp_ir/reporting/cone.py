"""Why one output cell has its value: an :class:`~rasp_ir.interpreter.Evaluation`, an example
and a cell (binding, position) in, the dependency cone of that cell out.

The cone follows what the computation actually read: a map reads its inputs at the same
position (and uses one row of its table); an aggregate reads its selector's row and its values
at the keys that row selected; a selector row reads its query at that position and its keys at
the positions it selected (the keys that made the pattern what it is, as attention attribution
does; unselected keys are named in the step's text, not followed); a selector width reads its
selector's row. Each step records where it runs in the layer allocation (embedding, an MLP, a
head), so that error attribution can count units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

import numpy as np

from rasp_ir.expr import apply_lambda
from rasp_ir.interpreter import Evaluation
from rasp_ir.ir import (
    Aggregate,
    Comparison,
    Full,
    Map,
    PooledVote,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.layers import LayerAllocation
from rasp_ir.printer import format_expr
from rasp_ir.values import Value, format_value, normalize_number

UnitKind = Literal["head", "mlp", "embedding"]


@dataclass(frozen=True)
class Cell:
    """One binding at one position (for a selector: one query row)."""

    name: str
    position: int

    def __str__(self) -> str:
        return f"{self.name}[{self.position}]"


@dataclass(frozen=True)
class Unit:
    """A part of the model a step runs in: a head (by the binding it computes), an MLP table
    row (the map and its input values) or the embedding."""

    kind: UnitKind
    name: str
    where: str
    row: tuple[Value, ...] = ()

    def __str__(self) -> str:
        if self.kind == "head":
            return f"{self.where} ({self.name})"
        args = ", ".join(format_value(v) for v in self.row)
        return f"{self.where} {self.name}({args})"


@dataclass(frozen=True)
class Step:
    """How one cell got its value: ``value`` (for a selector row, the selected key positions),
    what happened in words, the cells read and the unit it ran in (None for inputs)."""

    cell: Cell
    value: Value | tuple[int, ...]
    detail: str
    reads: tuple[Cell, ...]
    unit: Unit | None


@dataclass(frozen=True)
class Cone:
    """The steps of a cell's dependency cone, the root first, each cell once."""

    root: Cell
    steps: dict[Cell, Step]

    def names(self) -> set[str]:
        """Every binding and primitive the cone reads."""
        return {cell.name for cell in self.steps}

    def units(self) -> set[Unit]:
        """Every head, MLP row and embedding entry the cone runs through."""
        return {step.unit for step in self.steps.values() if step.unit is not None}


class ConeBuilder:
    """Cones over one evaluated batch; values are converted once per binding and reused.

    ``describe=False`` leaves every step's text empty: error attribution asks only for the
    structure and the units. Steps and unit sets of the example asked last are kept, so that
    the cones of one example's positions share their work; each selector's predicate is
    formatted once, not at every step that reads it.
    """

    def __init__(
        self, evaluation: Evaluation, allocation: LayerAllocation, *, describe: bool = True
    ) -> None:
        self.evaluation = evaluation
        self.program: Program = evaluation.program
        self.allocation = allocation
        self.describe = describe
        self._values: dict[str, list[list[Value]]] = {}
        self._places = _unit_places(allocation)
        self._predicates: dict[str, str] = {}
        self._example = -1
        self._steps: dict[Cell, Step] = {}
        self._units: dict[Cell, frozenset[Unit]] = {}

    def value(self, name: str, example: int, position: int) -> Value:
        """The value of s-op ``name`` at ``position`` of ``example``."""
        if name not in self._values:
            self._values[name] = self.evaluation.values(name)
        return self._values[name][example][position]

    def selected(self, name: str, example: int, query: int) -> tuple[int, ...]:
        """The key positions selector ``name`` selects for ``query`` of ``example``."""
        row = self.evaluation.selector(name)[example, query]
        return tuple(int(j) for j in np.flatnonzero(row))

    def cone(self, example: int, root: Cell) -> Cone:
        """The dependency cone of ``root`` in ``example``."""
        steps: dict[Cell, Step] = {}
        pending = [root]
        while pending:
            cell = pending.pop()
            if cell in steps:
                continue
            steps[cell] = self.step(example, cell)
            pending.extend(reversed(steps[cell].reads))
        return Cone(root, steps)

    def units(self, example: int, cell: Cell) -> frozenset[Unit]:
        """The units the cone of ``cell`` in ``example`` runs through (``Cone.units``, with
        the unit sets of shared sub-cones computed once)."""
        self._switch_to(example)
        found = self._units.get(cell)
        if found is None:
            step = self.step(example, cell)
            own = frozenset(() if step.unit is None else (step.unit,))
            found = own.union(*(self.units(example, read) for read in step.reads))
            self._units[cell] = found
        return found

    def step(self, example: int, cell: Cell) -> Step:
        """The step that computed ``cell`` in ``example`` (each cell read once)."""
        self._switch_to(example)
        step = self._steps.get(cell)
        if step is None:
            step = self._compute_step(example, cell)
            step = replace(step, reads=tuple(dict.fromkeys(step.reads)))
            self._steps[cell] = step
        return step

    def _switch_to(self, example: int) -> None:
        if example != self._example:
            self._example, self._steps, self._units = example, {}, {}

    def _compute_step(self, example: int, cell: Cell) -> Step:
        name, i = cell.name, cell.position
        if name == "tokens":
            return Step(cell, self.value(name, example, i), "input token", (), None)
        if name == "indices":
            return Step(cell, i, "position", (), None)
        if name == "length":
            value = self.value(name, example, i)
            return Step(cell, value, "input length", (), self._head_unit(name))
        node = self.program.binding(name).node
        if isinstance(node, Full):
            return Step(cell, node.value, "constant", (), None)
        if isinstance(node, Map):
            return self._map_step(example, cell, node)
        if isinstance(node, Aggregate):
            return self._aggregate_step(example, cell, node)
        if isinstance(node, PooledVote):
            return self._vote_step(example, cell, node)
        if isinstance(node, SelectorWidth):
            width = self.value(name, example, i)
            detail = f"counts the {width} keys {node.selector} selects" if self.describe else ""
            reads = (Cell(node.selector, i),)
            return Step(cell, width, detail, reads, self._head_unit(name))
        return self._selector_step(example, cell)

    def _map_step(self, example: int, cell: Cell, node: Map) -> Step:
        names = tuple(dict.fromkeys(node.inputs))
        row = tuple(self.value(n, example, cell.position) for n in names)
        value = self.value(cell.name, example, cell.position)
        detail = ""
        if self.describe:
            arguments = ", ".join(f"{n}={format_value(v)}" for n, v in zip(names, row, strict=True))
            detail = f"table row ({arguments}) -> {format_value(value)}"
        sublayer, layer = self.allocation.placement.get(cell.name, ("mlp", 0))
        where = "embedding" if sublayer == "embedding" else f"L{layer} mlp"
        kind: UnitKind = "embedding" if sublayer == "embedding" else "mlp"
        reads = tuple(Cell(n, cell.position) for n in names)
        return Step(cell, value, detail, reads, Unit(kind, cell.name, where, row))

    def _aggregate_step(self, example: int, cell: Cell, node: Aggregate) -> Step:
        keys = self.selected(node.selector, example, cell.position)
        value = self.value(cell.name, example, cell.position)
        if not self.describe:
            detail = ""
        elif keys:
            shown = ", ".join(
                f"{j}: {format_value(self.value(node.sop, example, j))}" for j in keys
            )
            detail = f"{node.reduce} of {node.sop} at {_plural('key', keys)} ({shown})"
        else:
            detail = f"no key selected: the default {format_value(node.default)}"
        reads = (Cell(node.selector, cell.position), *(Cell(node.sop, j) for j in keys))
        return Step(cell, value, detail, reads, self._head_unit(cell.name))

    def _vote_step(self, example: int, cell: Cell, node: PooledVote) -> Step:
        """A vote reads its selector's row and its inputs at the selected keys; the text gives
        each label's exact mean score there."""
        keys = self.selected(node.selector, example, cell.position)
        value = self.value(cell.name, example, cell.position)
        names = tuple(dict.fromkeys(node.inputs))
        detail = ""
        if self.describe and keys:
            means = []
            for label, fn in zip(node.labels, node.scores, strict=True):
                rows = [tuple(self.value(n, example, j) for n in node.inputs) for j in keys]
                scores = [apply_lambda(fn, row) for row in rows]
                total = sum(
                    (Fraction(x) for x in scores if isinstance(x, (int, Fraction))), Fraction(0)
                )
                mean = normalize_number(total / len(keys))
                means.append(f"{format_value(label)} {format_value(mean)}")
            detail = f"vote over {_plural('key', keys)}, mean scores: {', '.join(means)}"
        elif self.describe:
            detail = f"no key selected: the default {format_value(node.default)}"
        reads = (
            Cell(node.selector, cell.position),
            *(Cell(n, j) for j in keys for n in names),
        )
        return Step(cell, value, detail, reads, self._head_unit(cell.name))

    def _selector_step(self, example: int, cell: Cell) -> Step:
        node = self.program.binding(cell.name).node
        keys = self.selected(cell.name, example, cell.position)
        if isinstance(node, (SelectorAnd, SelectorOr)):
            word = "and" if isinstance(node, SelectorAnd) else "or"
            reads: tuple[Cell, ...] = (
                Cell(node.left, cell.position),
                Cell(node.right, cell.position),
            )
            detail = f"{node.left} {word} {node.right}: {_selection(cell.position, keys)}"
            return Step(cell, keys, detail if self.describe else "", reads, None)
        if isinstance(node, SelectorNot):
            reads = (Cell(node.operand, cell.position),)
            detail = f"not {node.operand}: {_selection(cell.position, keys)}"
            return Step(cell, keys, detail if self.describe else "", reads, None)
        assert isinstance(node, (Select, SelectClosest))
        reads = (Cell(node.queries, cell.position), *(Cell(node.keys, j) for j in keys))
        if not self.describe:
            return Step(cell, keys, "", reads, None)
        query = format_value(self.value(node.queries, example, cell.position))
        kind = "select_closest" if isinstance(node, SelectClosest) else "select"
        detail = (
            f"{kind}(keys {node.keys}, query {node.queries} = {query}, "
            f"{self._predicate_text(cell.name, node)}): {_selection(cell.position, keys)}"
        )
        return Step(cell, keys, detail, reads, None)

    def _predicate_text(self, name: str, node: Select | SelectClosest) -> str:
        """How the predicate of selector ``name`` is written (formatted once per selector)."""
        if name not in self._predicates:
            predicate = node.predicate
            self._predicates[name] = (
                predicate.op
                if isinstance(predicate, Comparison)
                else f"fn({', '.join(predicate.params)}) -> {format_expr(predicate.body)}"
            )
        return self._predicates[name]

    def _head_unit(self, name: str) -> Unit | None:
        where = self._places.get(name)
        return None if where is None else Unit("head", name, where)


def _unit_places(allocation: LayerAllocation) -> dict[str, str]:
    """``L2 head 1`` for every s-op a head computes."""
    places: dict[str, str] = {}
    for layer in allocation.layers:
        for number, head in enumerate(layer.heads, start=1):
            for name in head.computes:
                places[name] = f"L{layer.index} head {number}"
    return places


def _plural(word: str, positions: tuple[int, ...]) -> str:
    listed = ", ".join(str(j) for j in positions)
    return f"{word} {listed}" if len(positions) == 1 else f"{word}s {listed}"


def _selection(query: int, keys: tuple[int, ...]) -> str:
    if not keys:
        return f"query {query} selects no key"
    return f"query {query} selects {_plural('key', keys)}"


def format_cone(cone: Cone) -> str:
    """The cone as an indented tree, the root first; a cell reached twice is written once in
    full and then as ``(see above)``."""
    lines: list[str] = []
    shown: set[Cell] = set()

    def visit(cell: Cell, depth: int) -> None:
        step = cone.steps[cell]
        indent = "  " * depth
        if cell in shown:
            lines.append(f"{indent}{_head_of(step)} (see above)")
            return
        shown.add(cell)
        where = f" [{step.unit.where}]" if step.unit is not None else ""
        lines.append(f"{indent}{_head_of(step)}: {step.detail}{where}")
        for read in step.reads:
            visit(read, depth + 1)

    visit(cone.root, 0)
    return "\n".join(lines)


def _head_of(step: Step) -> str:
    if isinstance(step.value, tuple):
        return str(step.cell)
    return f"{step.cell} = {format_value(step.value)}"
