"""Selector truth tables as formulas: every table of up to three leaves (and random ones of
five) evaluates to the table on every assignment; the cheap expansions are found (sort's
``a or (b and c)`` takes two operations) and leaves a table ignores are never computed."""

from __future__ import annotations

import random
from itertools import product

import pytest
import torch

from rasp_ir.kernels.selector_formula import (
    Both,
    Const,
    Either,
    Formula,
    Without,
    evaluate,
    formula_of,
)


def _assignments(leaves: int) -> list[torch.Tensor]:
    """One boolean tensor per leaf over all ``2 ** leaves`` assignments (entry ``j`` gives
    leaf ``l`` the bit ``j >> l & 1``, the truth table's own order)."""
    numbers = torch.arange(1 << leaves)
    return [(numbers >> leaf & 1).bool() for leaf in range(leaves)]


def _tables(leaves: int) -> list[tuple[bool, ...]]:
    size = 1 << leaves
    if leaves <= 3:
        return [tuple(bits) for bits in product((False, True), repeat=size)]
    generator = random.Random(leaves)
    return [tuple(generator.random() < 0.5 for _ in range(size)) for _ in range(200)]


def _operations(formula: Formula) -> int:
    if isinstance(formula, (Both, Either, Without)):
        return 1 + _operations(formula.left) + _operations(formula.right)
    return 0


@pytest.mark.parametrize("leaves", [1, 2, 3, 5])
def test_every_table_evaluates_to_itself(leaves: int) -> None:
    bits = _assignments(leaves)
    for truth in _tables(leaves):
        value = evaluate(formula_of(truth), lambda leaf: bits[leaf])
        assert value.tolist() == list(truth), truth


def test_a_leaf_with_a_constant_cofactor_costs_one_operation() -> None:
    # sort's before_me: select(<) or (select(==) and select(indices <)), leaves 0, 1, 2.
    a, b, c = (bit.tolist() for bit in _assignments(3))
    truth = tuple(x or (y and z) for x, y, z in zip(a, b, c, strict=True))
    assert _operations(formula_of(truth)) == 2


def test_leaves_a_table_ignores_are_never_computed() -> None:
    bits = _assignments(3)
    asked: list[int] = []

    def bit(leaf: int) -> torch.Tensor:
        asked.append(leaf)
        return bits[leaf]

    truth = tuple(bits[1].tolist())  # leaf 1 alone
    assert evaluate(formula_of(truth), bit).tolist() == list(truth)
    assert asked == [1]
    assert formula_of((True,) * 8) == Const(True)
