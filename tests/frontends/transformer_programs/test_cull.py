"""Culling a population: which members a cut keeps, that the kept members go on exactly as in
the uncut population while the culled stop with their model at the cut, what the run records,
and resuming across the cut."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.cull import (
    CULL_WINDOW,
    cull_record,
    kept_count,
    members_kept,
    ranking,
)
from rasp_ir.frontends.transformer_programs.population_folder import member_dir
from rasp_ir.frontends.transformer_programs.population_train import (
    PopulationResult,
    train_population,
)
from rasp_ir.frontends.transformer_programs.report_view import run_view
from rasp_ir.frontends.transformer_programs.tasks import TaskData, make_data
from rasp_ir.frontends.transformer_programs.train import accuracy
from tests.frontends.transformer_programs.conftest import trained_epochs

ARCH = Architecture(2, 1, 1, 1, 1)
SEEDS = (0, 1, 2, 3)
SETTINGS = TrainConfig(epochs=4, batch_size=64, lr=0.05, seed=0, dataset_size=300)
CUT = replace(SETTINGS, cull_after=2, cull_keep=2)


@pytest.fixture(scope="module")
def hist_data() -> TaskData:
    return make_data("hist", SETTINGS.dataset_size, SETTINGS.seed)


@pytest.fixture(scope="module")
def uncut(tmp_path_factory: pytest.TempPathFactory, hist_data: TaskData) -> list[dict[str, Any]]:
    """The metrics of the population trained without a cut."""
    run = tmp_path_factory.mktemp("uncut")
    train_population("hist", run, SEEDS, ARCH, SETTINGS, progress=False, data=hist_data)
    rows: list[dict[str, Any]] = json.loads((run / "metrics.json").read_text())["epochs"]
    return rows


@pytest.fixture(scope="module")
def cut_run(
    tmp_path_factory: pytest.TempPathFactory, hist_data: TaskData
) -> tuple[Path, PopulationResult]:
    """The folder and result of the population trained with a cut after epoch 2."""
    run = tmp_path_factory.mktemp("cut")
    return run, train_population("hist", run, SEEDS, ARCH, CUT, progress=False, data=hist_data)


def test_a_cut_keeps_the_lowest_scores_and_ranks_members_without_one_last() -> None:
    assert members_kept([0.9, 0.3, 0.5, 0.4], 2) == [1, 3]
    assert members_kept([0.9, None, 0.5, 0.4], 3) == [0, 2, 3]
    assert members_kept([None, None, 0.5], 2) == [0, 2]  # ties among the unscored by position
    assert members_kept([0.5, 0.5, 0.5], 1) == [0]
    assert ranking([0.9, None, 0.3, 0.3]) == [2, 3, 0, 1]
    assert [kept_count(None, n) for n in (1, 2, 4, 5, 16)] == [1, 1, 1, 2, 4]
    assert kept_count(3, 16) == 3
    record = cull_record(20, 0.7, [0.3, 0.5])
    assert record == {"epoch": 20, "scored_by": "train_loss", "score": 0.7, "kept_below": 0.5}
    assert cull_record(3, None, [])["kept_below"] is None


def test_kept_members_go_on_as_in_the_uncut_population_and_the_culled_stop_at_the_cut(
    cut_run: tuple[Path, PopulationResult], hist_data: TaskData, uncut: list[dict[str, Any]]
) -> None:
    run, result = cut_run
    rows = json.loads((run / "metrics.json").read_text())["epochs"]
    window = min(CULL_WINDOW, 2)
    scores = [math.fsum(row["loss"][i] for row in uncut[:2]) / window for i in range(4)]
    kept = sorted(sorted(range(4), key=lambda i: scores[i])[:2])
    culled = [i for i in range(4) if i not in kept]
    assert [row["epoch"] for row in rows if "culled" in row] == [2]
    assert [entry is None for entry in rows[1]["culled"]] == [i in kept for i in range(4)]
    for index in culled:
        record = rows[1]["culled"][index]
        assert record["epoch"] == 2 and record["score"] == pytest.approx(scores[index])
        assert record["kept_below"] == pytest.approx(max(scores[i] for i in kept))
    keys = ("loss", "val_accuracy_argmax", "grad_norm_median", "grad_norm_max")
    for mine, theirs in zip(rows, uncut, strict=True):
        for key in keys:
            for index in range(4):
                if mine["epoch"] > 2 and index in culled:
                    assert mine[key][index] is None
                else:  # the members are independent: the cut changes nothing of the kept
                    assert mine[key][index] == theirs[key][index], (mine["epoch"], key, index)
    for member in result.members:
        index = SEEDS.index(member.seed)
        folder = member_dir(run, member.seed)
        saved = checkpoint.read_sidecar(folder / "model")
        if index in culled:
            assert member.culled == rows[1]["culled"][index]
            assert saved["epochs_run"] == 2 and saved["culled"] == member.culled
            assert member.accuracy["val"] == uncut[1]["val_accuracy_argmax"][index]
        else:
            assert member.culled is None and saved["epochs_run"] == 4
            assert member.accuracy["val"] == uncut[3]["val_accuracy_argmax"][index]
        model, _, _ = checkpoint.load(folder / "model")
        assert accuracy(model, hist_data.val) == member.accuracy["val"]
    summary = json.loads((run / "population.json").read_text())
    assert [m["culled"] for m in summary["members"]] == [m.culled for m in result.members]
    assert summary["selected"]["model"] in SEEDS


def test_a_run_resumes_across_the_cut(tmp_path: Path, hist_data: TaskData) -> None:
    whole = tmp_path / "whole"
    train_population("hist", whole, SEEDS, ARCH, CUT, progress=False, data=hist_data)
    cut = tmp_path / "cut"
    train_population("hist", cut, SEEDS, ARCH, CUT, progress=False, data=hist_data, stop_after=3)
    train_population("hist", cut, SEEDS, ARCH, CUT, progress=False, data=hist_data, resume=True)

    def without_seconds(run: Path, name: str, key: str) -> Any:
        data = json.loads((run / name).read_text())
        if key == "epochs":
            return [{k: v for k, v in row.items() if k != "seconds"} for row in data[key]]
        return data[key]

    assert without_seconds(cut, "metrics.json", "epochs") == without_seconds(
        whole, "metrics.json", "epochs"
    )
    assert without_seconds(cut, "population.json", "members") == without_seconds(
        whole, "population.json", "members"
    )


def test_exploit_rounds_after_a_cut_copy_between_the_kept_members_only(
    tmp_path: Path, hist_data: TaskData
) -> None:
    settings = replace(CUT, exploit_every=2, exploit_fraction=0.5, exploit_margin=0.0)
    train_population("hist", tmp_path, SEEDS, ARCH, settings, progress=False, data=hist_data)
    row = json.loads((tmp_path / "metrics.json").read_text())["epochs"][1]
    kept = [SEEDS[i] for i, entry in enumerate(row["culled"]) if entry is None]
    copies = [(SEEDS[i], c["from_seed"]) for i, c in enumerate(row.get("exploits", [])) if c]
    assert copies, "margin 0, two members left: a copy expected"
    assert all(recipient in kept and donor in kept for recipient, donor in copies)


def test_a_cut_that_keeps_every_member_is_refused(tmp_path: Path, hist_data: TaskData) -> None:
    with pytest.raises(RaspError, match="a cull that keeps 4 members keeps every member"):
        train_population("hist", tmp_path, SEEDS, ARCH, replace(CUT, cull_keep=4), data=hist_data)
    with pytest.raises(RaspError, match="a cull that keeps 1 members keeps every member"):
        train_population("hist", tmp_path, (0,), ARCH, replace(CUT, cull_keep=None))


def test_the_batched_model_holds_the_kept_members_only(tmp_path: Path, hist_data: TaskData) -> None:
    trainer, row = trained_epochs(hist_data, ARCH, CUT, SEEDS, 2)
    weights = {name: weight.detach().clone() for name, weight in trainer.population.weights.items()}
    moments = {name: moment.clone() for name, moment in trainer.optimizer.exp_avg_sq.items()}
    noise = trainer.population.generator_states()
    trainer._cull(tmp_path, row)
    kept = trainer.active
    assert len(kept) == 2 and trainer.population.size == 2
    assert trainer.population.seeds == tuple(SEEDS[i] for i in kept)
    for name, weight in trainer.population.weights.items():
        assert weight.requires_grad and torch.equal(weight.detach(), weights[name][kept])
        assert torch.equal(trainer.optimizer.exp_avg_sq[name], moments[name][kept])
        assert trainer.optimizer.parameters[name] is weight
    for slot, index in enumerate(kept):
        assert torch.equal(trainer.population.generator_states()[slot], noise[index])
    row, members = trainer.epoch(2)
    assert len(members) == 2
    assert [value is None for value in row["loss"]] == [i not in kept for i in range(4)]


def test_a_culled_member_lifts_and_reports_its_model_at_the_cut(
    cut_run: tuple[Path, PopulationResult],
) -> None:
    run, result = cut_run
    member = next(member for member in result.members if member.culled)
    view = run_view(run, member=member.seed)
    assert view is not None and view.certificate is not None and view.certificate.ok
    assert view.certificate.source.details["member_seed"] == member.seed
    (table,) = view.tables
    row = next(row for row in table.rows if row[0] == str(member.seed))
    cells = dict(zip(table.columns, row, strict=True))
    assert cells["culled"] == "after epoch 2 (final: its model there)"
    curves = {curve.name: curve.values for curve in view.curves}
    losses = curves["training loss"]
    assert not any(math.isnan(value) for value in losses[:2])
    assert all(math.isnan(value) for value in losses[2:])  # no training after the cut
