"""benchmarks/mips_suite.py runs the suite on one task with a tiny budget and writes its table
with the anchor's columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .scripts import benchmark_script


def test_the_suite_benchmark_writes_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    arguments = ["--tasks", "Bitwise_Not", "--work", str(tmp_path / "work"), "--steps", "600"]
    arguments += ["--dataset-size", "2000", "--seeds", "2", "--results", str(results)]
    benchmark_script("mips_suite").main(arguments)
    report: dict[str, Any] = json.loads((results / "mips_suite.json").read_text())
    (row,) = report["rows"]
    assert row["task"] == "Bitwise_Not" and row["solved"] == "yes"
    assert (row["gpt4"], row["gpt4_strict"], row["mips_inferred"]) == ("yes", "yes", "yes")
    table = (results / "mips_suite.md").read_text()
    assert "**1 of 1 tasks solved**" in table and "| Bitwise_Not | yes |" in table
    assert "Load before:" in table and "Bitwise_Not: solved" in capsys.readouterr().out
