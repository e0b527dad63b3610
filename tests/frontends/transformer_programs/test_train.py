"""Training: what a run shows while it trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.train import train


def test_training_shows_loss_accuracy_and_temperature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = TrainConfig(epochs=2, batch_size=256, seed=0, dataset_size=300)
    train("hist", tmp_path / "run", Architecture(1, 1, 1, 0, 1), settings, progress=True)
    shown = capsys.readouterr().err
    assert "2/2" in shown and "loss " in shown and "val " in shown and "tau 0.01" in shown
