"""benchmarks/tp_recipe.py trains one population per variant at a tiny scale, writes the table of
the seed distributions, and reads finished variants back instead of training them again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasp_ir.frontends.transformer_programs.config import TrainConfig
from rasp_ir.frontends.transformer_programs.cull import kept_count
from rasp_ir.frontends.transformer_programs.recipes import recipe_train_config

from .scripts import benchmark_script


def test_each_variant_is_a_population_and_the_table_shows_its_spread(tmp_path: Path) -> None:
    script = benchmark_script("tp_recipe")
    results = tmp_path / "results"
    arguments = ["--task", "hist", "--seeds", "0-2", "--epochs", "1", "--dataset-size", "200"]
    arguments += ["--variants", "paper", "restarts", "--runs", str(tmp_path / "runs")]
    arguments += ["--results", str(results)]
    assert script.main(arguments) == 0
    report: dict[str, Any] = json.loads((results / "tp_recipe.json").read_text())
    assert list(report["variants"]) == ["paper", "restarts"]
    paper, restarts = report["variants"]["paper"], report["variants"]["restarts"]
    assert TrainConfig.from_json(paper["settings"]) == TrainConfig(
        epochs=1, dataset_size=200, seed=0
    )
    assert restarts["settings"]["restart_drop"] is not None
    assert restarts["settings"]["clip_grad_norm"] is None  # one ingredient at a time
    members = json.loads((tmp_path / "runs" / "hist" / "paper" / "population.json").read_text())[
        "members"
    ]
    tests = sorted(100 * m["accuracy_argmax"]["test"] for m in members)
    assert paper["final_test"] == {"median": tests[1], "best": tests[2], "worst": tests[0]}
    metrics = json.loads((tmp_path / "runs" / "hist" / "paper" / "metrics.json").read_text())
    seed_1 = [row["loss"][1] for row in metrics["epochs"]]
    assert paper["loss_course_by_seed"]["1"]["lowest"] == min(seed_1)
    assert paper["loss_course_by_seed"]["1"]["final"] == seed_1[-1]
    table = (results / "tp_recipe.md").read_text()
    assert "**reduced scale**" in table and "load before (`uptime`)" in table
    assert f"{min(seed_1):.2f} at 1 (" in table
    assert "| paper | the paper's recipe |" in table
    # Run again: the finished populations are read back, not trained.
    assert script.main(arguments) == 0
    again = json.loads((results / "tp_recipe.json").read_text())
    assert not any(v["trained_now"] for v in again["variants"].values())
    assert again["variants"]["paper"]["final_test"] == paper["final_test"]
    # ... and keep the load recorded when they were trained.
    assert again["variants"]["paper"]["load_when_done"] == paper["load_when_done"] is not None
    assert "(read back: trained by an earlier run)" in (results / "tp_recipe.md").read_text()


def test_a_loss_course_finds_each_members_lowest_loss_and_its_temperature() -> None:
    epochs: list[dict[str, Any]] = [
        {"epoch": 1, "tau": 3.0, "loss": [1.5, 1.4]},
        {"epoch": 2, "tau": 1.0, "loss": [0.4, 1.0]},
        {"epoch": 3, "tau": 0.1, "loss": [0.9, 0.2]},
    ]
    courses = benchmark_script("tp_recipe").loss_courses(epochs)
    assert courses == [
        {"lowest": 0.4, "epoch": 2, "tau": 1.0, "final": 0.9},
        {"lowest": 0.2, "epoch": 3, "tau": 0.1, "final": 0.2},
    ]
    epochs[2]["loss"][1] = None  # culled after epoch 2: its course ends there
    courses = benchmark_script("tp_recipe").loss_courses(epochs)
    assert courses[1] == {"lowest": 1.0, "epoch": 2, "tau": 1.0, "final": 1.0}


def test_each_ingredient_is_added_alone_to_the_papers_recipe() -> None:
    script = benchmark_script("tp_recipe")
    base = TrainConfig(epochs=10)
    # every variant trains a population: the robust preset's own, exploit rounds included
    robust = recipe_train_config("robust", base, population=True)
    assert script.variant_settings("robust", base) == robust and robust.exploit_every == 10
    assert script.variant_settings("clip", base) == TrainConfig(epochs=10, clip_grad_norm=1.0)
    assert script.variant_settings("cosine", base) == TrainConfig(epochs=10, lr_schedule="cosine")
    assert script.variant_settings("draws4", base).gumbel_samples == 4
    assert script.variant_settings("paper", base) == base
    assert script.variant_settings("exploit", base) == TrainConfig(epochs=10, exploit_every=10)


def test_a_variants_row_counts_the_copies_of_its_exploit_rounds() -> None:
    def member(seed: int, test: float, copies: int) -> dict[str, Any]:
        accuracy = {"val": test, "test": test}
        taken = [{"epoch": 10 * (i + 1), "from_seed": 0} for i in range(copies)]
        return {
            "seed": seed,
            "accuracy_argmax": accuracy,
            "best_accuracy_argmax": accuracy,
            "exploits": taken,
        }

    population = {
        "members": [member(0, 0.9, 0), member(1, 0.5, 2), member(2, 0.7, 1)],
        "selected": {"model": 0, "best": 0},
        "seconds_per_epoch": 1.0,
        "loss_courses": [{}, {}, {}],
    }
    row = benchmark_script("tp_recipe").summarise(population)
    assert row["copies"] == 3 and row["restarts"] == 0
    assert row["final_test"] == {"median": 70.0, "best": 90.0, "worst": 50.0}


def test_a_variants_spread_leaves_out_the_members_a_cut_stopped() -> None:
    def member(seed: int, test: float, culled: bool) -> dict[str, Any]:
        accuracy = {"val": test, "test": test}
        cut = {"epoch": 30, "scored_by": "train_loss", "score": 0.9, "kept_below": 0.5}
        return {
            "seed": seed,
            "accuracy_argmax": accuracy,
            "best_accuracy_argmax": accuracy,
            "culled": cut if culled else None,
        }

    population = {
        "members": [member(0, 0.9, False), member(1, 0.2, True), member(2, 0.7, False)],
        "selected": {"model": 0, "best": 0},
        "seconds_per_epoch": 1.0,
        "loss_courses": [{}, {}, {}],
    }
    script = benchmark_script("tp_recipe")
    row = script.summarise(population)
    assert row["final_test"] == {"median": 80.0, "best": 90.0, "worst": 70.0}
    assert row["culled_seeds"] == [1] and row["final_test_by_seed"]["1"] == 20.0
    course = {"lowest": 0.5, "epoch": 1, "tau": 1.0, "final": 0.5}
    row["loss_course_by_seed"] = {str(seed): course for seed in range(3)}
    narrow = {**row, "final_test_by_seed": {"0": 50.0}, "loss_course_by_seed": {"0": course}}
    payload = {
        "task": "hist", "architecture": "2/2/2", "seeds": [0], "epochs": 250,
        "dataset_size": 20_000, "command": "c", "machine": "m", "threads": 1, "jobs": 1,
        "minutes": 1.0, "date": "d", "load_before": "l", "load_after": "l", "collapse_drop": 0.05,
        "variants": {
            "clip": {**narrow, "seeds": [0], "load_when_done": None, "trained_now": True},
            "clip_cull_exploit_loss": {
                **row, "seeds": [0, 1, 2], "load_when_done": None, "trained_now": True
            },
        },
    }  # fmt: skip
    table = script.render(payload)
    assert "| clip_cull_exploit_loss | 90.00 | 20.00 (culled) | 70.00 |" in table
    assert "| clip | 50.00 | - | - |" in table  # the seeds only the wide start trained
    assert "| clip | 0.50 at 1 (1.00) -> 0.50 | - | - |" in table
    assert "| 0 | 0 | 1 | 1.0 |" in table  # restarts, copies, culled, s/epoch
    # The paper's scale is the task's own: the in-context task trains 500 epochs, not 250.
    assert "the paper's scale" in table
    induction = script.render({**payload, "task": "induction"})
    assert "**reduced scale**" in induction and "the paper's is 500 epochs" in induction
    assert "the paper's scale" in script.render({**payload, "task": "induction", "epochs": 500})


def test_the_epochs_default_to_the_papers_for_the_task() -> None:
    script = benchmark_script("tp_recipe")
    assert script._arguments([]).epochs == 250  # double_hist
    assert script._arguments(["--task", "induction"]).epochs == 500
    assert script._arguments(["--task", "induction", "--epochs", "3"]).epochs == 3


def test_a_variant_with_a_cut_starts_with_four_times_the_seeds_on_the_same_data() -> None:
    script = benchmark_script("tp_recipe")
    assert script.variant_seeds("clip_exploit_loss", (16, 17, 18, 19)) == (16, 17, 18, 19)
    wide = script.variant_seeds("clip_cull_exploit_loss", (16, 17, 18, 19))
    assert wide == tuple(range(16, 32))
    assert script.variant_seeds("clip_cull_exploit_loss", (0, 2)) == (0, 2, 3, 4, 5, 6, 7, 8)
    # the cut keeps a quarter: as many members as the other variants train
    assert kept_count(None, len(wide)) == 4
