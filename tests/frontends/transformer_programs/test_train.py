"""Training: what a run shows while it trains, the relaxations and draws it can use, and the
settings it refuses."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.model import SampleMode
from rasp_ir.frontends.transformer_programs.train import backpropagate, draw_modes, train

from .conftest import random_model


def test_training_shows_loss_accuracy_and_temperature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = TrainConfig(epochs=2, batch_size=256, seed=0, dataset_size=300)
    train("hist", tmp_path / "run", Architecture(1, 1, 1, 0, 1), settings, progress=True)
    shown = capsys.readouterr().err
    assert "2/2" in shown and "loss " in shown and "val " in shown and "tau 0.01" in shown


@pytest.mark.parametrize(
    "modes", [("gumbel_soft", "gumbel_soft"), ("gumbel_soft", "gumbel_hard")], ids=str
)
def test_several_draws_average_the_gradients_of_single_draws(
    modes: tuple[SampleMode, SampleMode],
) -> None:
    model = random_model(2, (1, 1, 1, 1, 1))
    model.set_sampling(tau=1.5)
    x = torch.tensor([[5, 1, 2, 2, 3, 0], [5, 3, 3, 1, 0, 0]])
    y = torch.tensor([[0, 1, 2, 2, 3, 0], [0, 3, 3, 1, 0, 0]])

    def gradients() -> list[torch.Tensor]:
        grads = [
            p.grad.clone() if p.grad is not None else torch.zeros(()) for p in model.parameters()
        ]
        model.zero_grad()
        return grads

    torch.manual_seed(11)
    loss = backpropagate(model, x, y, modes)
    both = gradients()
    assert model.mode == modes[-1]
    torch.manual_seed(11)
    first = backpropagate(model, x, y, modes[:1])
    one = gradients()
    second = backpropagate(model, x, y, modes[1:])
    two = gradients()
    assert loss == pytest.approx((first + second) / 2)
    for mean, a, b in zip(both, one, two, strict=True):
        torch.testing.assert_close(mean, (a + b) / 2)
    assert any(not torch.equal(a, b) for a, b in zip(one, two, strict=True))  # draws differ


def test_the_last_hard_samples_draws_are_straight_through() -> None:
    modes = draw_modes(TrainConfig(gumbel_samples=3, hard_samples=1))
    assert modes == ["gumbel_soft", "gumbel_soft", "gumbel_hard"]
    assert draw_modes(TrainConfig(sampler="softmax")) == ["softmax"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sampler": "gumbel_st"}, "unknown sampler 'gumbel_st'"),
        ({"gumbel_samples": 0}, "--gumbel-samples must be at least 1"),
        ({"clip_grad_norm": 0.0}, "--clip-grad-norm must be positive"),
        ({"sampler": "softmax", "gumbel_samples": 4}, "draws no noise"),
        ({"gumbel_samples": 2, "hard_samples": 3}, "--hard-samples must be between 0 and"),
        ({"tau_init": 0.01, "tau_end": 3.0}, "0 < --tau-end <= --tau-init"),
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"lr": -1.0}, "--lr must be positive"),
        ({"lr_schedule": "step"}, "unknown --lr-schedule 'step' (one of constant, cosine)"),
        ({"warmup_epochs": 1}, "--warmup-epochs must be at least 0 and below --epochs (1)"),
        ({"restart_drop": 10.0}, "--restart-drop is a fraction of the validation accuracy"),
        ({"restart_patience": 0}, "--restart-patience must be at least 1"),
        ({"restart_lr_factor": 2.0}, "--restart-lr-factor must be above 0 and at most 1"),
        ({"choice_entropy": -0.1}, "--choice-entropy must be at least 0"),
        ({"exploit_every": 0}, "--exploit-every must be at least 1"),
        ({"exploit_start": -1}, "--exploit-start must be at least 0"),
        ({"exploit_score": "val"}, "unknown --exploit-score 'val' (one of val_accuracy,"),
        ({"exploit_fraction": 0.75}, "--exploit-fraction is the share of members that copy"),
        ({"exploit_margin": -0.1}, "--exploit-margin is a fraction of the validation accuracy"),
        ({"exploit_every": 2}, "a single run has none"),
        ({"cull_after": 0}, "--cull-after is the epoch after which the population is culled"),
        ({"cull_after": 1}, "at least 1 and below --epochs (1), not 1"),
        ({"cull_keep": 0}, "--cull-keep must be at least 1"),
        ({"cull_keep": 2}, "give --cull-after too"),
        ({"epochs": 2, "cull_after": 1}, "--cull-after stops the worst members of a population"),
        ({"recipe": "fast"}, "unknown recipe 'fast' (one of paper, robust)"),
    ],
)
def test_unusable_settings_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    settings = replace(TrainConfig(epochs=1, dataset_size=100), **change)
    with pytest.raises(RaspError) as refused:
        train("hist", tmp_path / "run", Architecture(1, 1, 1, 0, 1), settings, progress=False)
    assert message in str(refused.value)
    assert not (tmp_path / "run").exists()


def test_each_sampler_and_several_draws_train(tmp_path: Path) -> None:
    arch = Architecture(1, 1, 1, 0, 1)
    cases = (("gumbel_soft", 2, 0), ("gumbel_hard", 2, 0), ("softmax", 1, 0), ("softmax", 2, 1))
    for sampler, draws, hard in cases:
        settings = TrainConfig(
            epochs=1,
            batch_size=128,
            dataset_size=200,
            sampler=sampler,
            gumbel_samples=draws,
            hard_samples=hard,
        )
        run_dir = tmp_path / f"{sampler}-{hard}"
        result = train("hist", run_dir, arch, settings, progress=False)
        assert 0 <= result.accuracy["test"] <= 1
        saved = json.loads((run_dir / "model.json").read_text())["train"]
        assert (saved["sampler"], saved["gumbel_samples"], saved["hard_samples"]) == (
            sampler,
            draws,
            hard,
        )


def _gradient_norms_seen_by_adam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clip: float | None
) -> list[float]:
    seen: list[float] = []
    step = torch.optim.Adam.step

    def spy(self: torch.optim.Adam, *args: Any, **kwargs: Any) -> Any:
        grads = [
            p.grad for group in self.param_groups for p in group["params"] if p.grad is not None
        ]
        seen.append(float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    settings = TrainConfig(epochs=1, batch_size=64, dataset_size=200, clip_grad_norm=clip)
    train("hist", tmp_path / str(clip), Architecture(1, 1, 1, 0, 1), settings, progress=False)
    monkeypatch.undo()
    return seen


def test_clipping_bounds_the_gradient_the_optimiser_sees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unclipped = _gradient_norms_seen_by_adam(tmp_path, monkeypatch, None)
    clipped = _gradient_norms_seen_by_adam(tmp_path, monkeypatch, 0.01)
    assert len(clipped) == len(unclipped) > 1
    assert min(unclipped) > 0.01
    assert max(clipped) <= 0.01 * (1 + 1e-5)
    (row,) = json.loads((tmp_path / "0.01" / "metrics.json").read_text())["epochs"]
    assert row["grad_norm_max"] >= row["grad_norm_median"] > 0.01  # recorded before clipping


def test_resuming_with_other_settings_is_refused(tmp_path: Path) -> None:
    arch = Architecture(1, 1, 1, 0, 1)
    two = TrainConfig(epochs=2, batch_size=256, seed=3, dataset_size=300)
    train("hist", tmp_path / "run", arch, two, progress=False, stop_after=1)
    with pytest.raises(RaspError) as refused:
        train("hist", tmp_path / "run", arch, replace(two, lr=0.01), resume=True, progress=False)
    assert "lr 0.01 (the run has 0.05)" in str(refused.value)


def test_a_diverging_run_stops_with_a_message(tmp_path: Path) -> None:
    settings = TrainConfig(epochs=3, batch_size=64, dataset_size=300, lr=1e30)
    with pytest.raises(RaspError) as diverged:
        train("hist", tmp_path / "run", Architecture(1, 1, 1, 1, 1), settings, progress=False)
    assert "the run diverged at epoch 1, step" in str(diverged.value)
    assert "lower --lr" in str(diverged.value)


# A hair trigger and a cosine schedule: this run restarts after epochs 2 and 3.
HAIR_TRIGGER = TrainConfig(
    epochs=4, batch_size=64, lr=0.1, seed=0, dataset_size=300, lr_schedule="cosine",
    restart_drop=0.001, restart_patience=1, restart_lr_factor=0.5,
)  # fmt: skip
RESTARTING = Architecture(2, 1, 1, 1, 1)


def test_a_run_with_restarts_resumes_as_if_uninterrupted(tmp_path: Path) -> None:
    settings, arch = HAIR_TRIGGER, RESTARTING
    whole = train("hist", tmp_path / "whole", arch, settings, progress=False)
    train("hist", tmp_path / "cut", arch, settings, progress=False, stop_after=2)
    cut = train("hist", tmp_path / "cut", arch, settings, progress=False, resume=True)
    assert [r["epoch"] for r in whole.restarts] == [2, 3]  # one on each side of the cut
    assert cut.restarts == whole.restarts and cut.accuracy == whole.accuracy
    weights = [
        checkpoint.load(tmp_path / run / "model")[0].state_dict() for run in ("whole", "cut")
    ]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])


def test_a_restart_goes_back_to_the_best_epochs_weights(tmp_path: Path) -> None:
    # Stopped right after the epoch that restarted (2): the weights saved to resume from are
    # the best epoch's, and the watch's count starts again with the lowered factor.
    cut = train("hist", tmp_path / "run", RESTARTING, HAIR_TRIGGER, progress=False, stop_after=2)
    (restart,) = cut.restarts
    assert restart["epoch"] == 2 and restart["from_epoch"] == 1 == cut.best_epoch
    last = checkpoint.load(tmp_path / "run" / "last")[0].state_dict()
    best = checkpoint.load(tmp_path / "run" / "best")[0].state_dict()
    assert all(torch.equal(last[name], best[name]) for name in best)
    assert json.loads((tmp_path / "run" / "last.json").read_text())["collapse_watch"] == {
        "epochs_below": 0,
        "lr_factor": 0.5,
    }
