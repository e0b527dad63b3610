"""The verification-throughput benchmark runs end to end on a tiny space: one row per way, the
baseline first at ratio 1, the JSON and Markdown reports written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from .scripts import benchmark_script


def test_a_tiny_benchmark_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = torch.get_num_threads()
    argv = ["--vocab-size", "2", "--max-len", "3", "--subset", "5", "--repeats", "1"]
    try:
        benchmark_script("verify_throughput").main(
            [*argv, "--device", "cpu", "--results", str(tmp_path)]
        )
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "verify_throughput.json").read_text())
    assert report["settings"]["inputs"] == 15
    assert report["settings"]["device"] == "CPU (torch reference ops)"
    ways = [row["way"] for row in report["rows"]]
    assert ways[0] == "interpreter, lists" and "triton backend, space" in ways
    assert report["rows"][0]["ratio"] == report["rows"][0]["cpu_ratio"] == 1.0
    assert all(row["cpu_seconds"] >= 0 for row in report["rows"])
    assert [row["inputs"] for row in report["rows"]][2:4] == [5, 5]
    markdown = (tmp_path / "verify_throughput.md").read_text()
    assert markdown.startswith("# Exhaustive verification throughput")
    assert markdown.split("\n\n", 1)[1] in capsys.readouterr().out
