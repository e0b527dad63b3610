"""The straight-through sampler (``gumbel_hard``, reference §4): one-hot forward values, the
Gumbel-softmax's gradient, the categorical attention differentiated at the soft samples, and a
forward pass that is the discrete program itself."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from rasp_ir.frontends.transformer_programs.model import (
    NoiseSource,
    categorical_attention,
    position_bias,
    sample,
    straight_through,
    straight_through_attention,
)
from rasp_ir.kernels.categorical_attention import attention_logits

from .conftest import random_model


def _fixed_noise(seed: int) -> NoiseSource:
    """A noise source that returns the same standard Gumbel draw for every call of a shape."""
    generator = torch.Generator().manual_seed(seed)
    draws: dict[tuple[int, ...], Tensor] = {}

    def noise(like: Tensor) -> Tensor:
        shape = tuple(like.shape)
        if shape not in draws:
            uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
            draws[shape] = -torch.log(-torch.log(uniform.clamp_min(1e-12)))
        return draws[shape].to(like.dtype)

    return noise


def _zero_noise(like: Tensor) -> Tensor:
    return torch.zeros_like(like)


@pytest.mark.parametrize("tau", [3.0, 0.5, 0.01])
def test_a_straight_through_sample_is_one_hot_with_the_soft_gradient(tau: float) -> None:
    noise = _fixed_noise(0)
    logits = torch.randn(64, 9, generator=torch.Generator().manual_seed(1)).requires_grad_()
    weights = torch.randn(64, 9, generator=torch.Generator().manual_seed(2))
    hard, soft = straight_through(logits, tau, noise)
    chosen = (logits + noise(logits)).argmax(-1)
    assert torch.equal(hard, torch.nn.functional.one_hot(chosen, 9).float())
    (hard_grad,) = torch.autograd.grad((hard * weights).sum(), logits, retain_graph=True)
    (soft_grad,) = torch.autograd.grad((soft * weights).sum(), logits)
    assert torch.equal(hard_grad, soft_grad)
    relaxed = sample(logits, tau, "gumbel_soft", noise)
    assert torch.equal(soft, relaxed)
    assert torch.equal(sample(logits, tau, "gumbel_hard", noise), hard)


Heads = tuple[Tensor, Tensor, Tensor]


def _heads(seed: int, tau: float) -> tuple[Heads, Heads, Tensor]:
    """One-hot straight-through queries, keys and predicates of 2 heads (batch 4, N 6, k 6) with
    their soft samples, and the leaf logits they come from."""
    generator = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(3, 4, 2, 6, 6, generator=generator)).requires_grad_()
    noise = _fixed_noise(seed)
    query = straight_through(logits[0], tau, noise)
    key = straight_through(logits[1], tau, noise)
    predicate = straight_through(logits[2, 0], tau, noise)
    hard = (query[0], key[0], predicate[0])
    soft = (query[1], key[1], predicate[1])
    return hard, soft, logits


def test_straight_through_attention_is_the_hard_attention_of_the_one_hot_heads() -> None:
    hard, soft, _ = _heads(0, 1.0)
    value = torch.randn(4, 2, 6, 5)
    mask = torch.ones(4, 6, 6, dtype=torch.bool).tril()
    bias = position_bias(6)
    got = straight_through_attention(hard, soft, value, mask, bias, 1.0, _zero_noise)
    query, key, predicate = hard
    want = categorical_attention(query, key, value, predicate, mask, bias, 1.0, "argmax")
    assert torch.equal(got, want)


@pytest.mark.parametrize("tau", [3.0, 1.0])
def test_straight_through_attention_keeps_the_gradient_finite_where_one_hot_logits_do_not(
    tau: float,
) -> None:
    """At one-hot heads the match scores are exact 0s and 1s, where log(S + 1e-20)'s derivative
    is 1e20: differentiated there (the repo's straight-through form) the gradient reaching the
    reads' logits is astronomically large; differentiated at the soft samples it is of the size
    the relaxed model's is."""
    value = torch.randn(4, 2, 6, 5, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(4, 6, 6, dtype=torch.bool)
    bias = position_bias(6)
    noise = _fixed_noise(4)

    hard, soft, logits = _heads(0, tau)
    out = straight_through_attention(hard, soft, value, mask, bias, tau, noise)
    (ours,) = torch.autograd.grad(out.square().sum(), logits)

    hard, soft, logits = _heads(0, tau)
    query, key, predicate = hard
    naive_logits = attention_logits(query, key, predicate, mask, bias)
    naive = sample(naive_logits, tau, "gumbel_hard", noise) @ value
    (theirs,) = torch.autograd.grad(naive.square().sum(), logits)

    hard, soft, logits = _heads(0, tau)
    query, key, predicate = soft
    relaxed = categorical_attention(
        query, key, value, predicate, mask, bias, tau, "gumbel_soft", noise
    )
    (relaxed_grad,) = torch.autograd.grad(relaxed.square().sum(), logits)

    assert bool(ours.isfinite().all())
    assert ours.abs().max() < 100 * relaxed_grad.abs().max()
    assert not bool(theirs.isfinite().all()) or theirs.abs().max() > 1e10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_noise_the_straight_through_model_is_the_argmax_program(seed: int) -> None:
    model = random_model(seed, (2, 2, 2, 2, 2), causal=seed == 2)
    tokens = torch.randint(1, 4, (64, 6), generator=torch.Generator().manual_seed(seed))
    tokens[:, 0] = 5
    tokens[::3, 4:] = 0
    want_cat, want_num = model.streams(tokens)
    predicted = model.predict(tokens)
    model.set_sampling(tau=0.5, mode="gumbel_hard")
    model.noise = _zero_noise
    got_cat, got_num = model.streams(tokens)
    assert got_cat.dtype == torch.float32
    assert torch.equal(got_cat.double(), want_cat)
    assert torch.equal(got_num.double(), want_num)
    real = tokens != 0
    assert torch.equal(model(tokens).argmax(-1)[real], predicted[real])
