# Triton kernels take untyped pointer and scalar arguments; their annotations are Triton's.
# mypy: disable-error-code="no-untyped-def,untyped-decorator"
"""The Triton kernels behind :mod:`.categorical_attention`: float32 tensors in (contiguous),
attended values and per-query statistics out (forward), gradients out (backward).

One program per (batch x head, block of queries) streams key tiles twice in the forward (row
totals for the BOS bonus, then an online softmax); the backward recomputes scores from the
saved statistics, queries-major for ``dq`` and ``dP`` (``dP`` summed with atomics) and
keys-major for ``dk`` and ``dv``. Feature tiles are padded to a power of two and masked; the
small ``k x k`` contractions are broadcast products (no ``tl.dot``: ``k`` may be below 16).
:mod:`.categorical_attention` imports this module at the first launch, so
``TRITON_INTERPRET=1`` set before that runs the kernels on CPU tensors.
"""

from __future__ import annotations

import math

import torch
import triton  # type: ignore[import-untyped]
import triton.language as tl  # type: ignore[import-untyped]
from torch import Tensor

BLOCK = 16


@triton.jit
def _scores(pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim):
    """Masked match scores of a (queries x keys) tile and the allowed pairs."""
    key = tl.load(
        k_ptr + base + j[:, None] * kdim + d[None, :], mask=j_ok[:, None] & d_ok[None, :], other=0.0
    )
    raw = tl.sum(pushed[:, None, :] * key[None, :, :], axis=2)
    allowed = (
        tl.load(
            mask_ptr + mask_base + i[:, None] * n + j[None, :],
            mask=i_ok[:, None] & j_ok[None, :],
            other=0,
        )
        != 0
    )
    return tl.where(allowed, raw, 0.0), allowed, key


@triton.jit
def _logits(
    scores, allowed, total, bias_ptr, noise_ptr, noise_base, i, i_ok, j, j_ok, n, root, tau
):
    """``(logits / sqrt(k) + noise) / tau`` of a tile and the scores with the BOS bonus."""
    bonus = tl.maximum(1.0 - total / (total + 1e-10), 0.0)
    boosted = scores + tl.where(j[None, :] == 0, bonus[:, None], 0.0)
    pair_ok = i_ok[:, None] & j_ok[None, :]
    bias = tl.load(bias_ptr + i[:, None] * n + j[None, :], mask=pair_ok, other=0.0)
    logits = tl.where(allowed, tl.log(boosted + 1e-20) + bias, -1e30)
    noise = tl.load(noise_ptr + noise_base + i[:, None] * n + j[None, :], mask=pair_ok, other=0.0)
    z = (logits / root + noise) / tau
    return tl.where(j_ok[None, :], z, float("-inf")), boosted


@triton.jit
def _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim):
    """The queries of a block pushed through the predicate, and the queries."""
    q = tl.load(
        q_ptr + base + i[:, None] * kdim + d[None, :], mask=i_ok[:, None] & d_ok[None, :], other=0.0
    )
    predicate = tl.load(
        p_ptr + h * kdim * kdim + d[:, None] * kdim + d[None, :],
        mask=d_ok[:, None] & d_ok[None, :],
        other=0.0,
    )
    return tl.sum(q[:, :, None] * predicate[None, :, :], axis=1), q, predicate


@triton.jit
def _forward(
    q_ptr,
    k_ptr,
    v_ptr,
    p_ptr,
    mask_ptr,
    bias_ptr,
    noise_ptr,
    out_ptr,
    stats_ptr,
    heads,
    n,
    kdim,
    root,
    tau,
    BLOCK_Q: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    bh = tl.program_id(0)
    b, h = bh // heads, bh % heads
    i = tl.program_id(1) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    i_ok = i < n
    d = tl.arange(0, BLOCK_D)
    d_ok = d < kdim
    base, mask_base, noise_base = bh * n * kdim, b * n * n, bh * n * n
    pushed, _, _ = _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim)
    total = tl.zeros([BLOCK_Q], dtype=tl.float32)
    for start in range(0, n, BLOCK_K):
        j = start + tl.arange(0, BLOCK_K)
        j_ok = j < n
        scores, _, _ = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        total += tl.sum(scores, axis=1)
    high = tl.full([BLOCK_Q], float("-inf"), dtype=tl.float32)
    norm = tl.zeros([BLOCK_Q], dtype=tl.float32)
    acc = tl.zeros([BLOCK_Q, BLOCK_D], dtype=tl.float32)
    for start in range(0, n, BLOCK_K):
        j = start + tl.arange(0, BLOCK_K)
        j_ok = j < n
        scores, allowed, _ = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        z, _ = _logits(
            scores, allowed, total, bias_ptr, noise_ptr, noise_base, i, i_ok, j, j_ok, n, root, tau
        )
        value = tl.load(
            v_ptr + base + j[:, None] * kdim + d[None, :],
            mask=j_ok[:, None] & d_ok[None, :],
            other=0.0,
        )
        new_high = tl.maximum(high, tl.max(z, axis=1))
        scale = tl.exp(high - new_high)
        weights = tl.exp(z - new_high[:, None])
        norm = norm * scale + tl.sum(weights, axis=1)
        acc = acc * scale[:, None] + tl.sum(weights[:, :, None] * value[None, :, :], axis=1)
        high = new_high
    out = acc / norm[:, None]
    tl.store(
        out_ptr + base + i[:, None] * kdim + d[None, :], out, mask=i_ok[:, None] & d_ok[None, :]
    )
    # The maximum and the normaliser apart: on a fully masked row the logits are near -1e30 and
    # their sum with log(norm) would round the normaliser away.
    tl.store(stats_ptr + (bh * n + i) * 3, total, mask=i_ok)
    tl.store(stats_ptr + (bh * n + i) * 3 + 1, high, mask=i_ok)
    tl.store(stats_ptr + (bh * n + i) * 3 + 2, norm, mask=i_ok)


@triton.jit
def _row_grads(
    scores,
    allowed,
    total,
    high,
    norm,
    delta,
    dout,
    value,
    bias_ptr,
    noise_ptr,
    noise_base,
    i,
    i_ok,
    j,
    j_ok,
    n,
    root,
    tau,
):
    """Attention weights and ``d boosted score`` of a tile (before the bonus's own gradient)."""
    z, boosted = _logits(
        scores, allowed, total, bias_ptr, noise_ptr, noise_base, i, i_ok, j, j_ok, n, root, tau
    )
    attention = tl.where(i_ok[:, None], tl.exp(z - high[:, None]) / norm[:, None], 0.0)
    d_attention = tl.sum(dout[:, None, :] * value[None, :, :], axis=2)
    d_z = attention * (d_attention - delta[:, None])
    d_logits = tl.where(allowed, d_z / root / tau, 0.0)
    return attention, d_logits / (boosted + 1e-20)


@triton.jit
def _backward_queries(
    q_ptr,
    k_ptr,
    v_ptr,
    p_ptr,
    mask_ptr,
    bias_ptr,
    noise_ptr,
    out_ptr,
    stats_ptr,
    dout_ptr,
    dq_ptr,
    dp_ptr,
    dc_ptr,
    heads,
    n,
    kdim,
    root,
    tau,
    BLOCK_Q: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    bh = tl.program_id(0)
    b, h = bh // heads, bh % heads
    i = tl.program_id(1) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    i_ok = i < n
    d = tl.arange(0, BLOCK_D)
    d_ok = d < kdim
    base, mask_base, noise_base = bh * n * kdim, b * n * n, bh * n * n
    rows = i_ok[:, None] & d_ok[None, :]
    pushed, q, predicate = _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim)
    total = tl.load(stats_ptr + (bh * n + i) * 3, mask=i_ok, other=0.0)
    high = tl.load(stats_ptr + (bh * n + i) * 3 + 1, mask=i_ok, other=0.0)
    norm = tl.load(stats_ptr + (bh * n + i) * 3 + 2, mask=i_ok, other=1.0)
    dout = tl.load(dout_ptr + base + i[:, None] * kdim + d[None, :], mask=rows, other=0.0)
    out = tl.load(out_ptr + base + i[:, None] * kdim + d[None, :], mask=rows, other=0.0)
    delta = tl.sum(dout * out, axis=1)
    gate = (1.0 - total / (total + 1e-10)) > 0.0
    slope = tl.where(gate, -1e-10 / ((total + 1e-10) * (total + 1e-10)), 0.0)
    d_total = tl.zeros([BLOCK_Q], dtype=tl.float32)
    d_pushed = tl.zeros([BLOCK_Q, BLOCK_D], dtype=tl.float32)
    for start in range(0, n, BLOCK_K):  # the first tile holds BOS: d_total is final after it
        j = start + tl.arange(0, BLOCK_K)
        j_ok = j < n
        scores, allowed, key = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        value = tl.load(
            v_ptr + base + j[:, None] * kdim + d[None, :],
            mask=j_ok[:, None] & d_ok[None, :],
            other=0.0,
        )
        _, d_boosted = _row_grads(
            scores,
            allowed,
            total,
            high,
            norm,
            delta,
            dout,
            value,
            bias_ptr,
            noise_ptr,
            noise_base,
            i,
            i_ok,
            j,
            j_ok,
            n,
            root,
            tau,
        )
        d_total += tl.sum(tl.where(j[None, :] == 0, d_boosted, 0.0), axis=1) * slope
        d_scores = tl.where(allowed, d_boosted + d_total[:, None], 0.0)
        d_pushed += tl.sum(d_scores[:, :, None] * key[None, :, :], axis=1)
    dq = tl.sum(d_pushed[:, None, :] * predicate[None, :, :], axis=2)
    tl.store(dq_ptr + base + i[:, None] * kdim + d[None, :], dq, mask=rows)
    dp = tl.sum(q[:, :, None] * d_pushed[:, None, :], axis=0)
    square = d_ok[:, None] & d_ok[None, :]
    tl.atomic_add(dp_ptr + h * kdim * kdim + d[:, None] * kdim + d[None, :], dp, mask=square)
    tl.store(dc_ptr + bh * n + i, d_total, mask=i_ok)


@triton.jit
def _backward_keys(
    q_ptr,
    k_ptr,
    v_ptr,
    p_ptr,
    mask_ptr,
    bias_ptr,
    noise_ptr,
    out_ptr,
    stats_ptr,
    dout_ptr,
    dc_ptr,
    dk_ptr,
    dv_ptr,
    heads,
    n,
    kdim,
    root,
    tau,
    BLOCK_Q: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    bh = tl.program_id(0)
    b, h = bh // heads, bh % heads
    j = tl.program_id(1) * BLOCK_K + tl.arange(0, BLOCK_K)
    j_ok = j < n
    d = tl.arange(0, BLOCK_D)
    d_ok = d < kdim
    base, mask_base, noise_base = bh * n * kdim, b * n * n, bh * n * n
    columns = j_ok[:, None] & d_ok[None, :]
    value = tl.load(v_ptr + base + j[:, None] * kdim + d[None, :], mask=columns, other=0.0)
    dk = tl.zeros([BLOCK_K, BLOCK_D], dtype=tl.float32)
    dv = tl.zeros([BLOCK_K, BLOCK_D], dtype=tl.float32)
    for start in range(0, n, BLOCK_Q):
        i = start + tl.arange(0, BLOCK_Q)
        i_ok = i < n
        rows = i_ok[:, None] & d_ok[None, :]
        pushed, _, _ = _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim)
        total = tl.load(stats_ptr + (bh * n + i) * 3, mask=i_ok, other=0.0)
        high = tl.load(stats_ptr + (bh * n + i) * 3 + 1, mask=i_ok, other=0.0)
        norm = tl.load(stats_ptr + (bh * n + i) * 3 + 2, mask=i_ok, other=1.0)
        d_total = tl.load(dc_ptr + bh * n + i, mask=i_ok, other=0.0)
        dout = tl.load(dout_ptr + base + i[:, None] * kdim + d[None, :], mask=rows, other=0.0)
        out = tl.load(out_ptr + base + i[:, None] * kdim + d[None, :], mask=rows, other=0.0)
        delta = tl.sum(dout * out, axis=1)
        scores, allowed, _ = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        attention, d_boosted = _row_grads(
            scores,
            allowed,
            total,
            high,
            norm,
            delta,
            dout,
            value,
            bias_ptr,
            noise_ptr,
            noise_base,
            i,
            i_ok,
            j,
            j_ok,
            n,
            root,
            tau,
        )
        d_scores = tl.where(allowed, d_boosted + d_total[:, None], 0.0)
        dk += tl.sum(d_scores[:, :, None] * pushed[:, None, :], axis=0)
        dv += tl.sum(attention[:, :, None] * dout[:, None, :], axis=0)
    tl.store(dk_ptr + base + j[:, None] * kdim + d[None, :], dk, mask=columns)
    tl.store(dv_ptr + base + j[:, None] * kdim + d[None, :], dv, mask=columns)


def _launch_shape(query: Tensor) -> tuple[int, int, int, int]:
    batch, heads, n, kdim = query.shape
    return batch * heads, heads, n, kdim


def attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    bias: Tensor,
    noise: Tensor,
    tau: float,
) -> tuple[Tensor, Tensor]:
    """The attended values and the statistics (row total, softmax maximum and normaliser) per
    query."""
    pairs, heads, n, kdim = _launch_shape(query)
    out = torch.empty_like(query)
    stats = torch.empty(pairs, n, 3, dtype=torch.float32, device=query.device)
    block_d = max(2, triton.next_power_of_2(kdim))
    grid = (pairs, triton.cdiv(n, BLOCK))
    _forward[grid](
        query, key, value, predicate, mask, bias, noise, out, stats, heads, n, kdim,
        math.sqrt(kdim), tau, BLOCK_Q=BLOCK, BLOCK_K=BLOCK, BLOCK_D=block_d,
    )  # fmt: skip
    return out, stats


def attention_backward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    bias: Tensor,
    noise: Tensor,
    tau: float,
    out: Tensor,
    stats: Tensor,
    grad: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Gradients with respect to query, key, value and predicate."""
    pairs, heads, n, kdim = _launch_shape(query)
    dq, dk, dv = torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)
    dp = torch.zeros_like(predicate)
    d_total = torch.empty(pairs, n, dtype=torch.float32, device=query.device)
    block_d = max(2, triton.next_power_of_2(kdim))
    grid = (pairs, triton.cdiv(n, BLOCK))
    common = (heads, n, kdim, math.sqrt(kdim), tau)
    tensors = (query, key, value, predicate, mask, bias, noise, out, stats, grad)
    blocks = {"BLOCK_Q": BLOCK, "BLOCK_K": BLOCK, "BLOCK_D": block_d}
    _backward_queries[grid](*tensors, dq, dp, d_total, *common, **blocks)
    _backward_keys[grid](*tensors, d_total, dk, dv, *common, **blocks)
    return dq, dk, dv, dp


@triton.jit
def _numerical_queries(
    q_ptr,
    k_ptr,
    v_ptr,
    p_ptr,
    mask_ptr,
    dout_ptr,
    out_ptr,
    dq_ptr,
    dp_ptr,
    heads,
    n,
    kdim,
    BACKWARD: tl.constexpr,
    BLOCK_Q: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    """Forward (``out[i] = sum_j S[i, j] v[j]``) or, with BACKWARD, ``dq`` and ``dP``."""
    bh = tl.program_id(0)
    b, h = bh // heads, bh % heads
    i = tl.program_id(1) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    i_ok = i < n
    d = tl.arange(0, BLOCK_D)
    d_ok = d < kdim
    base, mask_base = bh * n * kdim, b * n * n
    pushed, q, predicate = _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim)
    dout = tl.load(dout_ptr + bh * n + i, mask=i_ok, other=0.0)
    out = tl.zeros([BLOCK_Q], dtype=tl.float32)
    d_pushed = tl.zeros([BLOCK_Q, BLOCK_D], dtype=tl.float32)
    for start in range(0, n, BLOCK_K):
        j = start + tl.arange(0, BLOCK_K)
        j_ok = j < n
        scores, allowed, key = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        value = tl.load(v_ptr + bh * n + j, mask=j_ok, other=0.0)
        out += tl.sum(scores * value[None, :], axis=1)
        d_scores = tl.where(allowed, dout[:, None] * value[None, :], 0.0)
        d_pushed += tl.sum(d_scores[:, :, None] * key[None, :, :], axis=1)
    if BACKWARD:
        dq = tl.sum(d_pushed[:, None, :] * predicate[None, :, :], axis=2)
        tl.store(dq_ptr + base + i[:, None] * kdim + d[None, :], dq, mask=i_ok[:, None] & d_ok)
        dp = tl.sum(q[:, :, None] * d_pushed[:, None, :], axis=0)
        square = d_ok[:, None] & d_ok[None, :]
        tl.atomic_add(dp_ptr + h * kdim * kdim + d[:, None] * kdim + d[None, :], dp, mask=square)
    else:
        tl.store(out_ptr + bh * n + i, out, mask=i_ok)


@triton.jit
def _numerical_keys(
    q_ptr,
    k_ptr,
    v_ptr,
    p_ptr,
    mask_ptr,
    dout_ptr,
    dk_ptr,
    dv_ptr,
    heads,
    n,
    kdim,
    BLOCK_Q: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    """``dk`` and ``dv`` of the numerical attention, one block of keys per program."""
    bh = tl.program_id(0)
    b, h = bh // heads, bh % heads
    j = tl.program_id(1) * BLOCK_K + tl.arange(0, BLOCK_K)
    j_ok = j < n
    d = tl.arange(0, BLOCK_D)
    d_ok = d < kdim
    base, mask_base = bh * n * kdim, b * n * n
    value = tl.load(v_ptr + bh * n + j, mask=j_ok, other=0.0)
    dk = tl.zeros([BLOCK_K, BLOCK_D], dtype=tl.float32)
    dv = tl.zeros([BLOCK_K], dtype=tl.float32)
    for start in range(0, n, BLOCK_Q):
        i = start + tl.arange(0, BLOCK_Q)
        i_ok = i < n
        pushed, _, _ = _pushed(q_ptr, p_ptr, base, h, i, i_ok, d, d_ok, kdim)
        dout = tl.load(dout_ptr + bh * n + i, mask=i_ok, other=0.0)
        scores, allowed, _ = _scores(
            pushed, k_ptr, mask_ptr, base, mask_base, i, i_ok, j, j_ok, d, d_ok, n, kdim
        )
        dv += tl.sum(scores * dout[:, None], axis=0)
        d_scores = tl.where(allowed, dout[:, None] * value[None, :], 0.0)
        dk += tl.sum(d_scores[:, :, None] * pushed[:, None, :], axis=0)
    tl.store(dk_ptr + base + j[:, None] * kdim + d[None, :], dk, mask=j_ok[:, None] & d_ok)
    tl.store(dv_ptr + bh * n + j, dv, mask=j_ok)


def numerical_forward(
    query: Tensor, key: Tensor, value: Tensor, predicate: Tensor, mask: Tensor
) -> Tensor:
    """``sum_j S[i, j] value[j]`` per query (batch x heads x N)."""
    pairs, heads, n, kdim = _launch_shape(query)
    out = torch.empty_like(value)
    grid = (pairs, triton.cdiv(n, BLOCK))
    blocks = {"BLOCK_Q": BLOCK, "BLOCK_K": BLOCK, "BLOCK_D": max(2, triton.next_power_of_2(kdim))}
    tensors = (query, key, value, predicate, mask, value, out, query, predicate)
    _numerical_queries[grid](*tensors, heads, n, kdim, BACKWARD=False, **blocks)
    return out


def numerical_backward(
    query: Tensor, key: Tensor, value: Tensor, predicate: Tensor, mask: Tensor, grad: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Gradients of the numerical attention with respect to query, key, value, predicate."""
    pairs, heads, n, kdim = _launch_shape(query)
    dq, dk, dv = torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)
    dp = torch.zeros_like(predicate)
    grid = (pairs, triton.cdiv(n, BLOCK))
    blocks = {"BLOCK_Q": BLOCK, "BLOCK_K": BLOCK, "BLOCK_D": max(2, triton.next_power_of_2(kdim))}
    common = (query, key, value, predicate, mask, grad)
    _numerical_queries[grid](*common, grad, dq, dp, heads, n, kdim, BACKWARD=True, **blocks)
    _numerical_keys[grid](*common, dk, dv, heads, n, kdim, **blocks)
    return dq, dk, dv, dp
