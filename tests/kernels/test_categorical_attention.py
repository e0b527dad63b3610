"""The fused categorical attention against its torch reference, forward and gradients, under
the Triton interpreter (tiny grids): masks with padding and causality, rows where nothing
matches (the BOS default) and rows where everything is masked, tiles cut across N, several
temperatures, Gumbel noise passed in and none (plain softmax)."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.kernels.categorical_attention import (
    categorical_attention,
    categorical_attention_reference,
)

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _inputs(
    batch: int, heads: int, n: int, k: int, causal: bool, seed: int
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def distribution(*shape: int) -> torch.Tensor:
        logits = torch.randn(*shape, generator=generator) * 3
        return torch.softmax(logits, -1).to(DEVICE).requires_grad_()

    tensors = [distribution(batch, heads, n, k) for _ in range(3)] + [distribution(heads, k, k)]
    lengths = torch.randint(1, n + 1, (batch,), generator=generator)
    lengths[0] = n
    valid = torch.arange(n)[None, :] < lengths[:, None]
    mask = valid[:, :, None] & valid[:, None, :]
    if causal:
        mask &= torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, n // 2, :] = False  # a fully masked row
    bias = torch.randn(n, n, generator=generator)
    return tensors, mask.to(DEVICE), bias.to(DEVICE)


@pytest.mark.parametrize(
    ("shape", "causal", "tau", "noisy"),
    [
        ((2, 2, 5, 3), False, 1.0, True),
        ((1, 2, 19, 8), True, 0.1, True),  # two tiles of queries and keys
        ((2, 1, 6, 4), False, 3.0, False),
    ],
)
def test_forward_and_gradients_equal_the_reference(
    shape: tuple[int, int, int, int], causal: bool, tau: float, noisy: bool
) -> None:
    batch, heads, n, _ = shape
    (query, key, value, predicate), mask, bias = _inputs(*shape, causal, seed=n)
    generator = torch.Generator().manual_seed(1)
    noise = -torch.empty(batch, heads, n, n).exponential_(generator=generator).log()
    noise = (noise if noisy else torch.zeros_like(noise)).to(DEVICE)
    with torch.no_grad():  # one head matches nothing: its rows take the BOS default
        predicate[0, :, :] = 0.0
    inputs = (query, key, value, predicate)
    reference = categorical_attention_reference(*inputs, mask, bias, tau, noise)
    fused = categorical_attention(*inputs, mask, bias, tau, noise, impl="triton")
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-6)
    upstream = torch.randn(reference.shape, generator=generator).to(DEVICE)
    want = torch.autograd.grad(reference, inputs, upstream)
    got = torch.autograd.grad(fused, inputs, upstream)
    for name, g, w in zip(("query", "key", "value", "predicate"), got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5, msg=name)


def test_the_bos_default_wins_where_nothing_matches() -> None:
    (query, key, value, predicate), mask, bias = _inputs(1, 1, 4, 4, False, seed=2)
    noise = torch.zeros(1, 1, 4, 4, device=DEVICE)
    with torch.no_grad():
        predicate.zero_()
        value.copy_(torch.eye(4, device=DEVICE)[None, None])
    fused = categorical_attention(
        query, key, value, predicate, mask, bias, 0.01, noise, impl="triton"
    )
    allowed_rows = mask[0].any(-1)
    assert torch.allclose(fused[0, 0, allowed_rows, 0], torch.ones(int(allowed_rows.sum())))


def test_auto_is_the_reference_on_a_cpu() -> None:
    shape = (1, 1, 3, 2)
    (query, key, value, predicate), mask, bias = _inputs(*shape, False, seed=0)
    noise = torch.zeros(1, 1, 3, 3, device=DEVICE)
    inputs = (query, key, value, predicate, mask, bias, 0.5, noise)
    if DEVICE.type == "cpu":
        assert torch.equal(categorical_attention(*inputs), categorical_attention_reference(*inputs))
