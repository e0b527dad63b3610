"""The layered graph layout and the SVG drawings."""

from __future__ import annotations

import itertools

import numpy as np

from rasp_ir.check import check_program
from rasp_ir.reporting.layout import layout_graph
from rasp_ir.reporting.svg import curve_svg, graph_svg, heatmap_svg
from rasp_ir.syntax import parse_program

SORT = """\
%vocab {"a", "b", "c"}
%max_len 4
before = select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <));
target = selector_width(before);
sort = aggregate(select(target, indices, ==), tokens);
unused = tokens == "a";
output sort;
"""


def test_nodes_sit_in_the_rows_of_their_layers_and_selectors_read_downwards() -> None:
    checked = check_program(parse_program(SORT, "<test>"))
    layout = layout_graph(checked.program, checked.allocation)
    rows = [label for label, _ in layout.rows]
    assert rows == [
        "input",
        "L1 select",
        "L1 select",
        "L1 select",
        "L1 heads",
        "L2 select",
        "L2 heads",
        "unused",
    ]
    y = {name: node.y for name, node in layout.nodes.items()}
    assert y["tokens"] == y["indices"] < y["before__select"] < y["before__and"] < y["before"]
    assert y["before"] < y["target"] < y["sort__select"] < y["sort"] < y["unused"]
    for source, target in layout.edges:
        assert y[source] < y[target], (source, target)
    assert layout.nodes["sort"].is_output and not layout.nodes["target"].is_output
    assert layout.nodes["target"].where == "L1 attention"
    boxes = sorted((n.y, n.x - n.width / 2, n.x + n.width / 2) for n in layout.nodes.values())
    for (y1, _, right), (y2, left, _) in itertools.pairwise(boxes):
        assert y1 != y2 or right < left  # no two boxes of a row overlap


def test_the_graph_svg_links_every_node_to_its_source_line() -> None:
    checked = check_program(parse_program(SORT, "<test>"))
    svg = graph_svg(layout_graph(checked.program, checked.allocation))
    for name in ("tokens", "before", "target", "sort"):
        assert f'<a href="#def-{name}"><g id="node-{name}"' in svg
    assert svg.count('class="edge"') == 13  # one per distinct (operand, reader) pair


def test_heatmaps_escape_labels_and_colour_by_magnitude() -> None:
    values = np.array([[1.0, 0.0], [-0.5, 0.25]])
    svg = heatmap_svg(values, ["<q>", "b"], ["k&1", "k2"], title="a <title>", signed=True)
    assert "<q>" not in svg and "&lt;q&gt;" in svg and "k&amp;1" in svg
    assert 'fill="rgb(0,0,255)"' in svg  # the largest value
    assert 'fill="rgb(255,128,128)"' in svg  # -0.5, half strength, red
    assert 'fill="#f1f1f5"' in svg  # zero
    assert svg.count("<rect") == 4


def test_a_curve_has_one_point_per_epoch() -> None:
    svg = curve_svg("loss", [3.0, 2.0, 1.5, float("nan"), 1.0])
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 4
    assert ">5 epochs</text>" in svg and ">3</text>" in svg and ">1</text>" in svg
