"""The compiled-sizes benchmark compiles every example and writes both reports, tracr's sizes
beside ours and the load quoted."""

from __future__ import annotations

import json
from pathlib import Path

from .scripts import benchmark_script

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compile_sizes.py"


def test_every_example_is_compiled_and_both_reports_are_written(tmp_path: Path) -> None:
    benchmark_script("compile_sizes").main(["--results", str(tmp_path)])
    report = json.loads((tmp_path / "compile_sizes.json").read_text())
    examples = sorted(p.stem for p in (SCRIPT.parents[1] / "examples").glob("*.rasp"))
    assert [row["program"] for row in report["rows"]] == examples
    assert "load average" in report["load_before"]
    reverse = next(row for row in report["rows"] if row["program"] == "reverse")
    assert reverse["tracr"]["mlp_width"] == 30
    assert "Load (`uptime`) before" in (tmp_path / "compile_sizes.md").read_text()
