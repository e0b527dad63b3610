"""benchmarks/tp_cull_signal.py: the rank correlation, the members each score would keep at a
cut of a trained population (as the cull itself ranks them), and the refusal of runs whose
members are not their own."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.population_train import train_population
from tests.benchmarks.scripts import benchmark_script

ARCH = Architecture(1, 1, 1, 1, 0)
SETTINGS = TrainConfig(epochs=3, batch_size=64, dataset_size=200)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("population")
    train_population("hist", run, (0, 1, 2, 3), ARCH, SETTINGS, progress=False)
    return run


def test_the_rank_correlation_is_spearmans() -> None:
    script = benchmark_script("tp_cull_signal")
    assert script.rank_correlation([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert script.rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert script.rank_correlation([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)
    assert script.rank_correlation([1, 1], [1, 2]) is None  # a constant series
    assert script.rank_correlation([1], [1]) is None


def test_a_cut_keeps_what_the_cull_would_and_ranks_the_member_that_ends_best(
    population: Path, tmp_path: Path
) -> None:
    script = benchmark_script("tp_cull_signal")
    results = tmp_path / "results"
    args = [str(population), "--at", "2", "3", "9", "--keep", "2", "--results", str(results)]
    assert script.main(args) == 0
    (run,) = json.loads((results / "tp_cull_signal.json").read_text())["runs"]
    assert [row["cut_after"] for row in run["rows"]] == [2, 3]  # no epoch 9 to cut after
    epochs = json.loads((population / "metrics.json").read_text())["epochs"]
    members = json.loads((population / "population.json").read_text())["members"]
    final = [100 * m["accuracy_argmax"]["test"] for m in members]
    assert run["winner"] == members[final.index(max(final))]["seed"]
    for row in run["rows"]:
        window = epochs[: row["cut_after"]][-5:]
        losses = [sum(r["loss"][i] for r in window) / len(window) for i in range(4)]
        assert row["loss"] == pytest.approx(losses)
        lowest = sorted(range(4), key=lambda i: (losses[i], i))[:2]
        assert row["kept_by_loss"] == sorted(lowest)  # seeds 0-3: positions are seeds
        winner = run["seeds"].index(run["winner"])
        expected_rank = sorted(range(4), key=lambda i: (losses[i], i)).index(winner) + 1
        assert row["winner_rank_by_loss"] == expected_rank
    table = (results / "tp_cull_signal.md").read_text()
    assert f"| `{population}` | hist | 4 (2) | 2 |" in table


def test_a_run_whose_members_are_not_their_own_is_refused(tmp_path: Path) -> None:
    culled = replace(SETTINGS, cull_after=1, cull_keep=1)
    train_population("hist", tmp_path / "run", (0, 1), ARCH, culled, progress=False)
    script = benchmark_script("tp_cull_signal")
    with pytest.raises(SystemExit, match="took each other's states or were culled"):
        script.main([str(tmp_path / "run"), "--results", str(tmp_path / "results")])
    with pytest.raises(SystemExit, match=r"no population\.json"):
        script.main([str(tmp_path), "--results", str(tmp_path / "results")])
