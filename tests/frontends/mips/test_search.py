"""Architecture search: the reference's sweep and bisection find the smallest success of a
monotone criterion, the ladder's order, and a real search that records, resumes, refuses other
settings and respects its budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips import search as search_module
from rasp_ir.frontends.mips.architecture import Architecture
from rasp_ir.frontends.mips.search import (
    LINEAR_RUNGS,
    NONLINEAR_RUNGS,
    PAPER_ASSUMPTION,
    ladder,
    paper_search,
    search,
)
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.train import TrainSettings

torch.set_num_threads(1)

QUICK = TrainSettings(steps=600, batch_size=256, lr=0.01, dataset_size=2000, eval_every=100)


@pytest.mark.parametrize(
    "smallest",
    [Architecture(1, 1, 7, 1, 1), Architecture(2, 2, 3, 20, 9), Architecture(1, 2, 1, 1, 2)],
)
def test_the_paper_search_finds_the_smallest_success_of_a_monotone_criterion(
    smallest: Architecture,
) -> None:
    tried: list[Architecture] = []

    def succeeds(architecture: Architecture) -> bool:
        return architecture.canonical().encode() >= smallest.encode()

    def attempt(architecture: Architecture) -> bool:
        tried.append(architecture)
        return succeeds(architecture)

    found = paper_search(attempt)
    assert found is not None and found.canonical() == smallest.canonical()
    assert tried[0] == Architecture(1, 1, 2, 1, 1)
    first_success = next(i for i, architecture in enumerate(tried) if succeeds(architecture))
    sweep = tried[: first_success + 1]
    assert len({a.canonical() for a in sweep}) == len(sweep), "equivalent codes are skipped"


def test_the_paper_search_reports_no_success() -> None:
    assert paper_search(lambda architecture: False) is None


def test_the_ladder_starts_where_the_alphabet_and_the_outputs_point() -> None:
    assert ladder(get_task("Parity_All")) == NONLINEAR_RUNGS + LINEAR_RUNGS
    assert ladder(get_task("Sum_All")) == LINEAR_RUNGS + NONLINEAR_RUNGS
    # 21 symbols, but positions over -550..550: a growing integer state.
    assert ladder(get_task("Newton_Freebody")) == LINEAR_RUNGS + NONLINEAR_RUNGS
    assert ladder(get_task("Evens_Counter")) == NONLINEAR_RUNGS + LINEAR_RUNGS


def test_a_search_records_its_trials_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = get_task("Parity_All")
    outcome = search(task, tmp_path, settings=QUICK, seeds=(0, 1))
    assert outcome.complete and outcome.smallest is not None
    assert outcome.smallest.architecture == NONLINEAR_RUNGS[0]
    assert outcome.smallest.perfect_seeds() and outcome.smallest.steps <= 600
    record = json.loads((tmp_path / "search.json").read_text())
    assert record["smallest"]["run_dir"] == "trials/o2-h2-d4-ow32-hw32"
    assert record["settings"]["stop_when_perfect"] is True
    assert (tmp_path / record["smallest"]["run_dir"] / "seed-0" / "model.safetensors").exists()

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a recorded trial was trained again")

    monkeypatch.setattr(search_module, "train_rnn", no_training)
    again = search(task, tmp_path, settings=QUICK, seeds=(0, 1))
    assert again.trials == outcome.trials
    with pytest.raises(RaspError, match="other settings"):
        search(task, tmp_path, settings=QUICK, seeds=(0, 1, 2))


def test_a_spent_budget_stops_before_training(tmp_path: Path) -> None:
    outcome = search(get_task("Parity_All"), tmp_path, strategy="paper", settings=QUICK, budget_s=0)
    assert not outcome.complete and outcome.smallest is None and outcome.trials == ()
    assert outcome.assumption == PAPER_ASSUMPTION
    assert "monotone" in json.loads((tmp_path / "search.json").read_text())["assumption"]


def test_an_unknown_strategy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="unknown strategy 'grid'"):
        search(get_task("Parity_All"), tmp_path, strategy="grid", settings=QUICK)
