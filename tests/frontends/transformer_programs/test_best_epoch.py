"""The best-validation checkpoint: which epoch is kept, what a run folder records, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.best_epoch import BestEpoch
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.train import RunResult, accuracy, load_split, train

from .conftest import random_model


def test_the_first_epoch_with_the_highest_accuracy_is_kept(tmp_path: Path) -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    best = BestEpoch()
    kept = {}
    for epoch, val in enumerate([0.5, 0.7, 0.7, 0.6], start=1):
        with torch.no_grad():
            model.layer(0).cat_predicate.add_(1.0)
        kept[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        best.update(model, epoch, val)
    assert (best.epoch, best.val_accuracy) == (2, 0.7)
    restored = best.model(model.config)
    assert restored is not None
    for name, value in restored.state_dict().items():
        assert torch.equal(value, kept[2][name]), name
    best.save(tmp_path, model.config, {"task": "hist"})
    again = BestEpoch.resumed(tmp_path)
    assert (again.epoch, again.val_accuracy) == (2, 0.7)
    assert again.state is not None
    assert all(torch.equal(again.state[k], kept[2][k]) for k in kept[2])


def test_a_best_checkpoint_without_its_epoch_is_refused(tmp_path: Path) -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    checkpoint.save(tmp_path / "best", model, {"task": "hist"})
    with pytest.raises(RaspError) as refused:
        BestEpoch.resumed(tmp_path)
    assert "no usable epoch" in str(refused.value)


def test_nothing_is_kept_before_an_epoch(tmp_path: Path) -> None:
    empty = BestEpoch.resumed(tmp_path)
    assert empty.epoch == 0 and empty.model(random_model(0, (1, 1, 1, 1, 1)).config) is None
    empty.save(tmp_path, random_model(0, (1, 1, 1, 1, 1)).config, {})
    assert not (tmp_path / "best.json").exists()


def _check_best_epoch(run: RunResult) -> None:
    """The run's best checkpoint is its first epoch with the highest validation accuracy, and
    its recorded accuracies are that model's on every split."""
    metrics = json.loads((run.run_dir / "metrics.json").read_text())["epochs"]
    vals = [row["val_accuracy_argmax"] for row in metrics]
    assert run.best_epoch == vals.index(max(vals)) + 1
    model, info, _ = checkpoint.load(run.run_dir / "best")
    assert info.meta["epoch"] == run.best_epoch
    assert info.meta["val_accuracy_argmax"] == max(vals)
    assert run.best_accuracy is not None
    assert info.meta["accuracy_argmax"] == run.best_accuracy
    for name in ("train", "val", "test"):
        split = load_split(run.run_dir / "data.safetensors", name)
        assert accuracy(model, split) == run.best_accuracy[name]
    assert run.best_accuracy["val"] == max(vals) >= run.accuracy["val"]


def test_a_run_whose_last_epoch_is_best_keeps_it(tmp_path: Path) -> None:
    settings = TrainConfig(epochs=1, batch_size=128, seed=0, dataset_size=300)
    run = train("hist", tmp_path / "run", Architecture(1, 0, 1, 0, 1), settings, progress=False)
    assert run.best_epoch == run.epochs == 1  # the only epoch is the last
    _check_best_epoch(run)


def test_a_run_keeps_and_evaluates_an_earlier_best_epoch(tmp_path: Path) -> None:
    settings = TrainConfig(epochs=4, batch_size=128, seed=1, dataset_size=300, lr=0.5)
    run = train("hist", tmp_path / "run", Architecture(1, 1, 1, 0, 1), settings, progress=False)
    assert run.best_epoch is not None and run.best_epoch < run.epochs  # the lr is too high
    _check_best_epoch(run)
