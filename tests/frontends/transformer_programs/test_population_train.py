"""Population training: every member is the model a single run of its seed trains (weights,
metrics, best epoch), per-member clipping and draws, diverged members, resume, and the run
folder's record of every member and of the selection by validation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.population_train import (
    PopulationTrainer,
    train_population,
)
from rasp_ir.frontends.transformer_programs.tasks import TaskData, make_data
from rasp_ir.frontends.transformer_programs.train import model_config, noise_seed, train

ARCH = Architecture(2, 1, 1, 1, 1)  # every kind of module, two layers
SETTINGS = TrainConfig(epochs=2, batch_size=64, lr=0.05, seed=0, dataset_size=300)
# Warm-up, a cosine decay and restarts with a hair trigger: both seeds of the resume test restart
# at least once in these four epochs, seed 4 on both sides of the cut (asserted).
ROBUST = replace(
    SETTINGS,
    epochs=4,
    lr=0.1,
    lr_schedule="cosine",
    warmup_epochs=1,
    clip_grad_norm=0.5,
    restart_drop=0.001,
    restart_patience=1,
    restart_lr_factor=0.5,
)


@pytest.fixture(scope="module")
def hist_data() -> TaskData:
    return make_data("hist", SETTINGS.dataset_size, SETTINGS.seed)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    model, _, _ = checkpoint.load(path)
    return model.state_dict()


def _same_weights(a: Path, b: Path) -> bool:
    left, right = _weights(a), _weights(b)
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


@pytest.mark.parametrize(
    "settings",
    [
        SETTINGS,
        replace(SETTINGS, clip_grad_norm=0.05, gumbel_samples=2),
        replace(SETTINGS, sampler="softmax"),
        replace(SETTINGS, sampler="gumbel_hard", clip_grad_norm=1.0),
        replace(SETTINGS, gumbel_samples=2, hard_samples=1),
        replace(SETTINGS, choice_entropy=0.5),
        ROBUST,
    ],
    ids=[
        "paper",
        "clipped-two-draws",
        "softmax",
        "straight-through",
        "relaxed-and-straight-through",
        "choice-entropy",
        "schedule-and-restarts",
    ],
)
def test_a_member_is_the_single_run_of_its_seed_bit_for_bit(
    tmp_path: Path, hist_data: TaskData, settings: TrainConfig
) -> None:
    # Bit for bit at this size: each member's slice of a batched product is summed in the same
    # order as one model's. Larger models are equal to float tolerance (test_population.py).
    seeds = (0, 3)
    population = train_population(
        "hist", tmp_path / "pop", seeds, ARCH, settings, progress=False, data=hist_data
    )
    rows = json.loads((tmp_path / "pop" / "metrics.json").read_text())["epochs"]
    for index, seed in enumerate(seeds):
        alone = train(
            "hist", tmp_path / f"s{seed}", ARCH, replace(settings, seed=seed),
            progress=False, data=hist_data,
        )  # fmt: skip
        member = tmp_path / "pop" / f"seed-{seed}"
        assert _same_weights(member / "model", tmp_path / f"s{seed}" / "model")
        assert _same_weights(member / "best", tmp_path / f"s{seed}" / "best")
        assert population.members[index].accuracy == alone.accuracy
        assert population.members[index].best_epoch == alone.best_epoch
        assert population.members[index].restarts == alone.restarts
        single_rows = json.loads((tmp_path / f"s{seed}" / "metrics.json").read_text())["epochs"]
        for row, single in zip(rows, single_rows, strict=True):
            for key in ("loss", "val_accuracy_argmax", "grad_norm_median", "grad_norm_max"):
                assert row[key][index] == pytest.approx(single[key], rel=1e-6), key
            assert row.get("restarts", [None] * len(seeds))[index] == single.get("restart")
    if settings.restart_drop is not None:
        assert all(member.restarts for member in population.members)


def test_the_run_folder_records_every_member_and_the_selection(
    tmp_path: Path, hist_data: TaskData
) -> None:
    seeds = (4, 1, 2)
    result = train_population(
        "hist", tmp_path / "pop", seeds, ARCH, SETTINGS, progress=False, data=hist_data
    )
    summary = json.loads((tmp_path / "pop" / "population.json").read_text())
    assert summary["seeds"] == [4, 1, 2] and summary["data_seed"] == 0
    members = summary["members"]
    assert [m["seed"] for m in members] == [4, 1, 2]
    final_val = [m["accuracy_argmax"]["val"] for m in members]
    best_val = [m["best_accuracy_argmax"]["val"] for m in members]
    assert summary["selected"]["model"] == seeds[final_val.index(max(final_val))]
    assert summary["selected"]["best"] == seeds[best_val.index(max(best_val))]
    assert result.selected == summary["selected"]
    rows = json.loads((tmp_path / "pop" / "metrics.json").read_text())["epochs"]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert all(len(row[key]) == 3 for row in rows for key in ("loss", "val_accuracy_argmax"))
    assert rows[-1]["val_accuracy_argmax"] == final_val
    member = json.loads((tmp_path / "pop" / "seed-1" / "model.json").read_text())
    assert member["train"]["seed"] == 1 and member["data_seed"] == 0
    assert member["population"] == {"seeds": [4, 1, 2], "member": 1}


@pytest.mark.parametrize("settings", [SETTINGS, ROBUST], ids=["paper", "schedule-and-restarts"])
def test_resume_continues_a_population_as_if_uninterrupted(
    tmp_path: Path, hist_data: TaskData, settings: TrainConfig
) -> None:
    seeds = (0, 4)
    args = ("hist",)
    train_population(
        *args, tmp_path / "whole", seeds, ARCH, settings, progress=False, data=hist_data
    )
    train_population(
        *args, tmp_path / "cut", seeds, ARCH, settings,
        progress=False, data=hist_data, stop_after=settings.epochs // 2,
    )  # fmt: skip
    train_population(
        *args, tmp_path / "cut", seeds, ARCH, settings, progress=False, data=hist_data, resume=True
    )
    for seed in seeds:
        for which in ("model", "best"):
            whole, cut = (tmp_path / run / f"seed-{seed}" / which for run in ("whole", "cut"))
            assert _same_weights(whole, cut)

    def without_seconds(run: str) -> list[dict[str, object]]:
        rows = json.loads((tmp_path / run / "metrics.json").read_text())["epochs"]
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert without_seconds("whole") == without_seconds("cut")
    if settings.restart_drop is not None:  # restarts on both sides of the cut
        rows = json.loads((tmp_path / "whole" / "metrics.json").read_text())["epochs"]
        epochs = [int(row["epoch"]) for row in rows if "restarts" in row]
        assert min(epochs) <= settings.epochs // 2 < max(epochs)


def test_resume_refuses_other_seeds(tmp_path: Path, hist_data: TaskData) -> None:
    run = tmp_path / "pop"
    train_population(
        "hist", run, (0, 1), ARCH, SETTINGS, progress=False, data=hist_data, stop_after=1
    )
    with pytest.raises(RaspError, match=r"population of seeds \[0, 1\], not \[0, 2\]"):
        train_population(
            "hist", run, (0, 2), ARCH, SETTINGS, progress=False, data=hist_data, resume=True
        )


def test_a_diverged_member_is_frozen_and_the_others_train_on(hist_data: TaskData) -> None:
    config = model_config("hist", hist_data, ARCH)
    seeds = (0, 1)

    def trainer() -> PopulationTrainer:
        made = PopulationTrainer("hist", hist_data, config, SETTINGS, seeds, torch.device("cpu"))
        return made

    poisoned, clean = trainer(), trainer()
    with torch.no_grad():
        poisoned.population.weights["unembed"][1, 0, 1] = float("nan")
    before = {n: w[1].clone() for n, w in poisoned.population.weights.items()}
    row, _ = poisoned.epoch(0)
    clean.epoch(0)
    assert poisoned.diverged == {1: {"epoch": 1, "step": 1}}
    assert row["grad_norm_max"][1] is None and row["grad_norm_max"][0] is not None
    for name, weight in poisoned.population.weights.items():
        torch.testing.assert_close(weight[1], before[name], rtol=0, atol=0, equal_nan=True)
        assert torch.equal(weight[0], clean.population.weights[name][0])  # untouched


def test_noise_seeds_follow_a_single_run() -> None:
    assert noise_seed(3) == 3 + 7919 and noise_seed(3, rank=1) == 3 + 2 * 7919


def test_the_fused_kernels_and_torchrun_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RaspError, match="does not train populations"):
        train_population("hist", tmp_path, (0, 1), attention_impl="triton")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RaspError, match="not under torchrun"):
        train_population("hist", tmp_path, (0, 1))


def test_an_edited_or_foreign_population_checkpoint_is_refused(
    tmp_path: Path, hist_data: TaskData
) -> None:
    run = tmp_path / "pop"
    train_population(
        "hist", run, (0, 1), ARCH, SETTINGS, progress=False, data=hist_data, stop_after=1
    )
    sidecar = json.loads((run / "last.json").read_text())
    sidecar["seeds"] = sidecar["active"] = [0, 1, 2]  # a member more than the weights hold
    (run / "last.json").write_text(json.dumps(sidecar))
    with pytest.raises(RaspError, match=r"has shape \(2, .*the config needs \(3, "):
        train_population(
            "hist", run, (0, 1, 2), ARCH, SETTINGS, progress=False, data=hist_data, resume=True
        )
    single = tmp_path / "single"
    train("hist", single, ARCH, SETTINGS, progress=False, data=hist_data)
    with pytest.raises(RaspError, match="a single model's checkpoint, not a population's"):
        train_population(
            "hist", single, (0, 1), ARCH, SETTINGS, progress=False, data=hist_data, resume=True
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_a_member_trains_as_the_cuda_run_of_its_seed(
    tmp_path: Path, hist_data: TaskData
) -> None:
    # Each member's noise comes from its own CUDA generator, seeded as a CUDA run seeds its own.
    train_population(
        "hist", tmp_path / "pop", (0, 3), ARCH, SETTINGS,
        progress=False, data=hist_data, device="cuda",
    )  # fmt: skip
    train(
        "hist", tmp_path / "s3", ARCH, replace(SETTINGS, seed=3),
        progress=False, data=hist_data, device="cuda",
    )  # fmt: skip
    member, alone = (
        _weights(tmp_path / "pop" / "seed-3" / "model"),
        _weights(tmp_path / "s3" / "model"),
    )
    for name, value in alone.items():
        torch.testing.assert_close(member[name], value, rtol=1e-4, atol=1e-5)


def test_a_member_with_the_pooled_readout_is_the_single_run_of_its_seed(
    tmp_path: Path, hist_data: TaskData
) -> None:
    settings = replace(SETTINGS, epochs=1)
    train_population(
        "hist", tmp_path / "pop", (0, 2), ARCH, settings, progress=False, data=hist_data, pool=True
    )
    train(
        "hist", tmp_path / "s2", ARCH, replace(settings, seed=2),
        progress=False, data=hist_data, pool=True,
    )  # fmt: skip
    assert json.loads((tmp_path / "s2" / "model.json").read_text())["config"]["pool_outputs"]
    assert _same_weights(tmp_path / "pop" / "seed-2" / "model", tmp_path / "s2" / "model")


def test_edited_collapse_watches_are_refused(tmp_path: Path, hist_data: TaskData) -> None:
    run = tmp_path / "pop"
    settings = replace(SETTINGS, epochs=1)
    train_population("hist", run, (0, 1), ARCH, settings, progress=False, data=hist_data)
    sidecar = json.loads((run / "last.json").read_text())
    assert sidecar["collapse_watches"] == [{"epochs_below": 0, "lr_factor": 1.0}] * 2
    sidecar["collapse_watches"] = sidecar["collapse_watches"][:1]
    (run / "last.json").write_text(json.dumps(sidecar))
    with pytest.raises(RaspError, match="collapse watches that do not match the seeds"):
        train_population(
            "hist", run, (0, 1), ARCH, settings, progress=False, data=hist_data, resume=True
        )
