"""The attention benchmark runs end to end on one tiny shape (no torch.compile, no GPU): one
row, the fused column empty without CUDA, both reports written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from .scripts import benchmark_script


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the benchmark times the kernel")
def test_a_tiny_benchmark_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = torch.get_num_threads()
    argv = ["--batch", "4", "--n", "5", "--k", "3", "--heads", "2", "--repeats", "2"]
    try:
        benchmark_script("kernels").main(
            [*argv, "--warmup", "0", "--no-compile", "--results", str(tmp_path)]
        )
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "kernels.json").read_text())
    assert report["device"] == "CPU (no fused kernel)"
    (row,) = report["rows"]
    assert (row["batch"], row["n"], row["k"], row["heads"]) == (4, 5, 3, 2)
    assert row["eager_ms"] > 0 and "fused_ms" not in row
    markdown = (tmp_path / "kernels.md").read_text()
    assert "| 4 | 5 | 3 | 2 |" in markdown and "| n/a | n/a | n/a | n/a |" in markdown
    assert markdown.split("\n\n", 1)[1] in capsys.readouterr().out
