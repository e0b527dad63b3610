"""A row-wise function computed once per distinct row: a tensor of rows in (leading axes, then
each row's own axes), the function's output for every row out.

The argmax model's MLPs see few distinct inputs (pairs of one-hot values, a handful of counts)
but one row per position of every sequence, so most of their rows repeat others.

Rows are grouped only when they are bit-for-bit identical, so each output is the function's
output on a row equal to its own, in every bit. Grouping hashes each row's bits and then checks
every row against its group's representative. When two different rows share a hash, the
function runs on every row, so a collision makes the call slower but never wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

# Integer types of each float width, to read a row's bits.
_BITS = {8: torch.int64, 4: torch.int32, 2: torch.int16}
_MIXERS_SEED = 0x5EED


def once_per_distinct_row(
    inputs: Tensor, row_axes: int, function: Callable[[Tensor], Tensor]
) -> Tensor:
    """Each row's output of ``function``, which maps a matrix of rows (rows x the row's axes:
    the last ``row_axes`` axes of ``inputs``) to their outputs (rows x ...), each row on its
    own. It is called once, on one representative of each group of identical rows, and the
    outputs are spread back to every row, leading axes as in ``inputs``. Bit for bit what
    calling it on every row gives when it gives a row the same output whatever else is in its
    batch."""
    split = inputs.dim() - row_axes
    lead, row_shape = inputs.shape[:split], inputs.shape[split:]
    flat = inputs.reshape(-1, *row_shape)
    groups = distinct_rows(flat.reshape(len(flat), -1)) if len(flat) else None
    if groups is None:
        outputs = function(flat)
        return outputs.reshape(*lead, *outputs.shape[1:])
    first, inverse = groups
    outputs = function(flat[first])[inverse]
    return outputs.reshape(*lead, *outputs.shape[1:])


def distinct_rows(rows: Tensor) -> tuple[Tensor, Tensor] | None:
    """For a matrix of ``rows``: the index of one representative of each group of bit-for-bit
    identical rows, and each row's group (so ``rows[first][inverse]`` is ``rows``, bit for
    bit); None when two different rows share a hash (then no grouping is claimed)."""
    bits = rows.contiguous().view(_BITS[rows.element_size()]).to(torch.int64)
    keys = _row_keys(bits)
    unique_keys, inverse = torch.unique(keys, return_inverse=True)
    positions = torch.arange(len(keys), device=keys.device)
    first = torch.full_like(unique_keys, len(keys))
    first.scatter_reduce_(0, inverse, positions, "amin")
    if not torch.equal(bits[first][inverse], bits):
        return None
    return first, inverse


def _row_keys(bits: Tensor) -> Tensor:
    """A 64-bit hash of each row of ``bits`` (rows x columns, int64): each word's high bits
    are folded into its low ones, and the words are weighted by fixed odd multipliers (int64
    products wrap) and summed."""
    folded = bits ^ (bits >> 31) ^ (bits >> 52)
    keys = (folded * _mixers(bits.shape[1]).to(bits.device)).sum(-1)
    return keys ^ (keys >> 29)


@functools.cache
def _mixers(width: int) -> Tensor:
    """``width`` fixed odd 64-bit multipliers (drawn once per width from a fixed seed)."""
    generator = torch.Generator().manual_seed(_MIXERS_SEED)
    return torch.randint(-(2**62), 2**62, (width,), generator=generator) | 1
