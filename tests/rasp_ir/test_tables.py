"""Map and predicate tables: codes, axes, undefined values and errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.ir import Binary, Binding, Comparison, Const, IfElse, Lambda, Map, Param
from rasp_ir.tables import code_of, distinct_inputs, map_table, none_code, predicate_table
from rasp_ir.values import value_key


def test_code_of_keeps_true_and_one_apart() -> None:
    codes = code_of((None, True, 1, "a"))
    assert codes[value_key(True)] == 1
    assert codes[value_key(1)] == 2
    assert none_code((None, True, 1)) == 0
    assert none_code((True, 1)) is None


def test_map_table_has_one_axis_per_distinct_input() -> None:
    fn = Lambda(("a", "b", "c"), Binary("+", Binary("*", Param("a"), Param("b")), Param("c")))
    binding = Binding("m", Map(fn, ("x", "y", "x"), default=-1), "cat")
    assert distinct_inputs(binding.node) == ("x", "y")  # type: ignore[arg-type]
    output_set = (-1, 3, 4, 6, 8)
    table = map_table(binding, [(None, 1, 2), (2, 3)], output_set)
    assert table.shape == (3, 2)
    values = [[output_set[c] for c in row] for row in table.tolist()]
    assert values == [[-1, -1], [3, 4], [6, 8]]  # x * y + x, default where x is None


def test_map_table_values() -> None:
    fn = Lambda(("a", "b"), Binary("-", Param("a"), Param("b")))
    binding = Binding("d", Map(fn, ("x", "y"), default=None), "cat")
    output_set = (None, -1, 0, 1)
    table = map_table(binding, [(None, 0, 1), (None, 0, 1)], output_set)
    values = [[output_set[c] for c in row] for row in table.tolist()]
    assert values == [[None, None, None], [None, 0, -1], [None, 1, 0]]


def test_map_table_with_a_failing_branch_not_taken_is_exact() -> None:
    """Column-wise evaluation computes both branches and fails on ``1 / 0``; the table is then
    built one combination at a time, as the function means."""
    inverse = Binary("/", Const(1), Param("a"))
    fn = Lambda(("a", "b"), IfElse(Binary("!=", Param("a"), Const(0)), inverse, Param("b")))
    binding = Binding("guarded", Map(fn, ("x", "y")), "cat")
    output_set = (Fraction(1, 2), 1, 5, 7)
    table = map_table(binding, [(0, 1, 2), (5, 7)], output_set)
    values = [[output_set[c] for c in row] for row in table.tolist()]
    assert values == [[5, 7], [1, 1], [Fraction(1, 2), Fraction(1, 2)]]


def test_map_table_raises_map_error() -> None:
    fn = Lambda(("a",), Binary("/", Const(1), Param("a")))
    binding = Binding("inv", Map(fn, ("x",)), "cat")
    with pytest.raises(RaspError) as caught:
        map_table(binding, [(0, 1)], (1,))
    assert caught.value.diagnostics[0].code == "map-error"


def test_map_table_rejects_unsound_output_set() -> None:
    binding = Binding("same", Map(Lambda(("a",), Param("a")), ("x",)), "cat")
    with pytest.raises(ValueError, match="not in its value set"):
        map_table(binding, [(1, 2)], (1,))


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("==", [[False, False, False], [False, True, False], [False, False, True]]),
        ("!=", [[False, False, False], [False, False, True], [False, True, False]]),
        ("<", [[False, False, False], [False, False, True], [False, False, False]]),
        ("<=", [[False, False, False], [False, True, True], [False, False, True]]),
        (">", [[False, False, False], [False, False, False], [False, True, False]]),
        (">=", [[False, False, False], [False, True, False], [False, True, True]]),
        ("true", [[False, False, False], [False, True, True], [False, True, True]]),
        ("false", [[False] * 3] * 3),
    ],
)
def test_comparison_is_key_op_query(op: str, expected: list[list[bool]]) -> None:
    """Rows are keys, columns queries: ``<`` reads key < query; None entries are false."""
    table = predicate_table(Comparison(op), (None, 1, 2), (None, 1, 2))
    assert table.tolist() == expected


def test_comparison_on_mixed_numbers_and_strings() -> None:
    keys = (1, Fraction(3, 2), "a")
    queries = (Fraction(3, 2), "a", "b")
    assert predicate_table(Comparison("=="), keys, queries).tolist() == [
        [False, False, False],
        [True, False, False],
        [False, True, False],
    ]
    with pytest.raises(RaspError) as caught:
        predicate_table(Comparison("<"), keys, queries)
    assert caught.value.diagnostics[0].code == "predicate-error"


def test_equality_keeps_booleans_and_numbers_apart() -> None:
    table = predicate_table(Comparison("=="), (True, 1), (True, 1))
    assert table.tolist() == [[True, False], [False, True]]


def test_ordering_with_booleans_follows_the_expression_language() -> None:
    table = predicate_table(Comparison("<"), (False, True, 1), (2,))
    assert table.tolist() == [[True], [True], [True]]


def test_lambda_predicate_gets_key_then_query() -> None:
    ahead = Lambda(("k", "q"), Binary("==", Param("k"), Binary("+", Param("q"), Const(2))))
    table = predicate_table(ahead, (0, 1, 2, 3), (0, 1))
    assert np.argwhere(table).tolist() == [[2, 0], [3, 1]]


def test_lambda_predicate_must_give_bool() -> None:
    plus = Lambda(("k", "q"), Binary("+", Param("k"), Param("q")))
    with pytest.raises(RaspError) as caught:
        predicate_table(plus, (1,), (2,))
    assert caught.value.diagnostics[0].code == "predicate-not-bool"
