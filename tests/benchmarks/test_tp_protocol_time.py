"""benchmarks/tp_protocol_time.py times a few steps of every unit of the protocol and adds them
up: a tiny run's arithmetic and files, the timed epochs spread over the schedule, and the
process totals under the protocol's split and under the split by measured hours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.tp_protocol_plan import plan_units
from rasp_ir.frontends.transformer_programs.config import Architecture
from rasp_ir.frontends.transformer_programs.tasks import make_data

from .scripts import benchmark_script

TINY = ["--tasks", "hist", "--architectures", "2/2/2", "2/4/2", "--seeds", "0-1"]
TINY += ["--epochs", "3", "--dataset-size", "200", "--steps", "1", "--processes", "1", "2"]


def test_a_tiny_run_adds_up_and_writes_its_results(tmp_path: Path) -> None:
    script = benchmark_script("tp_protocol_time")
    assert script.main([*TINY, "--results", str(tmp_path)]) == 0
    results: dict[str, Any] = json.loads((tmp_path / "tp_protocol_time.json").read_text())
    rows = results["rows"]
    assert [(r["task"], r["architecture"], r["members"]) for r in rows] == [
        ("hist", "2/2/2", 2),
        ("hist", "2/4/2", 2),
    ]
    train_size = len(make_data("hist", 200, 0).train)
    for row in rows:
        assert row["steps_per_epoch"] == -(-train_size // row["batch_size"])
        steps = row["step_seconds"] * row["steps_per_epoch"]
        assert row["epoch_seconds"] == steps + row["validation_seconds"] + row["save_seconds"]
        assert row["hours"] == row["epoch_seconds"] * 3 / 3600 and row["epochs"] == 3
    hours = [row["hours"] for row in rows]
    one, two = results["totals"]
    assert one["processes"] == 1 and one["protocol_split_hours"] == pytest.approx(sum(hours))
    assert two["processes"] == 2
    for span in (two["protocol_split_hours"], two["measured_split_hours"]):
        assert max(hours) <= span <= sum(hours)
    assert results["threads"] == 1 and "load average" in results["load_before"]
    table = (tmp_path / "tp_protocol_time.md").read_text()
    assert "| paper | hist | 2/4/2 | 2 | 512 | 1 |" in table
    assert "- 2 processes:" in table and "Load (`uptime`) before" in table


def test_the_timed_steps_are_spread_over_the_schedule() -> None:
    script = benchmark_script("tp_protocol_time")
    assert script.timed_epochs(250, 3) == [0, 124, 249]
    assert script.timed_epochs(250, 1) == [0]
    assert script.timed_epochs(3, 5) == [0, 0, 1, 2, 2]


def test_the_protocols_split_is_its_cost_estimates_and_the_other_the_measured_hours() -> None:
    script = benchmark_script("tp_protocol_time")
    archs = [Architecture.split(2, 2, 2), Architecture.split(2, 4, 2), Architecture.split(3, 8, 4)]
    units = plan_units(["paper"], ["hist"], [0, 1], archs)
    assert units[0].cost(250) < units[1].cost(250) < units[2].cost(250)
    # the measured hours run against the estimates: 4, 3 and 1 h
    times = [
        script.UnitTime(unit, hours * 3600 / 250, 1, 0.0, 0.0)
        for unit, hours in zip(units, [4, 3, 1], strict=True)
    ]
    one, two = script.totals(times, [1, 2])
    assert one["protocol_split_hours"] == pytest.approx(8)
    # by estimate: 3/8/4 alone, the other two together (7 h); by the hours: 4 h against 3 + 1
    assert two["protocol_split_hours"] == pytest.approx(7)
    assert two["measured_split_hours"] == pytest.approx(4)


def test_bad_options_are_refused() -> None:
    script = benchmark_script("tp_protocol_time")
    for wrong in (["--steps", "0"], ["--processes", "0"], ["--seeds", "0-2", "1"]):
        with pytest.raises(SystemExit):
            script._arguments(wrong)
    args = script._arguments([])
    assert args.seeds == [0, 1, 2, 3, 4] and args.recipe == ["paper"] and args.steps == 3
    assert "induction" in args.tasks and args.architectures is None
