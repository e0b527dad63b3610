"""The structure choices' entropy: what it measures, that a population gives each member its own,
and that its penalty makes training commit to a program."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.choice_entropy import is_choice, mean_choice_entropy
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.train import train

from .conftest import random_model


def test_the_entropy_is_the_mean_over_every_choice_row() -> None:
    parameters = {
        "layers.0.cat_query": torch.zeros(1, 2, 4),  # two rows of uniform over 4: log 4
        "layers.0.cat_predicate": torch.tensor([[[1e4, 0.0], [0.0, 1e4]]]),  # two certain rows
        "layers.0.mlp_w_in": torch.randn(1, 3, 5),  # not a choice
        "layers.0.num_query": torch.zeros(1, 0, 4),  # no heads of this kind
    }
    assert torch.allclose(mean_choice_entropy(parameters), torch.tensor([math.log(4) / 2]))
    assert is_choice("embedding") and is_choice("layers.2.num_mlp_read")
    assert not is_choice("unembed") and not is_choice("layers.0.mlp_b_out")


def test_each_member_gets_the_entropy_it_has_alone() -> None:
    models = [random_model(seed, (2, 2, 2, 2, 2)) for seed in (0, 1, 2)]
    stacked = {
        name: torch.stack([dict(m.named_parameters())[name] for m in models])
        for name, _ in models[0].named_parameters()
    }
    together = mean_choice_entropy(stacked)
    for index, model in enumerate(models):
        alone = mean_choice_entropy({n: p[None] for n, p in model.named_parameters()})
        assert torch.equal(together[index : index + 1], alone)


def _final_entropy(run_dir: Path) -> float:
    model, _, _ = checkpoint.load(run_dir / "model.safetensors")
    with torch.no_grad():
        return float(mean_choice_entropy({n: p[None] for n, p in model.named_parameters()}))


def test_the_penalty_makes_training_commit(tmp_path: Path) -> None:
    arch = Architecture(2, 1, 1, 1, 1)
    entropies = []
    for weight in (0.0, 2.0):
        settings = TrainConfig(
            epochs=6, batch_size=64, lr=0.1, dataset_size=400, choice_entropy=weight
        )
        run_dir = tmp_path / str(weight)
        train("hist", run_dir, arch, settings, progress=False)
        entropies.append(_final_entropy(run_dir))
    assert entropies[1] < 0.8 * entropies[0]
