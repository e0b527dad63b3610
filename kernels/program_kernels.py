# Triton kernels take untyped pointer and scalar arguments; their annotations are Triton's.
# mypy: disable-error-code="no-untyped-def,untyped-decorator"
"""The Triton kernels behind :mod:`.program_exec`: code tensors in, per-query reductions and
nearest matches out, one program per block of (example, query) rows, keys streamed in tiles.

:mod:`.program_exec` imports this module only when a kernel is first launched, so
``TRITON_INTERPRET=1`` set before that runs the kernels on CPU tensors (the interpreter reads
the variable when a kernel is decorated). Every load is masked; block sizes are powers of two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import triton  # type: ignore[import-untyped]
import triton.language as tl  # type: ignore[import-untyped]
from torch import Tensor

if TYPE_CHECKING:
    from .program_exec import Leaves

BLOCK_ROWS = 32
BLOCK_KEYS = 32


@triton.jit
def _selector_reduce(
    keys_ptr,
    queries_ptr,
    chosen_ptr,
    tables_ptr,
    offsets_ptr,
    widths_ptr,
    kinds_ptr,
    truth_ptr,
    lengths_ptr,
    values_ptr,
    weights_ptr,
    count_ptr,
    total_ptr,
    high_ptr,
    low_ptr,
    rows,
    width,
    leaf_stride,
    CAUSAL: tl.constexpr,
    NUM_LEAVES: tl.constexpr,
    HAS_VALUES: tl.constexpr,
    HAS_WEIGHTS: tl.constexpr,
    BLOCK_R: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    row = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = row < rows
    example = row // width
    query = row % width
    length = tl.load(lengths_ptr + example, mask=row_ok, other=0)
    query_ok = row_ok & (query < length)
    base = example * width
    count = tl.zeros([BLOCK_R], dtype=tl.int32)
    total = tl.zeros([BLOCK_R], dtype=tl.int64)
    high = tl.full([BLOCK_R], -1, dtype=tl.int32)
    low = tl.full([BLOCK_R], 2147483647, dtype=tl.int32)
    for start in range(0, width, BLOCK_K):
        key = start + tl.arange(0, BLOCK_K)
        allowed = query_ok[:, None] & (key[None, :] < length[:, None])
        if CAUSAL:
            allowed = allowed & (key[None, :] <= query[:, None])
        pair = base[:, None] + key[None, :]
        index = tl.zeros([BLOCK_R, BLOCK_K], dtype=tl.int32)
        for leaf in tl.static_range(NUM_LEAVES):
            kind = tl.load(kinds_ptr + leaf)
            shift = leaf * leaf_stride
            key_code = tl.load(keys_ptr + shift + pair, mask=allowed, other=0)
            query_code = tl.load(queries_ptr + shift + row, mask=query_ok, other=0)
            chosen = tl.load(chosen_ptr + shift + row, mask=query_ok, other=-1)
            entry = tl.load(offsets_ptr + leaf) + key_code * tl.load(widths_ptr + leaf)
            hit = tl.load(
                tables_ptr + entry + query_code[:, None],
                mask=allowed & (kind == 0),
                other=0,
            )
            closest = (key[None, :] == chosen[:, None]) & (kind == 1)
            bit = (hit != 0) | closest
            index = index | (bit.to(tl.int32) << leaf)
        selected = (tl.load(truth_ptr + index, mask=allowed, other=0) != 0) & allowed
        count += tl.sum(selected.to(tl.int32), axis=1)
        if HAS_WEIGHTS:
            weight = tl.load(weights_ptr + pair, mask=allowed, other=0)
            total += tl.sum(tl.where(selected, weight, 0), axis=1)
        if HAS_VALUES:
            value = tl.load(values_ptr + pair, mask=allowed, other=0)
            high = tl.maximum(high, tl.max(tl.where(selected, value, -1), axis=1))
            low = tl.minimum(low, tl.min(tl.where(selected, value, 2147483647), axis=1))
    tl.store(count_ptr + row, count, mask=row_ok)
    tl.store(total_ptr + row, total, mask=row_ok)
    tl.store(high_ptr + row, high, mask=row_ok)
    tl.store(low_ptr + row, low, mask=row_ok)


@triton.jit
def _select_closest(
    keys_ptr,
    queries_ptr,
    table_ptr,
    lengths_ptr,
    chosen_ptr,
    rows,
    width,
    query_count,
    CAUSAL: tl.constexpr,
    BOS: tl.constexpr,
    BLOCK_R: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    row = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = row < rows
    example = row // width
    query = row % width
    length = tl.load(lengths_ptr + example, mask=row_ok, other=0)
    query_ok = row_ok & (query < length)
    query_code = tl.load(queries_ptr + row, mask=query_ok, other=0)
    missing = 4 * width + 1
    best = tl.full([BLOCK_R], missing, dtype=tl.int32)
    for start in range(0, width, BLOCK_K):
        key = start + tl.arange(0, BLOCK_K)
        allowed = query_ok[:, None] & (key[None, :] < length[:, None])
        if CAUSAL:
            allowed = allowed & (key[None, :] <= query[:, None])
        key_code = tl.load(keys_ptr + example[:, None] * width + key[None, :], mask=allowed)
        hit = tl.load(
            table_ptr + key_code * query_count + query_code[:, None], mask=allowed, other=0
        )
        offset = key[None, :] - query[:, None]
        distance = tl.where(offset < 0, -offset, offset)
        rank = 2 * distance + (offset > 0).to(tl.int32) + 4 * width * (offset == 0).to(tl.int32)
        score = tl.where(allowed & (hit != 0), rank, missing)
        best = tl.minimum(best, tl.min(score, axis=1))
    half = best // 2
    side = tl.where(best % 2 == 1, query + half, query - half)
    picked = tl.where(best >= 4 * width, query, side)
    fallback = 0 if BOS else -1
    none = tl.where(query_ok, fallback, -1)
    tl.store(chosen_ptr + row, tl.where(best < missing, picked, none), mask=row_ok)


def _blocks(width: int) -> tuple[int, int]:
    keys = min(BLOCK_KEYS, max(2, 1 << (width - 1).bit_length()))
    return BLOCK_ROWS, keys


def selector_reduce_kernel(
    leaves: Leaves,
    truth: Tensor,
    lengths: Tensor,
    causal: bool,
    values: Tensor | None,
    weights: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`.program_exec.selector_reduce` as one kernel launch: count, total, high, low."""
    keys, queries, chosen = (
        torch.stack(codes) if isinstance(codes, tuple) else codes
        for codes in (leaves.keys, leaves.queries, leaves.chosen)
    )
    _, batch, width = keys.shape
    device = lengths.device
    count = torch.empty(batch, width, dtype=torch.int32, device=device)
    total = torch.empty(batch, width, dtype=torch.int64, device=device)
    high = torch.empty(batch, width, dtype=torch.int32, device=device)
    low = torch.empty(batch, width, dtype=torch.int32, device=device)
    rows = batch * width
    if rows == 0:
        return count, total, high, low
    kinds = torch.tensor(leaves.kinds, dtype=torch.int32, device=device)
    block_rows, block_keys = _blocks(width)
    grid = ((rows + block_rows - 1) // block_rows,)
    _selector_reduce[grid](
        keys,
        queries,
        chosen,
        leaves.tables,
        leaves.offsets,
        leaves.widths,
        kinds,
        truth,
        lengths,
        values if values is not None else count,
        weights if weights is not None else total,
        count,
        total,
        high,
        low,
        rows,
        width,
        batch * width,
        CAUSAL=causal,
        NUM_LEAVES=len(leaves.kinds),
        HAS_VALUES=values is not None,
        HAS_WEIGHTS=weights is not None,
        BLOCK_R=block_rows,
        BLOCK_K=block_keys,
    )
    return count, total, high, low


def select_closest_kernel(
    keys: Tensor, queries: Tensor, table: Tensor, lengths: Tensor, causal: bool, bos: bool
) -> Tensor:
    """:func:`.program_exec.select_closest` as one kernel launch."""
    batch, width = keys.shape
    chosen = torch.empty(batch, width, dtype=torch.int32, device=keys.device)
    rows = batch * width
    if rows == 0:
        return chosen
    block_rows, block_keys = _blocks(width)
    grid = ((rows + block_rows - 1) // block_rows,)
    _select_closest[grid](
        keys,
        queries,
        table,
        lengths,
        chosen,
        rows,
        width,
        table.shape[1],
        CAUSAL=causal,
        BOS=bos,
        BLOCK_R=block_rows,
        BLOCK_K=block_keys,
    )
    return chosen
