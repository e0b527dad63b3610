"""The large-programs benchmark runs end to end on tiny sizes: every shape parses and checks,
the growth column is relative to the smallest size, and both reports are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .scripts import benchmark_script


def test_a_tiny_benchmark_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmark_script("large_programs").main(["--sizes", "20", "40", "--results", str(tmp_path)])
    report = json.loads((tmp_path / "large_programs.json").read_text())
    rows = report["results"]
    assert [(row["shape"], row["size"]) for row in rows] == [
        (shape, size) for shape in ("chain", "wide", "table", "line", "vocab") for size in (20, 40)
    ]
    assert all(row["parse_growth"] == 1.0 for row in rows if row["size"] == 20)
    markdown = (tmp_path / "large_programs.md").read_text()
    assert markdown.startswith("# Large programs: parse and check time against size")
    assert "load before: `" in markdown
    assert markdown.split("\n\n")[-1].strip() in capsys.readouterr().out


def test_the_commands_are_timed_on_request(tmp_path: Path) -> None:
    benchmark_script("large_programs").main(
        ["--sizes", "5", "--shapes", "chain", "--commands", "--results", str(tmp_path)]
    )
    [row] = json.loads((tmp_path / "large_programs.json").read_text())["results"]
    assert set(row["commands_s"]) == {"check", "fmt", "run", "graph", "compile"}
