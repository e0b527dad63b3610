"""Inline SVG drawings as :class:`~markupsafe.Markup`: a laid-out dataflow graph, a heatmap (a
selector, an attention pattern, a residual stream) and a training curve. Every piece of text
is escaped here; sizes are computed, never fixed by a stylesheet."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import numpy.typing as npt
from markupsafe import Markup

from rasp_ir.reporting.layout import NODE_HEIGHT, GraphLayout

CELL = 18
LABEL_CHARS = 14
CHAR = 7


def graph_svg(layout: GraphLayout) -> Markup:
    """The graph: one linked box per node (``id="node-NAME"``, a link to its source line),
    curved edges from operand to reader, row labels on the left."""
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#778"/></marker></defs>',
    ]
    for label, top in layout.rows:
        parts.append(
            f'<text class="row-label" x="8" y="{top + NODE_HEIGHT / 2 + 4:.1f}">'
            f"{escape(label)}</text>"
        )
    for source, target in layout.edges:
        a, b = layout.nodes[source], layout.nodes[target]
        y1, y2 = a.y + NODE_HEIGHT, b.y
        if y2 <= y1:
            y1, y2 = a.y + NODE_HEIGHT / 2, b.y + NODE_HEIGHT / 2
        middle = (y1 + y2) / 2
        parts.append(
            f'<path class="edge" data-from="{escape(source)}" data-to="{escape(target)}" '
            f'd="M{a.x:.1f},{y1:.1f} C{a.x:.1f},{middle:.1f} {b.x:.1f},{middle:.1f} '
            f'{b.x:.1f},{y2:.1f}" marker-end="url(#arrow)"/>'
        )
    for node in layout.nodes.values():
        name = escape(node.name)
        css = f"node kind-{escape(node.kind)}" + (" output" if node.is_output else "")
        left = node.x - node.width / 2
        parts.append(
            f'<a href="#def-{name}"><g id="node-{name}" class="{css}" data-binding="{name}">'
            f"<title>{name}: {escape(node.kind)}, {escape(node.where)}</title>"
            f'<rect x="{left:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" '
            f'height="{NODE_HEIGHT:.0f}" rx="6"/>'
            f'<text x="{node.x:.1f}" y="{node.y + 14:.1f}" class="node-name">{name}</text>'
            f'<text x="{node.x:.1f}" y="{node.y + 27:.1f}" class="node-kind">'
            f"{escape(node.kind)}</text></g></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap_svg(
    values: npt.NDArray[np.float64],
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str,
    signed: bool = False,
) -> Markup:
    """``values`` (rows x columns) as coloured cells with the row and column labels; each cell
    says its value on hover. Colour: 0 pale grey, then white to full blue at the largest
    magnitude (negative values red when ``signed``)."""
    n_rows, n_columns = values.shape
    left = min(max((len(r) for r in rows), default=1), LABEL_CHARS) * CHAR + 8
    top = min(max((len(c) for c in columns), default=1), LABEL_CHARS) * CHAR + 8
    width, height = left + n_columns * CELL + 4, top + n_rows * CELL + 4
    scale = float(np.abs(values).max()) if values.size else 0.0
    parts = [
        f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, label in enumerate(rows):
        y = top + i * CELL + CELL * 0.7
        parts.append(
            f'<text class="axis" x="{left - 4}" y="{y:.1f}" text-anchor="end">'
            f"{escape(_short(label))}<title>{escape(label)}</title></text>"
        )
    for j, label in enumerate(columns):
        x = left + j * CELL + CELL * 0.65
        parts.append(
            f'<text class="axis" transform="translate({x:.1f},{top - 4}) rotate(-60)">'
            f"{escape(_short(label))}<title>{escape(label)}</title></text>"
        )
    for i in range(n_rows):
        for j in range(n_columns):
            value = float(values[i, j])
            colour = _colour(value, scale, signed)
            parts.append(
                f'<rect x="{left + j * CELL}" y="{top + i * CELL}" width="{CELL - 1}" '
                f'height="{CELL - 1}" fill="{colour}"><title>{escape(rows[i])} / '
                f"{escape(columns[j])}: {_number(value)}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def curve_svg(name: str, values: Sequence[float], *, width: int = 320, height: int = 160) -> Markup:
    """A line chart of ``values`` against epoch 1..n, with the first, last, lowest and highest
    values written on the axes."""
    finite = [v for v in values if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if high == low:
        low, high = low - 0.5, high + 0.5
    left, right, top, bottom = 52, 10, 22, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(values) - 1, 1)
    points = [
        (left + plot_w * i / count, top + plot_h * (1 - (v - low) / (high - low)))
        for i, v in enumerate(values)
        if math.isfinite(v)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return Markup(
        f'<svg class="curve" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(name)}"><title>{escape(name)}</title>'
        f'<text class="curve-title" x="{left}" y="14">{escape(name)}</text>'
        f'<rect class="plot" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>'
        f'<text class="axis" x="{left - 4}" y="{top + 8}" text-anchor="end">{_number(high)}</text>'
        f'<text class="axis" x="{left - 4}" y="{top + plot_h}" text-anchor="end">'
        f"{_number(low)}</text>"
        f'<text class="axis" x="{left}" y="{height - 8}">1</text>'
        f'<text class="axis" x="{left + plot_w}" y="{height - 8}" text-anchor="end">'
        f"{len(values)} epochs</text>"
        f'<polyline class="line" points="{path}"/></svg>'
    )


def _colour(value: float, scale: float, signed: bool) -> str:
    if scale == 0 or value == 0:
        return "#f1f1f5"
    strength = min(abs(value) / scale, 1.0)
    fade = round(255 * (1 - strength))
    if value < 0 and signed:
        return f"rgb(255,{fade},{fade})"
    return f"rgb({fade},{fade},255)"


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
