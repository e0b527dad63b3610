"""The paper's protocol on populations (``tp_reproduce.py --protocol paper``): its units and
their deterministic split between processes, the selection by validation and the
distributions the report computes from known metrics, a tiny run end to end, resumption (a
finished unit is skipped, an interrupted one resumes), and a real two-process torchrun run."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import tp_protocol
from benchmarks.tp_protocol_plan import plan_units, seeds_text, share_out
from benchmarks.tp_protocol_table import (
    Distribution,
    estimate_line,
    estimated_seconds,
    render,
    selected_member,
    task_distribution,
)
from rasp_ir.api import RaspError
from rasp_ir.frontends.transformer_programs.config import PAPER_GRID, Architecture
from rasp_ir.frontends.transformer_programs.population_train import train_population
from rasp_ir.frontends.transformer_programs.recipes import recipe_train_config

from .scripts import benchmark_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "tp_reproduce.py"
README_COMMAND = "python benchmarks/tp_reproduce.py --protocol paper --tasks hist"
TINY = ["--protocol", "paper", "--tasks", "hist", "--seeds", "0-1", "--dataset-size", "200"]
TINY += ["--exhaustive-limit", "20", "--fuzz", "5"]


def test_the_protocol_is_every_table_1_task_at_every_grid_configuration_and_induction() -> None:
    units = plan_units(["paper"], ["hist", "sort", "induction"], [3, 4, 5, 6, 7])
    assert len(units) == 2 * len(PAPER_GRID) + 1
    assert [u.arch for u in units if u.task == "sort"] == list(PAPER_GRID)
    (induction,) = [u for u in units if u.task == "induction"]
    assert induction.arch == Architecture(2, 1, 0, 0, 0)
    assert (induction.settings.epochs, induction.protocol_epochs) == (500, 500)
    # every unit's data from the first seed: the configurations of a task share their data
    assert {u.settings.seed for u in units} == {3}
    assert {u.seeds for u in units} == {(3, 4, 5, 6, 7)}
    short = plan_units(["paper"], ["hist"], [0, 1], [Architecture.split(2, 4, 2)], 3, 200)
    assert (short[0].settings.epochs, short[0].protocol_epochs) == (3, 250)
    assert str(short[0].folder) == "paper/hist/2-4-2-e3-n200-s0-1"
    with pytest.raises(RaspError, match="unknown recipe 'nope'"):
        plan_units(["nope"], ["hist"], [0])
    # every unit is a population: the robust recipe's units have its exploit rounds
    (robust,) = plan_units(["robust"], ["hist"], [3, 4], [Architecture.split(2, 4, 2)])
    assert robust.settings == recipe_train_config("robust", units[0].settings, population=True)


def test_seeds_are_written_as_runs() -> None:
    assert seeds_text([0, 1, 2, 3, 4]) == "0-4"
    assert seeds_text([0, 1, 2, 3, 7]) == "0-3,7"
    assert seeds_text([5]) == "5"
    assert seeds_text([0, 2, 3]) == "0,2-3"


def test_the_split_gives_every_unit_to_one_process_costliest_first() -> None:
    costs = [1.0, 5.0, 4.0, 3.0, 3.0, 0.0]
    # 5 -> rank 0, 4 -> 1, 3 -> 1 (4 < 5), 3 -> 0 (5 < 7), 1 -> 1 (7 < 8), 0 -> 0 (8 = 8)
    assert share_out(costs, 2) == [[1, 4, 5], [0, 2, 3]]
    assert share_out(costs, 2) == share_out(list(costs), 2)
    assert share_out(costs, 1) == [[0, 1, 2, 3, 4, 5]]
    shares = share_out(costs, 4)
    assert sorted(i for share in shares for i in share) == list(range(6))
    assert share_out([], 3) == [[], [], []]


def _member(seed: int, val: float, test: float, copies: int = 0) -> dict[str, Any]:
    return {"seed": seed, "val": val, "test": test, "diverged": False, "copies": copies}


def _session(epochs: tuple[int, int], seconds: float, steps: float, data: float) -> dict[str, Any]:
    return {"epochs": list(epochs), "seconds": seconds, "step_seconds": steps, "data_seconds": data}


def _unit(label: str, members: list[dict[str, Any]], sessions: list[Any]) -> dict[str, Any]:
    return {
        "architecture": label,
        "folder": f"paper/hist/{label}",
        "epochs": 2,
        "protocol_epochs": 250,
        "sizes": {"train": 1, "val": 1, "test": 1},
        "sessions": sessions,
        "members": members,
    }


def _entry(units: list[dict[str, Any]]) -> dict[str, Any]:
    selected_unit, member = selected_member(units)
    return {
        "command": "python benchmarks/tp_reproduce.py --protocol paper",
        "commit": "abc1234",
        "threads": 1,
        "processes": 1,
        "load_before": "1.00 1.00 1.00",
        "load_after": "2.00 2.00 2.00",
        "recipe": "paper",
        "task": "hist",
        "paper_accuracy": 100.0,
        "epochs": 2,
        "protocol_epochs": 250,
        "dataset_size": 200,
        "seeds": [0, 1],
        "units": units,
        "selected": {
            "architecture": selected_unit["architecture"],
            "seed": member["seed"],
            "val": member["val"],
            "test": member["test"],
        },
        "lift": {"agreement": 1.0, "positions_compared": 99, "program_lines": 7, "seconds": 10.0},
    }


KNOWN = [
    _unit(
        "2/4/2",
        [_member(0, 0.90, 0.995), _member(1, 0.95, 0.98)],
        [_session((0, 2), 10.0, 8.0, 1.0)],
    ),
    _unit(
        "2/4/4",
        # seed 0 ties 2/4/2's seed 1 on validation: the first in the grid's order wins
        [_member(0, 0.95, 0.999, copies=2), _member(1, 0.80, 0.50, copies=1)],
        [_session((0, 1), 6.0, 3.0, 1.0), _session((1, 2), 4.0, 3.0, 3.0)],
    ),
]


def test_the_selection_and_the_distributions_come_from_the_members_metrics() -> None:
    entry = _entry(KNOWN)
    unit, member = selected_member(KNOWN)
    assert (unit["architecture"], member["seed"]) == ("2/4/2", 1)
    # tests 99.5, 98, 99.9, 50: median 98.75, best 99.9, two at most 1 point below 100
    assert task_distribution(entry) == Distribution(4, 98.75, 99.9, 2)
    report = render({"recipes": {"paper": {"hist": entry}}})
    summary = "| hist | 100.00 | 2/4/2, 1 | 95.00 | 98.00 | -2.00 | 98.75 | 99.90 | 2/4 (50%) "
    assert summary + "| 100% (99 positions, 7 lines) |" in report
    assert (
        "| hist | 2/4/2 | 0-1 | 98.75 | 99.50 | 1/2 (50%) | 1, 95.00, 98.00 | 0 | 0 | 5.00 |"
        in report
    )
    assert (
        "| hist | 2/4/4 | 0-1 | 74.95 | 99.90 | 1/2 (50%) | 0, 95.00, 99.90 | 0 | 3 | 5.00 |"
        in report
    )
    assert "Recipe `paper`: epochs 2, seeds 0-1, commit abc1234." in report


def test_the_estimate_scales_each_population_to_the_protocols_epochs() -> None:
    # steps 4 s/epoch x 250 + data 1 + the other 2 s once; wall 5 s/epoch x 250 + data 1
    assert estimated_seconds(KNOWN[0]) == (1003.0, 1251.0)
    # two sessions: data 2 on average, steps 3 s/epoch, the other 4 s over 2 sessions
    assert estimated_seconds(KNOWN[1]) == (754.0, 1252.0)
    line = estimate_line("paper", {"hist": _entry(KNOWN)})
    # a unit stopped past its last epoch and only finished later has no epoch to time
    late = _unit("3/4/2", [_member(0, 0.1, 0.1)], [_session((2, 2), 30.0, 0.0, 1.0)])
    with_late = estimate_line("paper", {"hist": _entry([*KNOWN, late])})
    untimed = "; 1 more trained but without a timed epoch (resumed after their last)"
    assert with_late == line.replace(" (not measured", untimed + " (not measured")
    assert (
        "| hist | 3/4/2 | 0 | 10.00 | 10.00 | 0/1 (0%) | 0, 10.00, 10.00 | 0 | 0 | - |"
        in render({"recipes": {"paper": {"hist": _entry([*KNOWN, late])}}})
    )
    # one process: 1003 + 754 + the lift's 10 s to 1251 + 1252 + 10; two: the larger share
    assert "2 of the whole protocol's 57 populations measured; at 250 epochs" in line
    assert "1 process 0.5 to 0.7 h, 2 processes 0.3 to 0.4 h" in line
    assert "not counted: reverse, double_hist, sort, most_freq, dyck1, dyck2, induction" in line


def test_recipes_column_groups_appear_for_every_recipe_recorded() -> None:
    entry = _entry(KNOWN)
    report = render({"recipes": {"paper": {"hist": entry}, "robust": {"hist": entry}}})
    assert "| paper: selected L/H/M, seed |" in report
    assert "| robust: selected L/H/M, seed |" in report
    assert "## Recipe `robust`: per configuration" in report
    # a record made before copies were counted (no recipe had exploit rounds then) shows none
    old = [{k: v for k, v in member.items() if k != "copies"} for member in KNOWN[1]["members"]]
    report = render({"recipes": {"paper": {"hist": _entry([{**KNOWN[1], "members": old}])}}})
    assert "| 0, 95.00, 99.90 | 0 | 0 | 5.00 |" in report


def test_a_units_record_counts_the_states_each_member_took_in_exploit_rounds(
    tmp_path: Path,
) -> None:
    (unit,) = plan_units(["robust"], ["hist"], [0, 1], [Architecture.split(2, 4, 2)])
    accuracy = {"val": 0.5, "test": 0.4}
    taken = [{"epoch": 10, "from_seed": 0}, {"epoch": 20, "from_seed": 0}]
    members = [
        {"seed": 0, "accuracy_argmax": accuracy, "diverged": None, "exploits": []},
        {"seed": 1, "accuracy_argmax": accuracy, "diverged": None, "exploits": taken},
    ]
    population = {"seeds": [0, 1], "selected": {"model": 0}, "sizes": {}, "members": members}
    (tmp_path / "population.json").write_text(json.dumps(population))
    record = tp_protocol.unit_record(unit, tmp_path)
    assert [member["copies"] for member in record["members"]] == [0, 2]


def _population_metrics(run_dir: Path) -> list[tuple[str, int, float, float]]:
    found = []
    for population in sorted(run_dir.glob("paper/hist/*/population.json")):
        data = json.loads(population.read_text())
        for member in data["members"]:
            accuracy = member["accuracy_argmax"]
            found.append((data["architecture"], member["seed"], accuracy["val"], accuracy["test"]))
    return found


def test_the_readme_protocol_selects_lifts_and_trains_nothing_when_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in readme.splitlines() if line.startswith(README_COMMAND)]
    args = line.split()[2:]
    monkeypatch.chdir(tmp_path)
    script = benchmark_script("tp_reproduce")
    assert script.main(args) == 0
    results = json.loads((tmp_path / "runs" / "protocol-results" / "tp_protocol.json").read_text())
    entry = results["recipes"]["paper"]["hist"]
    metrics = _population_metrics(tmp_path / "runs" / "protocol")
    assert len(metrics) == 4
    best = max(metrics, key=lambda m: m[2])  # the first of equals, in the grid's order
    assert (entry["selected"]["architecture"], entry["selected"]["seed"]) == best[:2]
    assert entry["selected"]["test"] == best[3]
    assert entry["lift"]["agreement"] == 1.0 and entry["lift"]["member"] == best[1]
    tests = [100 * m[3] for m in metrics]
    assert task_distribution(entry) == Distribution.of([m[3] for m in metrics], 100.0)
    assert task_distribution(entry).median == statistics.median(tests)
    report_file = tmp_path / "runs" / "protocol-results" / "tp_protocol.md"
    report = report_file.read_text()
    assert f"| hist | 100.00 | {best[0]}, {best[1]} |" in report
    report_file.unlink()
    render_only = ["--protocol", "paper", "--render", "--results", "runs/protocol-results"]
    assert script.main(render_only) == 0
    assert report_file.read_text() == report

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished unit was trained again")

    monkeypatch.setattr(tp_protocol, "train_population", refuse)
    assert script.main(args) == 0
    again = json.loads((tmp_path / "runs" / "protocol-results" / "tp_protocol.json").read_text())
    assert again["recipes"]["paper"]["hist"]["units"] == entry["units"]


def test_an_interrupted_unit_resumes_from_its_last_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (unit,) = plan_units(["paper"], ["hist"], [0, 1], [Architecture.split(2, 2, 2)], 2, 200)
    run_dir = tmp_path / "runs" / unit.folder
    train_population("hist", run_dir, unit.seeds, unit.arch, unit.settings, stop_after=1)
    (run_dir / "population.json").unlink()  # as if killed after its first epoch
    starts = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        starts.append(kwargs["resume"])
        return train_population(*args, **kwargs)

    monkeypatch.setattr(tp_protocol, "train_population", recording)
    args = [*TINY, "--epochs", "2", "--architectures", "2/2/2"]
    args += ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "results")]
    assert benchmark_script("tp_reproduce").main(args) == 0
    assert starts == [True]
    population = json.loads((run_dir / "population.json").read_text())
    assert population["epochs_run"] == 2
    sessions = json.loads((run_dir / tp_protocol.SESSIONS_FILE).read_text())
    assert [session["epochs"] for session in sessions] == [[1, 2]]


def test_a_unit_folder_trained_with_other_settings_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (unit,) = plan_units(["paper"], ["hist"], [0, 1], [Architecture.split(2, 2, 2)], 1, 200)
    run_dir = tmp_path / unit.folder
    train_population("hist", run_dir, unit.seeds, unit.arch, unit.settings)
    assert tp_protocol.epochs_started(run_dir, unit) is None  # finished: not trained again
    population = json.loads((run_dir / "population.json").read_text())
    population["train"]["lr"] = 0.5
    (run_dir / "population.json").write_text(json.dumps(population))
    args = [*TINY, "--epochs", "1", "--architectures", "2/2/2", "--runs", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args, "--results", str(tmp_path / "out")])
    assert benchmark_script("tp_reproduce")._main_or_error() == 1
    error = capsys.readouterr().err
    assert "trained with other settings or seeds" in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--recipe", "paper"], "--recipe goes with --protocol paper"),
        (["--protocol", "paper", "--grid"], "--grid does not apply"),
        (["--seeds", "0-2", "2"], "names a seed twice"),
        (["--seeds", "2-1"], "is not a range of seeds"),
    ],
)
def test_options_that_do_not_fit_the_protocol_are_refused(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        benchmark_script("tp_reproduce").main(["--tasks", "hist", *extra])
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_shares_the_units_out_and_process_0_writes_the_table(tmp_path: Path) -> None:
    args = [*TINY, "--epochs", "1", "--architectures", "2/4/2", "2/2/2", "2/2/4"]
    args += ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "results")]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    done = subprocess.run(
        [*torchrun, str(SCRIPT), *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads((tmp_path / "results" / "tp_protocol.json").read_text())
    units = entry["recipes"]["paper"]["hist"]["units"]
    ranks = [session["rank"] for unit in units for session in unit["sessions"]]
    assert sorted(set(ranks)) == [0, 1] and len(ranks) == 3
    assert entry["recipes"]["paper"]["hist"]["processes"] == 2
    assert entry["recipes"]["paper"]["hist"]["lift"]["agreement"] == 1.0
