"""The arithmetic of the relaxed (Gumbel-softmax) model, made fast on the CPU for its shapes.

Every discrete choice of a Transformer Program is a softmax over a short last axis (``k``, ``N``
or the number of variables: 2 to 64 entries) of a tensor with hundreds of thousands of rows, plus
Gumbel noise of the same size. Torch's own ``softmax`` and ``exponential_`` are slow there on the
CPU: ``softmax`` over fewer than 16 entries costs about 27-33 ns per entry forward and backward
(its kernel handles one row at a time), ``exponential_`` about 20-26 ns per number; a training
step of sort spent a quarter of its time in them. :func:`softmax_last` computes the same
function from whole-tensor operations there (2-5x faster, forward and backward; torch's own
from 16 entries on, where it is the faster), :func:`gumbel_from_uniform_` draws the noise from
uniforms (about 3-4x faster); ``benchmarks/tp_relaxation.py`` measures both. Both are torch
operations only, so they run on any device and under ``torch.func.vmap`` (populations,
:mod:`.population`).
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


# From this many entries on, torch's CPU softmax over the last axis vectorises along the row and
# is the faster (1.3-3.5 ns per entry forward + backward against 3.4-8.5 for the whole-tensor
# form, which wins 2-5x below it: ``python benchmarks/tp_relaxation.py``).
TORCH_SOFTMAX_FROM = 16


def whole_tensor_softmax(x: Tensor) -> Tensor:
    """``torch.softmax(x, dim=-1)`` (equal up to float rounding) from whole-tensor operations,
    differentiable."""
    result: Tensor = _SoftmaxLast.apply(x)  # type: ignore[no-untyped-call]
    return result


def softmax_last(x: Tensor) -> Tensor:
    """``torch.softmax(x, dim=-1)``, by whichever is faster: :func:`whole_tensor_softmax` on
    the CPU for a last axis shorter than :data:`TORCH_SOFTMAX_FROM`, torch's own otherwise."""
    if x.device.type == "cpu" and x.shape[-1] < TORCH_SOFTMAX_FROM:
        return whole_tensor_softmax(x)
    return torch.softmax(x, dim=-1)


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
