"""The lifting benchmark end to end on a tiny run: both commands timed in fresh processes, the
lift's program and certificate read back, and both reports written with the load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.train import train

from .scripts import benchmark_script


def test_the_lift_benchmark_times_the_lift_and_the_bare_start(tmp_path: Path) -> None:
    run = tmp_path / "hist"
    settings = TrainConfig(epochs=1, batch_size=64, lr=0.05, seed=0, dataset_size=200)
    train("hist", run, Architecture(1, 1, 0, 0, 0), settings, progress=False)
    argv = ["--run", str(run), "--repeats", "1", "--results", str(tmp_path)]
    assert benchmark_script("tp_lift_speed").main(argv) == 0
    row = json.loads((tmp_path / "tp_lift_speed.json").read_text())["row"]
    assert row["agreement"] == 1.0 and row["program_lines"] > 0
    assert 0 < row["start_wall"] < row["lift_wall"] and row["lift_cpu"] > 0
    report = (tmp_path / "tp_lift_speed.md").read_text()
    assert "| `rasp tp lift` |" in report and "Load (`uptime`) before" in report


def test_the_lift_benchmark_needs_a_repetition() -> None:
    with pytest.raises(SystemExit):
        benchmark_script("tp_lift_speed").main(["--repeats", "0"])


def test_a_baseline_checkout_is_timed_alternately_and_compared(tmp_path: Path) -> None:
    run = tmp_path / "hist"
    settings = TrainConfig(epochs=1, batch_size=64, lr=0.05, seed=0, dataset_size=200)
    train("hist", run, Architecture(1, 1, 0, 0, 0), settings, progress=False)
    root = Path(__file__).resolve().parents[2]
    argv = ["--run", str(run), "--repeats", "1", "--results", str(tmp_path)]
    assert benchmark_script("tp_lift_speed").main([*argv, "--baseline", str(root)]) == 0
    row = json.loads((tmp_path / "tp_lift_speed.json").read_text())["row"]
    assert row["baseline_wall"] > row["start_wall"] and row["baseline_cpu"] > 0
    assert row["baseline_program_lines"] == row["program_lines"]
    assert row["baseline_agreement"] == 1.0
    report = (tmp_path / "tp_lift_speed.md").read_text()
    assert f"| `rasp tp lift`, baseline ({root} at " in report
    assert "'vs baseline' is its median wall time" in report
