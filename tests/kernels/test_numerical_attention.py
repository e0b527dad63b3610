"""The fused numerical (counting) attention against its torch reference, forward and
gradients, under the Triton interpreter (tiny grids): padding, causal masks, fully masked
rows, tiles cut across N."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.kernels.numerical_attention import (
    numerical_attention,
    numerical_attention_reference,
)

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize(("shape", "causal"), [((2, 2, 5, 3), False), ((1, 2, 19, 8), True)])
def test_forward_and_gradients_equal_the_reference(
    shape: tuple[int, int, int, int], causal: bool
) -> None:
    batch, heads, n, k = shape
    generator = torch.Generator().manual_seed(n)

    def leaf(*size: int) -> torch.Tensor:
        return torch.softmax(torch.randn(*size, generator=generator) * 3, -1).to(DEVICE)

    query, key = leaf(batch, heads, n, k), leaf(batch, heads, n, k)
    value = torch.rand(batch, heads, n, generator=generator).to(DEVICE)
    predicate = leaf(heads, k, k)
    inputs = (
        query.requires_grad_(),
        key.requires_grad_(),
        value.requires_grad_(),
        predicate.requires_grad_(),
    )
    valid = torch.arange(n)[None, :] < torch.tensor([n, max(1, n - 2)])[:batch, None]
    mask = valid[:, :, None] & valid[:, None, :]
    if causal:
        mask &= torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, 1, :] = False
    mask = mask.to(DEVICE)
    reference = numerical_attention_reference(*inputs, mask)
    fused = numerical_attention(*inputs, mask, impl="triton")
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-6)
    upstream = torch.randn(reference.shape, generator=generator).to(DEVICE)
    want = torch.autograd.grad(reference, inputs, upstream)
    got = torch.autograd.grad(fused, inputs, upstream)
    for name, g, w in zip(("query", "key", "value", "predicate"), got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5, msg=name)
