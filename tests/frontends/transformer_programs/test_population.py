"""The batched model of a population: each member's initial weights, noise, loss and gradient
are a single model's of its seed; members come back as plain models; clipping is per member."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.config import PAPER_ARCHITECTURES
from rasp_ir.frontends.transformer_programs.model import TransformerProgram, token_loss
from rasp_ir.frontends.transformer_programs.population import Population
from rasp_ir.frontends.transformer_programs.tasks import make_data
from rasp_ir.frontends.transformer_programs.train import model_config, noise_seed

SEEDS = (1, 2)


def _sort_population() -> tuple[Population, torch.Tensor, torch.Tensor]:
    """Table 1's sort model (3 layers, 4+4 heads, 2+2 MLPs, k = 8) for two seeds, and a batch
    of 32 examples per member (different examples)."""
    data = make_data("sort", 200, 0)
    config = model_config("sort", data, PAPER_ARCHITECTURES["sort"])
    population = Population(config, SEEDS, [noise_seed(seed) for seed in SEEDS])
    x, y = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)
    index = torch.stack([torch.arange(32), torch.arange(32, 64)])
    return population, x[index], y[index]


def _single(
    population: Population, seed: int, tokens: torch.Tensor, targets: torch.Tensor
) -> tuple[TransformerProgram, float]:
    """A single run's model of ``seed`` and its loss after one backward pass at tau 1.5, its
    noise drawn as a single run draws it."""
    torch.manual_seed(seed)
    model = TransformerProgram(population.config)
    model.attention_impl = "torch"
    model.set_sampling(tau=1.5, mode="gumbel_soft")
    torch.manual_seed(noise_seed(seed))
    loss = token_loss(model(tokens), targets)
    loss.backward()  # type: ignore[no-untyped-call]
    return model, float(loss.detach())


def test_members_lose_and_learn_as_single_models_of_their_seeds() -> None:
    # To float tolerance here, not bit for bit: at this size the batched products sum in
    # another order than one model's (the loss agrees to ~1e-8 relative).
    population, tokens, targets = _sort_population()
    losses = population.losses(tokens, targets, tau=1.5, mode="gumbel_soft")
    losses.sum().backward()  # type: ignore[no-untyped-call]
    for index, seed in enumerate(SEEDS):
        model, alone = _single(population, seed, tokens[index], targets[index])
        assert float(losses[index].detach()) == pytest.approx(alone, rel=1e-6)
        for name, parameter in model.named_parameters():
            grad = population.weights[name].grad
            assert grad is not None and parameter.grad is not None
            torch.testing.assert_close(grad[index], parameter.grad, rtol=1e-4, atol=1e-6)


def test_members_start_from_their_seeds_and_come_back_as_plain_models() -> None:
    population, _, _ = _sort_population()
    for index, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        expected = TransformerProgram(population.config).state_dict()
        got = population.member(index).state_dict()
        assert all(torch.equal(got[name], expected[name]) for name in expected)


def test_each_member_draws_its_own_noise() -> None:
    population, tokens, targets = _sort_population()
    same = torch.stack([tokens[0], tokens[0]]), torch.stack([targets[0], targets[0]])
    with torch.no_grad():
        for weight in population.weights.values():
            weight[1] = weight[0]
        losses = population.losses(*same, tau=1.0, mode="gumbel_soft")
        relaxed = population.losses(*same, tau=1.0, mode="softmax")
    assert float(losses[0]) != float(losses[1])  # same weights and batch, other noise
    assert float(relaxed[0]) == float(relaxed[1])


def test_clipping_scales_each_member_by_its_own_norm() -> None:
    population, tokens, targets = _sort_population()
    population.losses(tokens, targets, 1.0, "gumbel_soft").sum().backward()  # type: ignore[no-untyped-call]
    norms = population.gradient_norms()
    limit = float(norms.min()) / 2
    population.clip_gradients(norms, limit)
    clipped = population.gradient_norms()
    torch.testing.assert_close(clipped, torch.full_like(clipped, limit), rtol=1e-5, atol=0.0)


def test_seeds_must_be_distinct() -> None:
    population, _, _ = _sort_population()
    with pytest.raises(RaspError, match="distinct seeds"):
        Population(population.config, (3, 3), (1, 2))


def test_chunks_of_members_lose_and_learn_as_the_whole_population() -> None:
    def gradients(sequences_per_chunk: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        population, tokens, targets = _sort_population()
        population.sequences_per_chunk = sequences_per_chunk
        losses = population.losses(tokens, targets, tau=1.5, mode="gumbel_soft")
        losses.sum().backward()  # type: ignore[no-untyped-call]
        grads = {name: w.grad for name, w in population.weights.items() if w.grad is not None}
        return losses.detach(), grads

    whole, whole_grads = gradients(10_000)
    chunked, chunked_grads = gradients(32)  # one member of 32 sequences per chunk
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=0.0)
    for name, grad in whole_grads.items():
        torch.testing.assert_close(chunked_grads[name], grad, rtol=1e-4, atol=1e-6)
