"""Batched RASP selector ops on integer codes: code tensors and predicate tables in, per-query
reductions and nearest matches out; a Triton kernel for each, with a plain torch reference.

A selector reaches these ops as *leaves* and a *truth table*. A leaf is either a ``select``
(``table[key_code[j], query_code[i]]``) or a ``select_closest`` already resolved to the chosen
key of each query; the selector is ``truth[sum(bit_l << l)]`` on the allowed pairs (both
positions inside the input, key at or before the query when causal). Any ``and``/``or``/``not``
composition of selects becomes such a table, so one op serves every selector, and the kernels
evaluate it tile by tile without a batch x N x N selector in memory.

Shapes: codes are ``batch x width`` (``int32``), leaves are stacked ``leaves x batch x width``,
``lengths`` is ``batch``. :func:`selector_reduce` gives, per query, the number of selected keys,
the sum of their ``weights`` (``int64``) and the largest and smallest of their ``values``
(``-1`` and :data:`NO_VALUE` on empty rows). :func:`select_closest` gives the key each query
picks (``-1`` for none).

``impl`` picks the implementation: ``"torch"`` (the reference, any device), ``"triton"`` (the
kernels: CUDA tensors, or CPU tensors under ``TRITON_INTERPRET=1``), ``"auto"`` (the kernels
on CUDA tensors when triton imports, else the reference).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

Impl = Literal["torch", "triton", "auto"]
NO_VALUE = (1 << 31) - 1
SELECT, CLOSEST = 0, 1
# Reference path: at most this many query x key entries per chunk of the batch.
CHUNK_ENTRIES = 1 << 18


@dataclass(frozen=True)
class Leaves:
    """The leaves of a selector, stacked: ``keys``/``queries``/``chosen`` are ``leaves x batch x
    width`` int32 (``chosen`` is read for closest leaves, the codes for select leaves);
    ``tables`` holds every select leaf's predicate table flattened (``key * widths[l] +
    query``, int8) from ``offsets[l]``; ``kinds[l]`` is :data:`SELECT` or :data:`CLOSEST`.

    Where a select's table is a comparison of ranks (``ranked[l]`` names the operator), the
    reference path compares ``key_ranks[l]`` with ``query_ranks[l]`` instead of reading the
    table (the kernels read tables: a gather from cache is as cheap as a comparison there)."""

    keys: Tensor
    queries: Tensor
    chosen: Tensor
    tables: Tensor
    offsets: Tensor
    widths: Tensor
    kinds: tuple[int, ...]
    ranked: tuple[str | None, ...] = ()
    key_ranks: Tensor | None = None
    query_ranks: Tensor | None = None


@dataclass(frozen=True)
class Reduced:
    """Per query (``batch x width``): selected keys, sum of weights, largest and smallest
    value over the selected keys."""

    count: Tensor
    total: Tensor
    high: Tensor
    low: Tensor


def use_kernels(device: torch.device, impl: Impl) -> bool:
    """Whether ``impl`` means the Triton kernels for tensors on ``device``."""
    if impl == "triton":
        return True
    if impl == "torch":
        return False
    return device.type == "cuda" and importlib.util.find_spec("triton") is not None


def allowed_pairs(lengths: Tensor, width: int, causal: bool) -> Tensor:
    """``batch x width x width`` booleans: query ``i`` may see key ``j``."""
    positions = torch.arange(width, device=lengths.device)
    valid = positions[None, :] < lengths[:, None]
    allowed = valid[:, :, None] & valid[:, None, :]
    if causal:
        allowed &= positions[None, :, None] >= positions[None, None, :]
    return allowed


def selector_reduce(
    leaves: Leaves,
    truth: Tensor,
    lengths: Tensor,
    causal: bool,
    values: Tensor | None,
    weights: Tensor | None,
    impl: Impl = "auto",
) -> Reduced:
    """Count, weight sum, value max and min over each query's selected keys (see module)."""
    if use_kernels(lengths.device, impl):
        from .program_kernels import selector_reduce_kernel

        return Reduced(*selector_reduce_kernel(leaves, truth, lengths, causal, values, weights))
    return _selector_reduce_torch(leaves, truth, lengths, causal, values, weights)


def select_closest(
    keys: Tensor,
    queries: Tensor,
    table: Tensor,
    lengths: Tensor,
    causal: bool,
    bos: bool,
    impl: Impl = "auto",
) -> Tensor:
    """The key each query picks (``batch x width``, int32, ``-1`` for none): the nearest match
    other than itself, left wins ties, itself only when it is the sole match; with ``bos``,
    position 0 for a valid query without a match. ``table`` is ``keys x queries`` int8."""
    if use_kernels(lengths.device, impl):
        from .program_kernels import select_closest_kernel

        return select_closest_kernel(keys, queries, table, lengths, causal, bos)
    return _select_closest_torch(keys, queries, table, lengths, causal, bos)


def _chunks(batch: int, width: int) -> list[slice]:
    step = max(1, CHUNK_ENTRIES // max(1, width * width))
    return [slice(start, min(batch, start + step)) for start in range(0, batch, step)]


def _allowed_or_none(lengths: Tensor, width: int, causal: bool) -> Tensor | None:
    """:func:`allowed_pairs`, or None when every pair is allowed (full-length inputs, not
    causal: the common case of an exhaustive space), which saves a pass per operation."""
    if not causal and bool((lengths == width).all()):
        return None
    return allowed_pairs(lengths, width, causal)


def _selected(
    leaves: Leaves, truth: list[bool], rows: slice, allowed: Tensor | None, width: int
) -> Tensor:
    """The selector on a chunk of the batch: ``chunk x queries x keys`` booleans."""
    bits = [_leaf_bits(leaves, leaf, rows, width) for leaf in range(len(leaves.kinds))]
    return _truth_of(truth, bits, allowed)


def _leaf_bits(leaves: Leaves, leaf: int, rows: slice, width: int) -> Tensor:
    """One leaf on a chunk: ``chunk x queries x keys`` booleans (before masking)."""
    if leaves.kinds[leaf] == CLOSEST:
        positions = torch.arange(width, device=leaves.chosen.device, dtype=torch.int32)
        return leaves.chosen[leaf, rows][:, :, None] == positions[None, None, :]
    op = leaves.ranked[leaf] if leaf < len(leaves.ranked) else None
    if op is not None and leaves.key_ranks is not None and leaves.query_ranks is not None:
        keys = leaves.key_ranks[leaf, rows][:, None, :]
        queries = leaves.query_ranks[leaf, rows][:, :, None]
        return _COMPARE[op](keys, queries)
    start = int(leaves.offsets[leaf])
    query_count = int(leaves.widths[leaf])
    last = leaf + 1 == len(leaves.kinds)
    stop = leaves.tables.numel() if last else int(leaves.offsets[leaf + 1])
    table = leaves.tables[start:stop].view(-1, query_count).bool()
    by_query = table.t()[leaves.queries[leaf, rows].long()]  # chunk x queries x key codes
    keys = leaves.keys[leaf, rows].long()[:, None, :].expand(-1, width, -1)
    return torch.gather(by_query, 2, keys)


_COMPARE = {
    "==": torch.eq,
    "!=": torch.ne,
    "<": torch.lt,
    "<=": torch.le,
    ">": torch.gt,
    ">=": torch.ge,
}


def _truth_of(truth: list[bool], bits: list[Tensor], allowed: Tensor | None) -> Tensor:
    """``truth[sum(bits[l] << l)] & allowed`` (``allowed`` None: everywhere) by Shannon
    expansion on the last leaf, with boolean tensor operations (no index tensor)."""
    if not any(truth) or all(truth):
        return _constant(all(truth), bits, allowed)
    if len(truth) == 2:  # one leaf left: the bit itself or its negation
        return _within(bits[0] if truth[1] else ~bits[0], allowed)
    half = len(truth) // 2
    low, high, bit, rest = truth[:half], truth[half:], bits[-1], bits[:-1]
    if low == high:
        return _truth_of(low, rest, allowed)
    if not any(low):
        return _truth_of(high, rest, allowed) & bit
    if not any(high):
        return _truth_of(low, rest, allowed) & ~bit
    if all(high):
        return _truth_of(low, rest, allowed) | _within(bit, allowed)
    if all(low):
        return _truth_of(high, rest, allowed) | _within(~bit, allowed)
    return (_truth_of(high, rest, allowed) & bit) | (_truth_of(low, rest, allowed) & ~bit)


def _constant(value: bool, bits: list[Tensor], allowed: Tensor | None) -> Tensor:
    """A selector that is ``value`` on every allowed pair."""
    if allowed is not None:
        return allowed if value else torch.zeros_like(allowed)
    return torch.full_like(bits[0], value)


def _within(selected: Tensor, allowed: Tensor | None) -> Tensor:
    return selected if allowed is None else selected & allowed


def _selector_reduce_torch(
    leaves: Leaves,
    truth: Tensor,
    lengths: Tensor,
    causal: bool,
    values: Tensor | None,
    weights: Tensor | None,
) -> Reduced:
    batch, width = leaves.keys.shape[1:]
    device = lengths.device
    count = torch.zeros(batch, width, dtype=torch.int32, device=device)
    total = torch.zeros(batch, width, dtype=torch.int64, device=device)
    high = torch.full((batch, width), -1, dtype=torch.int32, device=device)
    low = torch.full((batch, width), NO_VALUE, dtype=torch.int32, device=device)
    if width == 0:
        return Reduced(count, total, high, low)
    truth_list = [bool(x) for x in truth.tolist()]
    for rows in _chunks(batch, width):
        allowed = _allowed_or_none(lengths[rows], width, causal)
        selected = _selected(leaves, truth_list, rows, allowed, width)
        count[rows] = selected.sum(-1, dtype=torch.int32)
        if weights is not None:
            total[rows] = (selected * weights[rows][:, None, :]).sum(-1)
        if values is not None:
            picked = values[rows][:, None, :]
            high[rows] = torch.where(selected, picked, -1).amax(-1).to(torch.int32)
            unset = torch.iinfo(values.dtype).max
            low_rows = torch.where(selected, picked, unset).amin(-1).to(torch.int32)
            low[rows] = torch.where(low_rows == unset, NO_VALUE, low_rows)
    return Reduced(count, total, high, low)


def _select_closest_torch(
    keys: Tensor, queries: Tensor, table: Tensor, lengths: Tensor, causal: bool, bos: bool
) -> Tensor:
    batch, width = keys.shape
    device = keys.device
    positions = torch.arange(width, device=device)
    offset = positions[None, :] - positions[:, None]
    rank = 2 * offset.abs() + (offset > 0) + 4 * width * (offset == 0)
    missing = 4 * width + 1
    chosen = torch.full((batch, width), -1, dtype=torch.int32, device=device)
    if width == 0:
        return chosen
    query_count = table.shape[1]
    for rows in _chunks(batch, width):
        allowed = allowed_pairs(lengths[rows], width, causal)
        flat = keys[rows].long()[:, None, :] * query_count + queries[rows][:, :, None]
        matches = table.reshape(-1)[flat].bool() & allowed
        best = torch.where(matches, rank[None], missing).amin(-1)
        picked = _position_of_rank(best, positions)
        found = best < missing
        valid = positions[None, :] < lengths[rows][:, None]
        fallback = torch.zeros_like(picked) if bos else torch.full_like(picked, -1)
        result = torch.where(found, picked, torch.where(valid, fallback, -1))
        chosen[rows] = result.to(torch.int32)
    return chosen


def _position_of_rank(best: Tensor, positions: Tensor) -> Tensor:
    """The key position a best rank stands for (see :func:`select_closest`): the query itself
    at ranks of 4 x width and above, else ``query -+ rank // 2`` (odd ranks are to the right)."""
    width = best.shape[-1]
    query = positions[None, :]
    distance = best // 2
    side = torch.where(best % 2 == 1, query + distance, query - distance)
    return torch.where(best >= 4 * width, query, side)
