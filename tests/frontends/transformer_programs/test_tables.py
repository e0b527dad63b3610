"""Lifted tables: threshold trees and lookups agree with the table on every grid point."""

from __future__ import annotations

import itertools

import pytest

from rasp_ir.expr import apply_lambda
from rasp_ir.frontends.transformer_programs.tables import table_expression
from rasp_ir.ir import Map
from rasp_ir.lowering import parse_program


def _function(params: list[str], body: str) -> Map:
    inputs = ", ".join(["c"] * len(params))
    text = (
        '%vocab {"a"}\n%max_len 3\nc : num = selector_width(select(tokens, tokens, ==));\n'
        f"m = map(fn({', '.join(params)}) -> {body}, {inputs});\noutput m;\n"
    )
    node = parse_program(text).binding("m").node
    assert isinstance(node, Map)
    return node


@pytest.mark.parametrize("numeric", [True, False])
def test_two_input_tables_agree_everywhere(numeric: bool) -> None:
    xs, ys = list(range(0, 9)), list(range(0, 17))
    table = {
        (x, y): int(x > 3) + 2 * int(y > 5) + int(x == 8) for x, y in itertools.product(xs, ys)
    }
    body = table_expression(["x", "y"], [xs, ys], table, numeric=numeric)
    assert (" if " in body) == numeric
    node = _function(["x", "y"], body)
    for (x, y), out in table.items():
        assert apply_lambda(node.fn, (x, y)) == out


def test_one_input_edges_of_the_count_range() -> None:
    xs = list(range(0, 9))
    table = {(x,): (5 if x == 0 else 3 if x == 8 else 1) for x in xs}
    node = _function(["x"], table_expression(["x"], [xs], table, numeric=True))
    assert [apply_lambda(node.fn, (x,)) for x in xs] == [table[(x,)] for x in xs]
