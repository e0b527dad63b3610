"""The relaxed model's arithmetic: the short-axis softmax equals torch's (values and gradients,
masked rows, under vmap) and the Gumbel noise is standard Gumbel, finite, and drawn in row-major
order whatever the strides of the tensor it is shaped like."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.func import vmap

from rasp_ir.frontends.transformer_programs.relaxation import (
    TORCH_SOFTMAX_FROM,
    WHOLE_TENSOR_FROM_ENTRIES,
    gumbel_from_uniform_,
    gumbel_noise,
    softmax_last,
    torch_softmax_from,
    whole_tensor_softmax,
)
from rasp_ir.kernels.categorical_attention import MASKED


def _grads(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, upstream: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``fn(x)`` and the gradient of ``<fn(x), upstream>`` with respect to ``x``."""
    x = x.detach().requires_grad_()
    out = fn(x)
    (grad,) = torch.autograd.grad(out, x, upstream)
    return out.detach(), grad


def test_the_whole_tensor_softmax_equals_torch_softmax_with_its_gradient() -> None:
    generator = torch.Generator().manual_seed(0)
    for width in (1, 2, 8, 15, 16, 33):
        x = 20 * torch.randn(64, 3, width, generator=generator)
        x[0, 0] = MASKED  # a row with every entry masked: uniform, as torch's
        x[1, 1, 0] = MASKED
        upstream = torch.randn(64, 3, width, generator=generator)
        want, want_grad = _grads(lambda t: torch.softmax(t, dim=-1), x, upstream)
        got, got_grad = _grads(whole_tensor_softmax, x, upstream)
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(got_grad, want_grad, rtol=1e-5, atol=1e-6)


def test_softmax_last_takes_torch_softmax_from_its_thresholds_on() -> None:
    short = TORCH_SOFTMAX_FROM - 1
    large = -(-WHOLE_TENSOR_FROM_ENTRIES // short)  # rows: just enough entries
    for shape, whole_tensor in (
        ((large, short), True),
        ((large - 1, short), False),  # too few entries to pay the whole-tensor form's fixed cost
        ((large, TORCH_SOFTMAX_FROM), False),  # torch's kernel vectorises along the row
    ):
        x = torch.randn(*shape, requires_grad=True)
        chosen = softmax_last(x)
        assert (chosen.grad_fn.name() == "_SoftmaxLastBackward") is whole_tensor  # type: ignore[union-attr]
        torch.testing.assert_close(chosen, torch.softmax(x, dim=-1), rtol=1e-6, atol=1e-7)


def test_torch_softmax_takes_over_at_the_cpus_float_vector_width() -> None:
    assert torch_softmax_from("AVX2") == 8
    assert torch_softmax_from("AVX512") == 16
    assert torch_softmax_from("DEFAULT") == 16
    assert torch_softmax_from(torch.backends.cpu.get_cpu_capability()) == TORCH_SOFTMAX_FROM


def test_softmax_last_in_float64_and_under_vmap() -> None:
    width = TORCH_SOFTMAX_FROM - 1  # each member's slice large enough for the whole-tensor form
    shape = (3, -(-WHOLE_TENSOR_FROM_ENTRIES // width), width)
    x = torch.randn(*shape, dtype=torch.float64)
    upstream = torch.randn(*shape, dtype=torch.float64)
    want, want_grad = _grads(lambda t: torch.softmax(t, dim=-1), x, upstream)
    got, got_grad = _grads(vmap(softmax_last), x, upstream)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got_grad, want_grad, rtol=1e-12, atol=1e-14)


def test_gumbel_noise_is_standard_gumbel() -> None:
    torch.manual_seed(0)
    noise = gumbel_noise(torch.empty(400_000))
    assert noise.dtype == torch.float32 and bool(noise.isfinite().all())
    euler_gamma = 0.5772156649
    assert abs(float(noise.mean()) - euler_gamma) < 0.01
    assert abs(float(noise.var()) - math.pi**2 / 6) < 0.02
    below_zero = float((noise < 0).float().mean())  # P(G < 0) = exp(-1)
    assert abs(below_zero - math.exp(-1)) < 0.005


def test_the_extreme_uniforms_give_finite_noise() -> None:
    uniform = torch.tensor([0.0, 1e-45, 0.5, 1 - 2**-24, 1.0])
    noise = gumbel_from_uniform_(uniform.clone())
    assert bool(noise.isfinite().all())
    assert noise.tolist() == sorted(noise.tolist())  # monotone in the uniform
    assert noise[0] == noise[1]  # 0 is kept at the smallest normal float


def test_noise_follows_the_shape_not_the_strides() -> None:
    like = torch.empty(6, 4).t()  # 4 x 6, column-major
    torch.manual_seed(3)
    strided = gumbel_noise(like)
    torch.manual_seed(3)
    contiguous = gumbel_noise(torch.empty(4, 6))
    assert strided.is_contiguous() and torch.equal(strided, contiguous)
