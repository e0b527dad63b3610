"""The arithmetic of the relaxed (Gumbel-softmax) model, made fast on the CPU for its shapes.

Every discrete choice of a Transformer Program is a softmax over a short last axis (``k``, ``N``
or the number of variables: 2 to 64 entries) of a tensor with hundreds of thousands of rows, plus
Gumbel noise of the same size. Torch's own ``softmax`` and ``exponential_`` are slow there on the
CPU: ``softmax`` over 8 entries costs about 18 ns per entry forward and 8 backward (its kernel
handles one row at a time), ``exponential_`` about 19 ns per number; a training step of sort
spent a quarter of its time in them. :func:`softmax_last` computes the same function from
whole-tensor operations (about 4x faster, forward and backward), :func:`gumbel_from_uniform_`
draws the noise from uniforms (about 4x faster). Both are torch operations only, so they run on
any device and under ``torch.func.vmap`` (populations, :mod:`.population`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class _SoftmaxLast(torch.autograd.Function):
    """``softmax(x, dim=-1)``: the forward from the row maximum, ``exp`` and the row sum; the
    backward ``y * (g - sum(g * y))`` from the saved output, as torch's own."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        exps = (x - x.amax(-1, keepdim=True)).exp_()
        return exps.div_(exps.sum(-1, keepdim=True))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        output: Tensor = ctx.saved_tensors[0]
        weighted = grad * output
        return weighted.sub_(output * weighted.sum(-1, keepdim=True))


def softmax_last(x: Tensor) -> Tensor:
    """``torch.softmax(x, dim=-1)`` (equal up to float rounding), differentiable, faster on the
    CPU when the last axis is short."""
    result: Tensor = _SoftmaxLast.apply(x)  # type: ignore[no-untyped-call]
    return result


def gumbel_from_uniform_(uniform: Tensor) -> Tensor:
    """Turn uniform draws in [0, 1) into standard Gumbel noise ``-log(-log(U))``, in place.

    ``U`` is first kept inside (0, 1): 0 becomes the smallest normal float (noise about -4.5 in
    float32), so no draw is infinite. Returns ``uniform``."""
    finfo = torch.finfo(uniform.dtype)
    uniform.clamp_(min=finfo.tiny, max=1 - finfo.eps / 2)
    return uniform.log_().neg_().log_().neg_()


def gumbel_noise(like: Tensor) -> Tensor:
    """Standard Gumbel noise shaped like ``like`` (its dtype and device), drawn from torch's
    global generator into a contiguous tensor (in row-major order whatever ``like``'s strides,
    as a population draws each member's)."""
    fresh = torch.empty(like.shape, dtype=like.dtype, device=like.device)
    return gumbel_from_uniform_(fresh.uniform_())
