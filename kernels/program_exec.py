"""Batched RASP selector ops on integer codes: code tensors and predicate tables in, per-query
reductions and nearest matches out; a Triton kernel for each, with a plain torch reference.

A selector reaches these ops as *leaves* and a *truth table*. A leaf is either a ``select``
(``table[key_code[j], query_code[i]]``) or a ``select_closest`` already resolved to the chosen
key of each query; the selector is ``truth[sum(bit_l << l)]`` on the allowed pairs (both
positions inside the input, key at or before the query when causal). Any ``and``/``or``/``not``
composition of selects becomes such a table, so one op serves every selector, and the kernels
evaluate it tile by tile without a batch x N x N selector in memory.

Shapes: codes are ``batch x width`` (``int32``), one per leaf (stacked ``leaves x batch x
width``, or a tuple), ``lengths`` is ``batch``. :func:`selector_reduce` gives, per query, the
number of selected keys, the sum of their ``weights`` (``int64``) and the largest and smallest
of their ``values`` (codes, so never negative; ``-1`` and :data:`NO_VALUE` on empty rows).
:func:`select_closest` gives the key each query picks (``-1`` for none). The kernels take
contiguous tensors; the torch reference takes any strides and any integer type, and runs
fastest on position-major storage (see :func:`by_position`).

``impl`` picks the implementation: ``"torch"`` (the reference, any device), ``"triton"`` (the
kernels: CUDA tensors, or CPU tensors under ``TRITON_INTERPRET=1``), ``"auto"`` (the kernels
on CUDA tensors when triton imports, else the reference).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import partial
from typing import Literal

import torch
from torch import Tensor

from .selector_formula import evaluate, formula_of

Impl = Literal["torch", "triton", "auto"]
NO_VALUE = (1 << 31) - 1
SELECT, CLOSEST = 0, 1
# Reference path: at most this many query x key x input entries per chunk of the batch
# (measured over 2^17..2^20 on a CPU: 2^19, half a megabyte per boolean pair tensor, is fastest).
CHUNK_ENTRIES = 1 << 19


PerLeaf = Tensor | tuple[Tensor, ...]
"""One ``batch x width`` tensor per leaf: stacked (``leaves x batch x width``), or a tuple (the
reference reads each leaf's own tensor, so a tuple saves stacking them)."""


@dataclass(frozen=True)
class Leaves:
    """The leaves of a selector: ``keys``/``queries``/``chosen`` are one ``batch x width``
    tensor per leaf, int32 for the kernels (``chosen`` is read for closest leaves, the codes
    for select leaves); ``tables`` holds every select leaf's predicate table flattened (``key *
    widths[l] + query``, int8) from ``offsets[l]``; ``kinds[l]`` is :data:`SELECT` or
    :data:`CLOSEST`.

    Where a select's table is a comparison of ranks (``ranked[l]`` names the operator), the
    reference path compares ``key_ranks[l]`` with ``query_ranks[l]`` instead of reading the
    table (the kernels read tables: a gather from cache is as cheap as a comparison there);
    8-bit ranks compare fastest."""

    keys: PerLeaf
    queries: PerLeaf
    chosen: PerLeaf
    tables: Tensor
    offsets: Tensor
    widths: Tensor
    kinds: tuple[int, ...]
    ranked: tuple[str | None, ...] = ()
    key_ranks: PerLeaf | None = None
    query_ranks: PerLeaf | None = None


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


def narrowest_int(largest: int) -> torch.dtype:
    """The narrowest signed integer type holding ``-1..largest``."""
    if largest < 1 << 7:
        return torch.int8
    return torch.int16 if largest < 1 << 15 else torch.int32


# The reference ops below work position-major: per-position tensors are ``width x batch`` and
# pair tensors ``queries x keys x batch``, the batch innermost. Broadcasting over queries or
# keys is then a broadcast over an outer dimension, which torch vectorises; with the batch
# outermost the broadcast runs along the innermost dimension, an order of magnitude slower on
# a CPU. Comparisons of 8-bit codes are vectorised too, and those of wider types are not:
# ranks, chosen positions and the values a maximum reads are kept narrow. Inputs stored
# position-major (``x.transpose(-2, -1)`` of a contiguous tensor) are read without a copy,
# and results come back as ``batch x width`` views of position-major storage.


def by_position(codes: Tensor) -> Tensor:
    """A ``... x batch x width`` tensor as ``... x width x batch``, contiguous (free for a view
    of position-major storage)."""
    return codes.transpose(-2, -1).contiguous()


def _chunks(batch: int, width: int) -> list[slice]:
    step = max(1, CHUNK_ENTRIES // max(1, width * width))
    return [slice(start, min(batch, start + step)) for start in range(0, batch, step)]


def _every_pair_allowed(lengths: Tensor, width: int, causal: bool) -> bool:
    """Whether every query may see every key: full-length inputs, not causal (every slice of
    an exhaustive space); the ops then skip :func:`_allowed`, a pass per operation."""
    return not causal and bool((lengths == width).all())


def _allowed(lengths: Tensor, width: int, causal: bool) -> Tensor:
    """``queries x keys x batch`` booleans: query and key inside the input and, when causal,
    the key at or before the query."""
    positions = torch.arange(width, device=lengths.device)
    valid = positions[:, None] < lengths[None, :]
    allowed = valid[:, None, :] & valid[None, :, :]
    if causal:
        before = positions[:, None] >= positions[None, :]
        allowed &= before[:, :, None].expand_as(allowed).contiguous()
    return allowed


def _constant(
    value: int, dtype: torch.dtype, width: int, batch: int, device: torch.device
) -> Tensor:
    """``value`` everywhere as a ``width x batch`` view (an output nobody asked for: no fill)."""
    return torch.full((), value, dtype=dtype, device=device).expand(width, batch)


def _key_positions(width: int, batch: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``keys x batch``: each key's position, materialised (comparing with a broadcast along
    the innermost dimension is the slow case)."""
    positions = torch.arange(width, dtype=dtype, device=device)
    return positions[:, None].expand(width, batch).contiguous()


@dataclass(frozen=True)
class _Operand:
    """One leaf position-major, as its bit is computed: ``how`` is "closest" (``queries`` the
    chosen key of each query, ``keys`` :func:`_key_positions`), "ranked" (``keys`` and
    ``queries`` ranks compared by ``op``) or "table" (codes, looked up in the flat boolean
    ``table`` at ``key * query_count + query``); ``keys`` and ``queries`` are ``width x
    batch``."""

    how: str
    keys: Tensor
    queries: Tensor
    op: str = ""
    table: Tensor | None = None
    query_count: int = 0


def _operands(leaves: Leaves, step: int) -> tuple[_Operand, ...]:
    """Each leaf of ``leaves`` position-major, closest leaves with key positions for chunks of
    ``step`` inputs; only the tensors a leaf reads are converted."""
    width = leaves.keys[0].shape[-1]
    bounds = [*leaves.offsets.tolist(), leaves.tables.numel()]
    widths = leaves.widths.tolist()
    ranks = leaves.key_ranks is not None and leaves.query_ranks is not None
    operands = []
    for leaf, kind in enumerate(leaves.kinds):
        op = leaves.ranked[leaf] if ranks and leaf < len(leaves.ranked) else None
        if kind == CLOSEST:
            chosen = by_position(leaves.chosen[leaf]).to(narrowest_int(width))
            positions = _key_positions(width, step, chosen.dtype, chosen.device)
            operands.append(_Operand("closest", positions, chosen))
        elif op is not None and leaves.key_ranks is not None and leaves.query_ranks is not None:
            keys, queries = leaves.key_ranks[leaf], leaves.query_ranks[leaf]
            operands.append(_Operand("ranked", by_position(keys), by_position(queries), op))
        else:
            table = leaves.tables[bounds[leaf] : bounds[leaf + 1]].bool()
            keys = by_position(leaves.keys[leaf]).long()
            queries = by_position(leaves.queries[leaf])
            operands.append(_Operand("table", keys, queries, table=table, query_count=widths[leaf]))
    return tuple(operands)


def _leaf_bits(operands: tuple[_Operand, ...], leaf: int, rows: slice) -> Tensor:
    """One leaf on a chunk of the batch: ``queries x keys x chunk`` booleans (unmasked)."""
    operand = operands[leaf]
    queries = operand.queries[:, None, rows]
    if operand.how == "closest":
        return queries == operand.keys[None, :, : queries.shape[-1]]
    keys = operand.keys[None, :, rows]
    if operand.how == "ranked":
        return _COMPARE[operand.op](keys, queries)
    assert operand.table is not None
    index = keys * operand.query_count + queries
    return operand.table.index_select(0, index.view(-1)).view(index.shape)


_COMPARE = {
    "==": torch.eq,
    "!=": torch.ne,
    "<": torch.lt,
    "<=": torch.le,
    ">": torch.gt,
    ">=": torch.ge,
}


def _unsigned_type(largest: int) -> torch.dtype:
    """The narrowest type holding ``0..largest`` (uint8 where it can: its maxima vectorise)."""
    if largest < 1 << 8:
        return torch.uint8
    return torch.int16 if largest < 1 << 15 else torch.int32


def _sum_type(largest: int) -> torch.dtype:
    """The narrowest type in which sums of magnitude up to ``largest`` are exact."""
    for kind in (torch.int16, torch.int32):
        if largest <= torch.iinfo(kind).max:
            return kind
    return torch.int64


def _selector_reduce_torch(
    leaves: Leaves,
    truth: Tensor,
    lengths: Tensor,
    causal: bool,
    values: Tensor | None,
    weights: Tensor | None,
) -> Reduced:
    batch, width = leaves.keys[0].shape
    device = lengths.device
    count = torch.empty(width, batch, dtype=torch.int32, device=device)
    total = _constant(0, torch.int64, width, batch, device)
    high = _constant(-1, torch.int32, width, batch, device)
    low = _constant(NO_VALUE, torch.int32, width, batch, device)
    chunks = _chunks(batch, width)
    if width == 0 or batch == 0:
        return Reduced(count.t(), total.t(), high.t(), low.t())
    formula = formula_of(tuple(bool(x) for x in truth.tolist()))
    operands = _operands(leaves, chunks[0].stop)
    count_type = _unsigned_type(width)
    weighed = None if weights is None else by_position(weights)
    if weighed is not None:
        total = torch.empty(width, batch, dtype=torch.int64, device=device)
        weighed = weighed.to(_sum_type(int(weighed.abs().max()) * width))
    # Maxima of products with the selector: values + 1 for the largest, top - values for the
    # smallest; 0 where nothing is selected, which a table turns into NO_VALUE for the smallest.
    above = below = lowest = None
    if values is not None:
        by_values = by_position(values)
        top = int(by_values.max()) + 1
        kind = _unsigned_type(top)
        above = by_values.to(kind) + 1
        below = top - by_values.to(kind)
        lowest = torch.arange(top, -1, -1, dtype=torch.int32, device=device)
        lowest[0] = NO_VALUE
        high = torch.empty(width, batch, dtype=torch.int32, device=device)
        low = torch.empty(width, batch, dtype=torch.int32, device=device)
    every_pair = _every_pair_allowed(lengths, width, causal)
    for rows in chunks:
        selected = evaluate(formula, partial(_leaf_bits, operands, rows=rows))
        if not every_pair:
            selected = selected & _allowed(lengths[rows], width, causal)
        flags = selected.view(torch.uint8)  # 0/1 bytes: sums and products need no cast
        count[:, rows] = flags.sum(1, dtype=count_type)
        if weighed is not None:
            total[:, rows] = (flags * weighed[None, :, rows]).sum(1, dtype=weighed.dtype)
        if above is not None and below is not None and lowest is not None:
            high[:, rows] = (flags * above[None, :, rows]).amax(1).to(torch.int32) - 1
            smallest = (flags * below[None, :, rows]).amax(1).to(torch.int32)
            low[:, rows] = lowest.index_select(0, smallest.view(-1)).view(smallest.shape)
    return Reduced(count.t(), total.t(), high.t(), low.t())


def _select_closest_torch(
    keys: Tensor, queries: Tensor, table: Tensor, lengths: Tensor, causal: bool, bos: bool
) -> Tensor:
    batch, width = keys.shape
    device = keys.device
    chosen = torch.full((width, batch), -1, dtype=torch.int32, device=device)
    chunks = _chunks(batch, width)
    if width == 0 or batch == 0:
        return chosen.t()
    positions = torch.arange(width, device=device)
    offset = positions[None, :] - positions[:, None]  # query x key: key - query
    # Rank of each key for each query (lower is nearer): see _position_of_rank.
    rank = 2 * offset.abs() + (offset > 0) + 4 * width * (offset == 0)
    missing = 4 * width + 1
    kind = _unsigned_type(missing)
    step = chunks[0].stop
    # Maximum of (missing - rank) over the matches: 0 where nothing matches.
    nearness = (missing - rank).to(kind)[:, :, None].expand(width, width, step).contiguous()
    flat = table.reshape(-1).bool()
    query_count = table.shape[1]
    every_pair = _every_pair_allowed(lengths, width, causal)
    by_keys, by_queries = by_position(keys).long(), by_position(queries).long()
    for rows in chunks:
        index = by_keys[None, :, rows] * query_count + by_queries[:, None, rows]
        matches = flat.index_select(0, index.view(-1)).view(index.shape)
        if not every_pair:
            matches = matches & _allowed(lengths[rows], width, causal)
        size = matches.shape[-1]
        best = missing - (matches.view(torch.uint8) * nearness[:, :, :size]).amax(1).long()
        picked = _position_of_rank(best, positions[:, None])
        valid = positions[:, None] < lengths[None, rows]
        fallback = torch.zeros_like(picked) if bos else torch.full_like(picked, -1)
        result = torch.where(best < missing, picked, torch.where(valid, fallback, -1))
        chosen[:, rows] = result.to(torch.int32)
    return chosen.t()


def _position_of_rank(best: Tensor, query: Tensor) -> Tensor:
    """The key position a best rank stands for (see :func:`select_closest`): the query itself
    at ranks of 4 x width and above, else ``query -+ rank // 2`` (odd ranks are to the right);
    ``query`` broadcasts against ``best`` (``width x batch``)."""
    width = best.shape[0]
    distance = best // 2
    side = torch.where(best % 2 == 1, query + distance, query - distance)
    return torch.where(best >= 4 * width, query, side)
