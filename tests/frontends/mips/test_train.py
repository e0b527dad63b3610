"""Training GeneralRNNs: a tiny run learns Parity_All and writes its run folder, runs are
deterministic, population seeds are independent, bad settings are refused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips import checkpoint
from rasp_ir.frontends.mips.population import RNNPopulation
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.train import TrainSettings, robust_loss, train_rnn

torch.set_num_threads(1)

PARITY = RNNConfig(1, 1, 2)
QUICK = TrainSettings(steps=300, batch_size=256, lr=0.01, dataset_size=2000, eval_every=100)


def test_a_tiny_run_learns_parity_and_writes_its_folder(tmp_path: Path) -> None:
    result = train_rnn(get_task("Parity_All"), tmp_path, PARITY, QUICK, progress=False)
    (seed,) = result.seeds
    assert result.test_size == 200
    assert seed.test_accuracy == 1.0 and seed.perfect
    assert seed.checkpoint == tmp_path / "model"
    model, meta = checkpoint.load(tmp_path / "model")
    assert meta["task"] == "Parity_All" and meta["seed"] == 0
    assert meta["metrics"]["perfect"] is True
    assert meta["settings"]["steps"] == 300
    x = torch.tensor([[1, 0, 1, 1, 0, 0, 1, 0, 0, 0]])
    assert model.predict(x)[0, :, 0].tolist() == [1, 1, 0, 1, 1, 1, 0, 0, 0, 0]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == [1.0] and metrics["perfect"] == [True]
    assert [entry["step"] for entry in metrics["history"]] == [100, 200, 300]


def test_the_same_seed_gives_identical_weights(tmp_path: Path) -> None:
    settings = TrainSettings(steps=20, batch_size=64, dataset_size=500, eval_every=10)
    task = get_task("Parity_All")
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        train_rnn(task, tmp_path / name, PARITY, settings, progress=False, seeds=[seed])
    a, b, c = (checkpoint.load(tmp_path / name / "model")[0].state_dict() for name in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_several_seeds_are_saved_each_in_its_folder(tmp_path: Path) -> None:
    settings = TrainSettings(steps=5, batch_size=32, dataset_size=200, eval_every=5)
    result = train_rnn(
        get_task("Parity_All"), tmp_path, PARITY, settings, progress=False, seeds=[7, 9]
    )
    assert [s.seed for s in result.seeds] == [7, 9]
    for seed in (7, 9):
        assert checkpoint.load(tmp_path / f"seed-{seed}" / "model")[1]["seed"] == seed
    assert result.best in result.seeds


def test_a_population_member_starts_as_a_plain_rnn_of_its_seed() -> None:
    population = RNNPopulation(PARITY, [5, 6])
    torch.manual_seed(6)
    alone = GeneralRNN(PARITY)
    member = population.member(1)
    for name, value in alone.state_dict().items():
        assert torch.equal(member.state_dict()[name], value)
    x = torch.randint(0, 2, (4, 10, 1)).float()
    together = population(torch.stack([x, x]))
    assert torch.allclose(together[1], alone(x)[0], atol=1e-6)


def test_per_seed_losses_do_not_mix_gradients() -> None:
    config = RNNConfig(1, 1, 3, hidden_width=4, output_width=4)
    x = torch.randint(0, 2, (3, 8, 5, 1)).float()
    y = torch.randint(0, 2, (3, 8, 5, 1)).float()

    def gradients(population: RNNPopulation) -> list[torch.Tensor]:
        population.zero_grad()
        robust_loss(population(x), y).sum().backward()  # type: ignore[no-untyped-call]
        return [p.grad[0].clone() for p in population.parameters() if p.grad is not None]

    population = RNNPopulation(config, [0, 1, 2])
    before = gradients(population)
    with torch.no_grad():
        for parameter in population.parameters():
            parameter[1:].add_(torch.randn_like(parameter[1:]))
    after = gradients(population)
    assert len(before) == 8
    assert all(torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_the_loss_is_half_log_one_plus_the_squared_error() -> None:
    loss = robust_loss(torch.tensor([[1.0, 3.0]]), torch.tensor([[1.0, 1.0]]))
    assert torch.allclose(loss, torch.tensor([0.25 * torch.log(torch.tensor(5.0))]))


def test_bad_settings_and_configs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="steps must be at least 1"):
        TrainSettings(steps=0)
    with pytest.raises(RaspError, match="lr must be positive"):
        TrainSettings(lr=0.0)
    with pytest.raises(RaspError, match="2 input"):
        train_rnn(get_task("Binary_Addition"), tmp_path, PARITY, QUICK, progress=False)
    with pytest.raises(RaspError, match="distinct"):
        RNNPopulation(PARITY, [1, 1])


def test_a_seed_trained_in_a_population_matches_it_trained_alone(tmp_path: Path) -> None:
    settings = TrainSettings(steps=10, batch_size=64, dataset_size=500, eval_every=5)
    task = get_task("Parity_All")
    train_rnn(task, tmp_path / "both", PARITY, settings, progress=False, seeds=[3, 4])
    train_rnn(task, tmp_path / "alone", PARITY, settings, progress=False, seeds=[4])
    together = checkpoint.load(tmp_path / "both" / "seed-4" / "model")[0].state_dict()
    alone = checkpoint.load(tmp_path / "alone" / "model")[0].state_dict()
    assert all(torch.allclose(together[k], alone[k], atol=1e-5) for k in alone)


def test_stopping_at_a_perfect_seed_polishes_it_first(tmp_path: Path) -> None:
    task = get_task("Parity_All")
    early = dataclasses.replace(QUICK, steps=600, stop_when_perfect=True)
    stopped = train_rnn(task, tmp_path / "stopped", PARITY, early, progress=False)
    assert stopped.seeds[0].perfect and stopped.steps < 500
    polish = dataclasses.replace(early, polish_steps=50)
    polished = train_rnn(task, tmp_path / "polished", PARITY, polish, progress=False)
    assert polished.steps == stopped.steps + 50
    history = json.loads((tmp_path / "polished" / "metrics.json").read_text())["history"]
    assert history[-1]["step"] == polished.steps
    with pytest.raises(RaspError, match="polish_steps must be 0 or more"):
        TrainSettings(polish_steps=-1)
