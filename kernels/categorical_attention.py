"""Transformer Programs' categorical attention (reference §7.2) with a fused Triton forward and
backward: read queries, keys and values, a predicate, masks, the position bias, temperature and
Gumbel noise in; the attended values out, and their gradients.

Per head, ``S[i, j] = <key_j, P^T q_i>`` on allowed pairs, the BOS key gets the bonus
``relu(1 - c / (c + 1e-10))`` of the row total ``c``, the logits are ``log(S + 1e-20) + bias``
(``-1e30`` where masked) scaled by ``1/sqrt(k)``, and the attention is ``softmax((logits +
noise) / tau)`` over keys, applied to the values. :func:`categorical_attention_reference` is the
definition (the model's own arithmetic, with the Gumbel noise passed in); the kernels compute the
same thing one block of queries at a time, keys streamed in tiles, never holding a batch x heads
x N x N tensor: the forward keeps three numbers per query (row total, softmax maximum and
log-normaliser), the backward recomputes the rest, queries-major for ``dq``/``dP`` and
keys-major for ``dk``/``dv``.

Shapes: ``query``/``key``/``value`` batch x heads x N x k, ``predicate`` heads x k x k,
``mask`` batch x N x N (bool), ``bias`` N x N, ``noise`` batch x heads x N x N (zeros: plain
softmax). ``impl``: ``"triton"``, ``"torch"`` or ``"auto"`` (the kernel on CUDA tensors when
triton imports).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .program_exec import Impl, use_kernels

# The model's constants (frontends/transformer_programs/model.py reads them from here).
MASKED = -1e30
NO_MATCH_EPS = 1e-10
LOG_EPS = 1e-20


def match_scores(query: Tensor, key: Tensor, predicate: Tensor, mask: Tensor) -> Tensor:
    """``S[b, h, i, j] = <key_j, P^T q_i>`` on allowed pairs, 0 elsewhere (batch x heads x N x
    N), for the categorical and the numerical attention alike."""
    pushed = torch.einsum("bhia,hac->bhic", query, predicate)
    scores = torch.einsum("bhic,bhjc->bhij", pushed, key)
    return scores * mask[:, None].to(scores.dtype)


def bos_bonus(matched: Tensor) -> Tensor:
    """The score added to the BOS key (§7.2 step 4): ``relu(1 - c / (c + 1e-10))`` of each
    query's total match score ``c``; 1 when nothing matches, negligible otherwise.

    ``relu``, as the original, not ``clamp(min=0)``: once a match saturates (``c / (c + 1e-10)``
    rounds to exactly 1 in float32) the bonus is 0 either way, but clamp still passes the
    gradient of ``1 - c / (c + 1e-10)``, which ``log(S + 1e-20)`` then scales by up to 1e20."""
    return torch.relu(1 - matched / (matched + NO_MATCH_EPS))


def attention_logits(
    query: Tensor, key: Tensor, predicate: Tensor, mask: Tensor, bias: Tensor
) -> Tensor:
    """The logits the attention samples from (batch x heads x N x N): match scores with the
    BOS bonus, ``log(S + 1e-20) + bias``, ``-1e30`` where masked, scaled by ``1/sqrt(k)``."""
    scores = match_scores(query, key, predicate, mask)
    bonus = bos_bonus(scores.sum(-1, keepdim=True))
    scores = torch.cat([scores[..., :1] + bonus, scores[..., 1:]], dim=-1)
    logits = torch.log(scores + LOG_EPS) + bias.to(scores.dtype)
    logits = logits.masked_fill(~mask[:, None], MASKED)
    return logits / math.sqrt(query.shape[-1])


def categorical_attention_reference(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    bias: Tensor,
    tau: float,
    noise: Tensor,
) -> Tensor:
    """The definition, in torch (see the module); differentiable by autograd."""
    logits = attention_logits(query, key, predicate, mask, bias)
    attention = torch.softmax((logits + noise) / tau, dim=-1)
    return attention @ value


def categorical_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    bias: Tensor,
    tau: float,
    noise: Tensor,
    impl: Impl = "auto",
) -> Tensor:
    """The attended values (batch x heads x N x k): the fused kernels or the reference."""
    if not use_kernels(query.device, impl):
        return categorical_attention_reference(query, key, value, predicate, mask, bias, tau, noise)
    result: Tensor = _FusedAttention.apply(  # type: ignore[no-untyped-call]
        query, key, value, predicate, mask, bias, tau, noise
    )
    return result


class _FusedAttention(torch.autograd.Function):
    """The Triton forward and backward as one autograd node (float32 inside)."""

    @staticmethod
    def forward(
        ctx: Any,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        predicate: Tensor,
        mask: Tensor,
        bias: Tensor,
        tau: float,
        noise: Tensor,
    ) -> Tensor:
        from .attention_kernels import attention_forward

        inputs = [t.float().contiguous() for t in (query, key, value, predicate, bias, noise)]
        q, k, v, p, b, n = inputs
        allowed = mask.to(torch.int8).contiguous()
        out, stats = attention_forward(q, k, v, p, allowed, b, n, tau)
        ctx.save_for_backward(q, k, v, p, allowed, b, n, out, stats)
        ctx.tau = tau
        ctx.dtypes = (query.dtype, key.dtype, value.dtype, predicate.dtype)
        return out.to(value.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        from .attention_kernels import attention_backward

        q, k, v, p, allowed, b, n, out, stats = ctx.saved_tensors
        grads = attention_backward(
            q, k, v, p, allowed, b, n, ctx.tau, out, stats, grad.float().contiguous()
        )
        dq, dk, dv, dp = (g.to(dtype) for g, dtype in zip(grads, ctx.dtypes, strict=True))
        return dq, dk, dv, dp, None, None, None, None
