"""Everything the report page shows, as plain data: an opened artifact and inputs in, a
:class:`ReportData` out (texts, table rows, and SVG drawings already escaped)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from rasp_ir.interpreter import Evaluation, interpret
from rasp_ir.ir import Program, is_selector, kind_name
from rasp_ir.layers import LENGTH_SELECTOR_TEXT, LayerAllocation
from rasp_ir.reporting.attribution import Attribution, attribute_errors
from rasp_ir.reporting.cone import Cell, ConeBuilder, format_cone
from rasp_ir.reporting.highlight import SourceLine, highlight_lines
from rasp_ir.reporting.layout import layout_graph
from rasp_ir.reporting.sources import Opened
from rasp_ir.reporting.svg import curve_svg, graph_svg, heatmap_svg
from rasp_ir.reporting.view import ModelTrace, SummaryTable
from rasp_ir.values import Value, format_value

SHOWN_SET = 24


@dataclass(frozen=True)
class ValueRow:
    """One binding's values on one example (for a selector: the selected keys per query)."""

    name: str
    kind: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    """A titled drawing."""

    title: str
    note: str
    svg: Markup


@dataclass(frozen=True)
class ExampleData:
    """What the page shows for one input."""

    number: int
    tokens: str
    positions: tuple[str, ...]
    rows: tuple[ValueRow, ...]
    selectors: tuple[Figure, ...]
    cones: tuple[tuple[str, str], ...]
    residuals: tuple[Figure, ...]
    attention: tuple[Figure, ...]


@dataclass(frozen=True)
class ReportData:
    """The whole page's content."""

    title: str
    facts: tuple[tuple[str, str], ...]
    tables: tuple[SummaryTable, ...]
    lines: tuple[SourceLine, ...]
    graph: Markup
    allocation: tuple[tuple[str, str, str, str], ...]
    value_sets: tuple[tuple[str, str, str, str], ...]
    warnings: tuple[str, ...]
    examples: tuple[ExampleData, ...]
    curves: tuple[Figure, ...]
    certificate: tuple[tuple[str, str], ...]
    certificate_json: str
    attribution: Attribution | None


def collect(opened: Opened, inputs: Sequence[Sequence[Value]]) -> ReportData:
    """The report of ``opened`` on ``inputs`` (already checked against the program header)."""
    view, checked = opened.view, opened.checked
    program, allocation = checked.program, checked.allocation
    examples: tuple[ExampleData, ...] = ()
    if inputs:
        evaluation = interpret(program, inputs, value_sets=checked.value_sets)
        trace = view.trace(inputs) if view.trace is not None else None
        builder = ConeBuilder(evaluation, allocation)
        examples = tuple(_example(builder, evaluation, b, trace) for b in range(len(inputs)))
    certificate = view.certificate
    attribution = attribute_errors(checked, view.labelled) if view.labelled else None
    return ReportData(
        title=f"{view.source}: {view.kind}",
        facts=view.facts,
        tables=view.tables,
        lines=tuple(highlight_lines(view.program_text, program, view.source)),
        graph=graph_svg(layout_graph(program, allocation)),
        allocation=_allocation_rows(allocation),
        value_sets=_value_set_rows(program, checked.value_sets.sets, allocation),
        warnings=tuple(d.render() for d in checked.warnings),
        examples=examples,
        curves=tuple(Figure(c.name, "", curve_svg(c.name, c.values)) for c in view.curves),
        certificate=_certificate_rows(certificate.to_json()) if certificate else (),
        certificate_json=_pretty(certificate.to_json()) if certificate else "",
        attribution=attribution,
    )


def _allocation_rows(allocation: LayerAllocation) -> tuple[tuple[str, str, str, str], ...]:
    """(layer, unit, pattern, computes) per head and MLP, the embedding first."""
    rows = []
    if allocation.embedding:
        rows.append(("0", "embedding", "", ", ".join(allocation.embedding)))
    for layer in allocation.layers:
        for number, head in enumerate(layer.heads, start=1):
            pattern = f"{head.pattern}({head.selector or LENGTH_SELECTOR_TEXT})"
            rows.append((str(layer.index), f"head {number}", pattern, ", ".join(head.computes)))
        if layer.mlp:
            rows.append((str(layer.index), "mlp", "", ", ".join(layer.mlp)))
    return tuple(rows)


def _value_set_rows(
    program: Program, sets: dict[str, tuple[Value, ...]], allocation: LayerAllocation
) -> tuple[tuple[str, str, str, str], ...]:
    """(name, encoding, where it runs, value set) for every s-op, primitives first."""
    rows = []
    for name, values in sets.items():
        if name not in allocation.depth:
            continue
        encoding = program.encoding_of(name)
        sublayer, layer = allocation.placement.get(name, ("unused", 0))
        where = sublayer if sublayer in ("input", "embedding", "unused") else f"L{layer} {sublayer}"
        shown = ", ".join(format_value(v) for v in values[:SHOWN_SET])
        if len(values) > SHOWN_SET:
            shown += f", … ({len(values)} values)"
        rows.append((name, encoding, where, "{" + shown + "}"))
    return tuple(rows)


def _example(
    builder: ConeBuilder, evaluation: Evaluation, b: int, trace: ModelTrace | None
) -> ExampleData:
    program = evaluation.program
    n = int(evaluation.lengths[b])
    tokens = [format_value(v) for v in evaluation.values("tokens")[b]]
    positions = tuple(f"{i}:{t}" for i, t in enumerate(tokens))
    rows: list[ValueRow] = [ValueRow("tokens", "primitive", tuple(tokens))]
    selectors: list[Figure] = []
    for binding in program.bindings:
        if is_selector(binding.node):
            matrix = evaluation.selector(binding.name)[b, :n, :n].astype(np.float64)
            picked = tuple(
                " ".join(str(j) for j in np.flatnonzero(matrix[i])) or "-" for i in range(n)
            )
            rows.append(ValueRow(binding.name, kind_name(binding.node), picked))
            note = "rows: queries, columns: keys; blue: selected"
            svg = heatmap_svg(matrix, positions, positions, title=binding.name)
            selectors.append(Figure(binding.name, note, svg))
            continue
        values = evaluation.values(binding.name)[b]
        rows.append(
            ValueRow(binding.name, kind_name(binding.node), tuple(format_value(v) for v in values))
        )
    cones = tuple(
        (f"{name}[{i}]", format_cone(builder.cone(b, Cell(name, i))))
        for name in program.outputs
        if not program.is_selector_name(name)
        for i in range(n)
    )
    residuals = _residual_figures(trace, b) if trace is not None else ()
    attention = _attention_figures(trace, b) if trace is not None else ()
    shown = " ".join(tokens)
    return ExampleData(
        b + 1, shown, positions, tuple(rows), tuple(selectors), cones, residuals, attention
    )


def _residual_figures(trace: ModelTrace, b: int) -> tuple[Figure, ...]:
    positions = trace.positions[b]
    note = "rows: positions, columns: residual dimensions (hover for the label); blue > 0, red < 0"
    return tuple(
        Figure(
            stage,
            note,
            heatmap_svg(
                trace.values[s, b, : len(positions)],
                positions,
                trace.labels,
                title=f"residual after {stage}",
                signed=True,
            ),
        )
        for s, stage in enumerate(trace.stages)
    )


def _attention_figures(trace: ModelTrace, b: int) -> tuple[Figure, ...]:
    """One heatmap per layer and head of the model's attention weights on example ``b``."""
    if trace.attention is None:
        return ()
    positions = trace.positions[b]
    n = len(positions)
    note = "rows: queries, columns: keys; the model's softmax weights"
    layers, _, heads = trace.attention.shape[:3]
    return tuple(
        Figure(
            f"L{layer + 1} head {head + 1}",
            note,
            heatmap_svg(
                trace.attention[layer, b, head, :n, :n],
                positions,
                positions,
                title=f"model attention, L{layer + 1} head {head + 1}",
            ),
        )
        for layer in range(layers)
        for head in range(heads)
    )


def _certificate_rows(data: dict[str, object]) -> tuple[tuple[str, str], ...]:
    keys = ("frontend", "compared", "inputs_compared", "positions_compared", "agreement")
    rows = [(key, str(data[key])) for key in keys if key in data]
    inputs = data.get("inputs")
    if isinstance(inputs, dict):
        for name, group in inputs.items():
            rows.append((f"inputs: {name}", _pretty(group)))
    return tuple(rows)


def _pretty(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
