"""The MIPS lift benchmark runs end to end on one small machine at one length: the row has
every field, the certificate and the compiled transformer agree, and both reports are written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from .scripts import benchmark_script


def _run(tmp_path: Path, *argv: str) -> dict[str, Any]:
    threads = torch.get_num_threads()
    try:
        benchmark_script("mips_lift").main([*argv, "--samples", "20", "--results", str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    report: dict[str, Any] = json.loads((tmp_path / "mips_lift.json").read_text())
    return report


def test_one_small_machine_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(tmp_path, "--machines", "parity", "--max-len", "6")
    assert report["torch_threads"] == 1 and report["lift_repeats"] == 3
    [row] = report["rows"]
    assert row["machine"] == "parity" and row["max_len"] == 6
    assert row["construction"] == "counts" and row["attention_layers"] >= 1
    assert row["lift_seconds"] > 0 and row["certificate_agreement"] == 1.0
    compiled = row["torch"]
    assert compiled["status"] == "compiled"
    assert compiled["mismatches"] == 0 and compiled["verified_inputs"] == 20
    for key in ("layers", "heads", "d_model", "mlp_width", "parameters", "compile_seconds"):
        assert compiled[key] > 0
    markdown = (tmp_path / "mips_lift.md").read_text()
    assert markdown.startswith("# MIPS lift:")
    assert "| parity | 6 | counts |" in markdown and "| 0/20 |" in markdown
    assert "Load before:" in markdown
    assert markdown in capsys.readouterr().out


def test_a_machine_over_the_budget_is_reported_as_skipped(tmp_path: Path) -> None:
    report = _run(tmp_path, "--machines", "parity", "--max-len", "6", "--max-d-model", "5")
    [row] = report["rows"]
    assert row["torch"]["status"] == "skipped (budget)"
    assert "skipped (budget)" in (tmp_path / "mips_lift.md").read_text()


def test_the_suite_mode_measures_every_solved_task_at_t_and_4t(tmp_path: Path) -> None:
    machines = Path(__file__).resolve().parents[2] / "examples" / "machines"
    solved = tmp_path / "suite" / "Parity_All"
    solved.mkdir(parents=True)
    (solved / "machine.json").write_text((machines / "parity.json").read_text())
    shape = {"n_layers": 1, "n_heads": 1, "d_model": 17, "d_mlp": 21}
    (solved / "result.json").write_text(json.dumps({"solved": True, "transformer": shape}))
    unsolved = tmp_path / "suite" / "Evens_Counter"
    unsolved.mkdir()
    (unsolved / "result.json").write_text(json.dumps({"solved": False, "failed_stage": "search"}))
    threads = torch.get_num_threads()
    try:
        benchmark_script("mips_lift").main(
            ["--suite", str(tmp_path / "suite"), "--results", str(tmp_path)]
        )
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "mips_lift_suite.json").read_text())
    assert [(r["task"], r["max_len"]) for r in report["rows"]] == [
        ("Parity_All", 10),
        ("Parity_All", 40),
    ]
    for row in report["rows"]:
        assert row["construction"] == "counts" and row["program_agreement"] == 1.0
        compiled = row["torch"]
        assert compiled["status"] == "compiled" and compiled["disagreements"] == 0
        assert compiled["positions"] > 0 and compiled["parameters"] > 0
    markdown = (tmp_path / "mips_lift_suite.md").read_text()
    assert "1 solved tasks, 2 rows; 2 compiled, 2 with every position agreeing." in markdown
    assert "| Parity_All | 40 | counts | 1 |" in markdown
    assert "1x1, d_model 17, MLP 21 |" in markdown


def test_the_suite_results_stem_defaults_to_mips_lift_suite() -> None:
    arguments = benchmark_script("mips_lift")._arguments
    assert arguments(["--suite", "runs"]).name == "mips_lift_suite"
    assert arguments(["--suite", "runs", "--name", "mips_lift_new"]).name == "mips_lift_new"
