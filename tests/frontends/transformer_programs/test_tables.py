"""Lifted tables: threshold trees and lookups agree with the table on every grid point, and
print as text that parses back to the same expression."""

from __future__ import annotations

import itertools

import pytest

from rasp_ir import ir
from rasp_ir.expr import apply_lambda
from rasp_ir.frontends.transformer_programs.tables import lookup_expr, table_expression
from rasp_ir.ir import Map
from rasp_ir.printer import format_expr
from rasp_ir.syntax import parse_program
from rasp_ir.values import Value

Table = dict[tuple[Value, ...], int]


def _function(params: list[str], expr: ir.Expr) -> Map:
    """The map of ``expr`` as parsed from its printed text (which must give ``expr`` back)."""
    inputs = ", ".join(["c"] * len(params))
    text = (
        '%vocab {"a"}\n%max_len 3\nc : num = selector_width(select(tokens, tokens, ==));\n'
        f"m = map(fn({', '.join(params)}) -> {format_expr(expr)}, {inputs});\noutput m;\n"
    )
    node = parse_program(text).binding("m").node
    assert isinstance(node, Map)
    assert node.fn == ir.Lambda(tuple(params), expr)
    return node


@pytest.mark.parametrize("numeric", [True, False])
def test_two_input_tables_agree_everywhere(numeric: bool) -> None:
    xs, ys = list(range(0, 9)), list(range(0, 17))
    table: Table = {
        (x, y): int(x > 3) + 2 * int(y > 5) + int(x == 8) for x, y in itertools.product(xs, ys)
    }
    expr = table_expression(["x", "y"], [xs, ys], table, numeric=numeric)
    assert (" if " in format_expr(expr)) == numeric
    node = _function(["x", "y"], expr)
    for (x, y), out in table.items():
        assert apply_lambda(node.fn, (x, y)) == out


def test_one_input_edges_of_the_count_range() -> None:
    xs = list(range(0, 9))
    table: Table = {(x,): (5 if x == 0 else 3 if x == 8 else 1) for x in xs}
    node = _function(["x"], table_expression(["x"], [xs], table, numeric=True))
    assert [apply_lambda(node.fn, (x,)) for x in xs] == [table[(x,)] for x in xs]


def _agrees(params: list[str], table: Table, expr: ir.Expr) -> bool:
    node = _function(params, expr)
    return all(apply_lambda(node.fn, key) == out for key, out in table.items())


@pytest.mark.parametrize("rows_along_y", [False, True])
def test_two_counts_split_by_a_boundary_are_written_as_one(rows_along_y: bool) -> None:
    counts = list(range(0, 65))

    def output(x: int, y: int) -> int:
        if rows_along_y:
            x, y = y, x
        if (x, y) in ((0, 0), (3, 60)):
            return 6
        return 4 if y >= x + x // 20 else 1

    table: Table = {(x, y): output(x, y) for x, y in itertools.product(counts, counts)}
    expr = table_expression(["x", "y"], [counts, counts], table, numeric=True)
    body = format_expr(expr)
    assert ">=" in body and "lookup((x, y)" not in body
    assert len(body) < len(format_expr(lookup_expr(["x", "y"], table))) // 20
    assert _agrees(["x", "y"], table, expr)


def test_threshold_trees_split_where_the_output_changes() -> None:
    xs = list(range(0, 65))
    steps = [0] * 14 + [1] * 18 + [2] * 18 + [-3] * 13 + [2, 1]
    table: Table = {(x,): out for x, out in zip(xs, steps, strict=True)}
    expr = table_expression(["x"], [xs], table, numeric=True)
    body = format_expr(expr)
    assert "lookup" not in body and body.count(" if ") == 5
    assert _agrees(["x"], table, expr)


def test_unstructured_count_tables_stay_lookups() -> None:
    xs = list(range(0, 40))
    table: Table = {(x, y): (x * 7 + y * 13) % 5 for x, y in itertools.product(xs, xs)}
    expr = table_expression(["x", "y"], [xs, xs], table, numeric=True)
    assert isinstance(expr, ir.Lookup) and format_expr(expr).startswith("lookup((x, y)")
    assert _agrees(["x", "y"], table, expr)


def test_a_boundary_whose_threshold_is_a_tree_parses() -> None:
    xs, ys = list(range(0, 9)), list(range(0, 40))
    table: Table = {
        (x, y): 2 if y >= (1 if x <= 3 else 30) else 5 for x, y in itertools.product(xs, ys)
    }
    expr = table_expression(["x", "y"], [xs, ys], table, numeric=True)
    assert format_expr(expr).startswith("2 if y >= (")
    assert _agrees(["x", "y"], table, expr)
