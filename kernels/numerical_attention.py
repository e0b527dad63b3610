"""Transformer Programs' numerical (counting) attention (reference §8) with a fused Triton
forward and backward: read queries and keys, a predicate, the mask and numerical values in;
``sum_j S[i, j] value[j]`` out (``S`` the masked match scores), and its gradients.

:func:`numerical_attention_reference` is the definition (the model's arithmetic); the kernels
of :mod:`.attention_kernels` stream key tiles per block of queries (``out``, ``dq``, ``dP``)
and query tiles per block of keys (``dk``, ``dv``), never holding batch x heads x N x N.
Shapes: ``query``/``key`` batch x heads x N x k, ``value`` batch x heads x N, ``predicate``
heads x k x k, ``mask`` batch x N x N (bool). ``impl`` as in :mod:`.program_exec`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .categorical_attention import match_scores
from .program_exec import Impl, use_kernels


def numerical_attention_reference(
    query: Tensor, key: Tensor, value: Tensor, predicate: Tensor, mask: Tensor
) -> Tensor:
    """The definition, in torch; differentiable by autograd."""
    scores = match_scores(query, key, predicate, mask)
    return torch.einsum("bhij,bhj->bhi", scores, value)


def numerical_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    predicate: Tensor,
    mask: Tensor,
    impl: Impl = "auto",
) -> Tensor:
    """The counted values (batch x heads x N): the fused kernels or the reference."""
    if not use_kernels(query.device, impl):
        return numerical_attention_reference(query, key, value, predicate, mask)
    result: Tensor = _FusedCount.apply(  # type: ignore[no-untyped-call]
        query, key, value, predicate, mask
    )
    return result


class _FusedCount(torch.autograd.Function):
    """The Triton forward and backward as one autograd node (float32 inside)."""

    @staticmethod
    def forward(
        ctx: Any, query: Tensor, key: Tensor, value: Tensor, predicate: Tensor, mask: Tensor
    ) -> Tensor:
        from .attention_kernels import numerical_forward

        q, k, v, p = (t.float().contiguous() for t in (query, key, value, predicate))
        allowed = mask.to(torch.int8).contiguous()
        ctx.save_for_backward(q, k, v, p, allowed)
        ctx.dtypes = (query.dtype, key.dtype, value.dtype, predicate.dtype)
        return numerical_forward(q, k, v, p, allowed).to(value.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        from .attention_kernels import numerical_backward

        q, k, v, p, allowed = ctx.saved_tensors
        grads = numerical_backward(q, k, v, p, allowed, grad.float().contiguous())
        dq, dk, dv, dp = (g.to(dtype) for g, dtype in zip(grads, ctx.dtypes, strict=True))
        return dq, dk, dv, dp, None
