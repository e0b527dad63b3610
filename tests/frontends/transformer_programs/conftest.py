"""Shared fixtures: small random models, a population trainer after a few epochs, one tiny
trained run and one tiny population (each trained once per session)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from rasp_ir.frontends.transformer_programs.config import Architecture, ModelConfig, TrainConfig
from rasp_ir.frontends.transformer_programs.model import TransformerProgram
from rasp_ir.frontends.transformer_programs.population_train import (
    PopulationTrainer,
    train_population,
)
from rasp_ir.frontends.transformer_programs.tasks import TaskData
from rasp_ir.frontends.transformer_programs.train import RunResult, model_config, train

VOCAB = ("<pad>", "0", "1", "2", "</s>", "<s>")
CLASSES = ("<pad>", "a", "b", "c")


def random_model(
    seed: int, arch: tuple[int, int, int, int, int], causal: bool = False
) -> TransformerProgram:
    """A randomly initialised model over a 4-token vocabulary, N = k = 6, in argmax mode."""
    torch.manual_seed(seed)
    config = ModelConfig(VOCAB, CLASSES, 6, 6, *arch, causal=causal)
    model = TransformerProgram(config)
    model.set_sampling(mode="argmax")
    return model


def trained_epochs(
    data: TaskData,
    arch: Architecture,
    settings: TrainConfig,
    seeds: tuple[int, ...],
    epochs: int,
) -> tuple[PopulationTrainer, dict[str, Any]]:
    """A hist population trainer after ``epochs`` epochs (their rows in its metrics, nothing
    written), and the last epoch's row."""
    config = model_config("hist", data, arch)
    trainer = PopulationTrainer("hist", data, config, settings, seeds, torch.device("cpu"))
    for epoch in range(epochs):
        row, _ = trainer.epoch(epoch)
        trainer.metrics.append(row)
    return trainer, row


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """hist, 1 layer with two counting heads and a numerical MLP, a few epochs."""
    run_dir = tmp_path_factory.mktemp("tp") / "hist"
    arch = Architecture(1, 0, 2, 0, 1)
    settings = TrainConfig(epochs=6, batch_size=128, lr=0.05, seed=0, dataset_size=800)
    return train("hist", run_dir, arch, settings, progress=False)


@pytest.fixture
def run_dir(tiny_run: RunResult) -> Path:
    return tiny_run.run_dir


@pytest.fixture(scope="session")
def population_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hist, a population of seeds 0, 1 and 5 (the data of seed 0), 1 layer, two epochs."""
    run = tmp_path_factory.mktemp("population") / "hist"
    settings = TrainConfig(epochs=2, batch_size=64, seed=0, dataset_size=300)
    arch = Architecture.split(1, 2, 1)
    train_population("hist", run, (0, 1, 5), arch, settings, progress=False)
    return run
