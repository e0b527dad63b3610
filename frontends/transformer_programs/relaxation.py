"""The arithmetic of the relaxed (Gumbel-softmax) model, made fast on the CPU for its shapes.

Every discrete choice of a Transformer Program is a softmax over a short last axis (``k``, ``N``
or the number of variables: 2 to 64 entries), on tensors from a few entries (the choices of
variables) to hundreds of thousands of rows (attention, MLP outputs), plus Gumbel noise of the
same size. Torch's own ``softmax`` and ``exponential_`` are slow there on the CPU: ``softmax``
over a row shorter than the CPU's float vector width (8 entries with AVX2, 16 with AVX-512)
costs about 26-58 ns per entry forward and backward (its kernel handles one row at a time),
``exponential_`` about 20-36 ns per number; a training step of sort spent a quarter of its time
in them. :func:`softmax_last` computes the same function from whole-tensor operations on large
tensors with such rows (2-5x faster per entry, forward and backward), torch's own elsewhere;
:func:`gumbel_from_uniform_` draws the noise from uniforms (about 3-4x faster);
``benchmarks/tp_relaxation.py`` measures both. Both are torch operations only, so they run on
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


def torch_softmax_from(capability: str) -> int:
    """The width of the last axis from which torch's CPU softmax is the faster, given torch's
    CPU capability (``torch.backends.cpu.get_cpu_capability()``): its float vector width, 8
    with AVX2, 16 with AVX-512, from which its kernel vectorises along the row. Measured by
    ``python benchmarks/tp_relaxation.py``, forward + backward: on an earlier machine (by the
    step at 16, AVX-512), 1.6-2.6 ns per entry at 16 and 64 against 3.6-6.3 for the
    whole-tensor form, which won 2.6-4.4x at 2-15; on AVX2, 7.2 ns at 8 against 13.2 and
    4.4-5.4 ns at 16-32 against 6.7-10.1, while the whole-tensor form won 2.2-3.1x at 2-7.
    Elsewhere (unmeasured) 16."""
    return 8 if capability == "AVX2" else 16


TORCH_SOFTMAX_FROM = torch_softmax_from(torch.backends.cpu.get_cpu_capability())

# Below this many entries the whole-tensor form's fixed cost (a Python autograd function, five
# operations forward and four backward: about 0.19 ms more than torch's softmax per forward and
# backward) outweighs what it saves per entry; it broke even at 6,000-8,000 entries for rows of
# 2-6 on AVX2 (``python benchmarks/tp_relaxation.py``, its fixed-cost table).
WHOLE_TENSOR_FROM_ENTRIES = 8192


def whole_tensor_softmax(x: Tensor) -> Tensor:
    """``torch.softmax(x, dim=-1)`` (equal up to float rounding) from whole-tensor operations,
    differentiable."""
    result: Tensor = _SoftmaxLast.apply(x)  # type: ignore[no-untyped-call]
    return result


def softmax_last(x: Tensor) -> Tensor:
    """``torch.softmax(x, dim=-1)``, by whichever is faster: :func:`whole_tensor_softmax` on
    the CPU for a last axis shorter than :data:`TORCH_SOFTMAX_FROM` in a tensor of at least
    :data:`WHOLE_TENSOR_FROM_ENTRIES` entries, torch's own otherwise. Under ``vmap`` the
    entries counted are one member's, so a population member chooses as a single model does."""
    if (
        x.device.type == "cpu"
        and x.shape[-1] < TORCH_SOFTMAX_FROM
        and x.numel() >= WHOLE_TENSOR_FROM_ENTRIES
    ):
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
