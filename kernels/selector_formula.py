"""A selector's truth table as a short boolean formula: ``truth[sum(bit_l << l)]`` over its
leaves in, a formula of and / or / and-not over the leaves out, and its value on boolean
tensors (one pass over the pairs per operation).

The torch reference of :mod:`.program_exec` evaluates selectors this way. The formula expands
first on a leaf that costs one operation (the table does not depend on it, or one of its
cofactors is constant), so ``a or (b and c)`` takes two passes where a plain expansion on the
last leaf takes five; leaves the table does not depend on are never computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor


@dataclass(frozen=True)
class Const:
    """The same value on every pair."""

    value: bool


@dataclass(frozen=True)
class Bit:
    """Leaf ``leaf``, or its negation."""

    leaf: int
    negated: bool = False


@dataclass(frozen=True)
class Both:
    """``left and right``."""

    left: Formula
    right: Formula


@dataclass(frozen=True)
class Either:
    """``left or right``."""

    left: Formula
    right: Formula


@dataclass(frozen=True)
class Without:
    """``left and not right``."""

    left: Formula
    right: Formula


Formula = Const | Bit | Both | Either | Without


@lru_cache(maxsize=256)
def formula_of(truth: tuple[bool, ...]) -> Formula:
    """The formula of a truth table of ``2 ** leaves`` entries (see module)."""
    leaves = tuple(range(max(len(truth) - 1, 0).bit_length()))
    return _build(truth, leaves)


def evaluate(formula: Formula, bit: Callable[[int], Tensor]) -> Tensor:
    """``formula`` on the tensors ``bit(leaf)`` (booleans of one shape; each leaf is asked
    for at most once)."""
    computed: dict[int, Tensor] = {}

    def leaf(number: int) -> Tensor:
        if number not in computed:
            computed[number] = bit(number)
        return computed[number]

    def value(node: Formula) -> Tensor:
        if isinstance(node, Bit):
            return ~leaf(node.leaf) if node.negated else leaf(node.leaf)
        if isinstance(node, Both):
            return value(node.left) & value(node.right)
        if isinstance(node, Either):
            return value(node.left) | value(node.right)
        if isinstance(node, Without):
            return value(node.left) > value(node.right)  # and-not on booleans, one pass
        return torch.full_like(leaf(0), node.value)

    return value(formula)


def _cofactors(truth: tuple[bool, ...], index: int) -> tuple[tuple[bool, ...], ...]:
    """The table with the leaf at ``index`` false, then true (that leaf dropped)."""
    return tuple(
        tuple(v for j, v in enumerate(truth) if (j >> index) & 1 == side) for side in (0, 1)
    )


def _build(truth: tuple[bool, ...], leaves: tuple[int, ...]) -> Formula:
    if all(truth) or not any(truth):
        return Const(all(truth))
    for index in range(len(leaves)):
        low, high = _cofactors(truth, index)
        if low == high:  # the table does not depend on this leaf
            return _build(low, leaves[:index] + leaves[index + 1 :])
    if len(leaves) == 1:
        return Bit(leaves[0], negated=not truth[1])
    for index in range(len(leaves)):
        cheap = _one_operation(truth, leaves, index)
        if cheap is not None:
            return cheap
    return _expansion(truth, leaves)


def _one_operation(truth: tuple[bool, ...], leaves: tuple[int, ...], index: int) -> Formula | None:
    """The expansion on the leaf at ``index`` when one of its cofactors is constant."""
    low, high = _cofactors(truth, index)
    rest, leaf = leaves[:index] + leaves[index + 1 :], leaves[index]
    if all(high):
        return Either(_build(low, rest), Bit(leaf))
    if not any(high):
        return Without(_build(low, rest), Bit(leaf))
    if not any(low):
        return Both(_build(high, rest), Bit(leaf))
    if all(low):
        return Either(_build(high, rest), Bit(leaf, negated=True))
    return None


def _expansion(truth: tuple[bool, ...], leaves: tuple[int, ...]) -> Formula:
    """The expansion on the first leaf, using one cofactor implying the other where it does."""
    low, high = _cofactors(truth, 0)
    rest, leaf = leaves[1:], leaves[0]
    if all(h or not lo for lo, h in zip(low, high, strict=True)):
        return Either(_build(low, rest), Both(_build(high, rest), Bit(leaf)))
    if all(lo or not h for lo, h in zip(low, high, strict=True)):
        return Either(_build(high, rest), Without(_build(low, rest), Bit(leaf)))
    return Either(Both(_build(high, rest), Bit(leaf)), Without(_build(low, rest), Bit(leaf)))
