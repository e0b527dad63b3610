"""The interpreter and python-backend benchmarks run end to end on tiny settings and write both
reports, with the load quoted beside the figures."""

from __future__ import annotations

import json
from pathlib import Path

from .scripts import benchmark_script

ROOT = Path(__file__).resolve().parents[2]


def test_the_interpreter_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--inputs", "20", "--length", "4", "--repeats", "1", "--naive-inputs", "5"]
    argv += ["--check-inputs", "5", "--results", str(tmp_path)]
    assert benchmark_script("interpreter").main(argv) == 0
    report = json.loads((tmp_path / "interpreter.json").read_text())
    assert [row["program"] for row in report["results"]] == ["sort", "hist", "reverse", "dyck2"]
    assert "load average" in report["environment"]["load_before"]
    assert "- load before: `" in (tmp_path / "interpreter.md").read_text()


def test_the_python_backend_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--inputs", "20", "--single", "5", "--repeats", "1", "--results", str(tmp_path)]
    assert benchmark_script("python_backend").main(argv) == 0
    report = json.loads((tmp_path / "python_backend.json").read_text())
    assert len(report["rows"]) == 5
    assert "load average" in report["load_before"]
    assert "Load (`uptime`) before" in (tmp_path / "python_backend.md").read_text()


def test_the_tp_population_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--members", "2", "--batch-sizes", "4", "--steps", "1", "--dataset-size", "100"]
    assert benchmark_script("tp_population").main([*argv, "--results", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "tp_population.json").read_text())
    assert [row["batch_size"] for row in report["rows"]] == [4]
    assert report["rows"][0]["ratio"] > 0 and report["profile"]
    # the floor: the population's matmul FLOPs are the members' times one model's
    row = report["rows"][0]
    assert row["population_matmul_flops"] == 2 * row["single_matmul_flops"] > 0
    expected = row["population_matmul_flops"] / report["peak_matmul_flops_per_s"]
    assert row["floor_epoch_s"] == expected * row["steps_per_epoch"]
    assert "load average" in report["load_before"] and report["threads"] == 1
    assert "- load before (`uptime`): `" in (tmp_path / "tp_population.md").read_text()


def test_the_tp_training_speed_benchmark_measures_a_whole_run() -> None:
    run = benchmark_script("tp_training_speed").whole_run(epochs=1, dataset_size=100, threads=1)
    assert run["epochs"] == 1 and run["wall_seconds"] > 0 and run["peak_memory_mib"] > 0


def test_the_tp_training_speed_benchmark_times_each_sampler_against_the_first() -> None:
    script = benchmark_script("tp_training_speed")
    rows = [script.measure(16, 1, 0, 100, 1, sampler) for sampler in ("gumbel_soft", "gumbel_hard")]
    script.add_ratios(rows)
    assert [row["sampler"] for row in rows] == ["gumbel_soft", "gumbel_hard"]
    assert rows[0]["step_ratio"] == 1.0
    assert rows[1]["step_ratio"] == rows[1]["step_seconds"] / rows[0]["step_seconds"]


def test_the_tp_relaxation_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--rows", "64", "--widths", "2", "8", "--repeats", "1", "--results", str(tmp_path)]
    argv += ["--small-rows", "16", "--members", "2", "--batch", "4", "--step-repeats", "1"]
    assert benchmark_script("tp_relaxation").main(argv) == 0
    payload = json.loads((tmp_path / "tp_relaxation.json").read_text())
    rows = payload["rows"]
    assert [row["width"] for row in rows] == [2, 8]
    assert all(row["softmax_last_ns"] > 0 and row["gumbel_noise_ns"] > 0 for row in rows)
    assert [row["entries"] for row in payload["fixed_cost"]] == [64]
    steps = payload["training_steps"]
    assert [row["step"] for row in steps] == ["one model", "population of 2"]
    assert all(row["torch_everywhere"] > 0 for row in steps)
    report = (tmp_path / "tp_relaxation.md").read_text()
    assert "| 8 |" in report and "| population of 2 |" in report
