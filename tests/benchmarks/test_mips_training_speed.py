"""The MIPS training-speed benchmark runs end to end on a tiny setting: both ways train the
same seeds, and the JSON and Markdown reports are written with one row per batch size."""

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
    argv = ["--seeds", "2", "--steps", "3", "--batch-sizes", "8", "16"]
    try:
        benchmark_script("mips_training_speed").main(
            [*argv, "--dataset-size", "100", "--results", str(tmp_path)]
        )
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "mips_training_speed.json").read_text())
    assert [row["batch_size"] for row in report["rows"]] == [8, 16]
    assert report["seeds"] == 2 and report["torch_threads"] == 1
    assert all(len(row["sequential_accuracy"]) == 2 for row in report["rows"])
    markdown = (tmp_path / "mips_training_speed.md").read_text()
    assert markdown.startswith("# MIPS training speed: 2 seeds batched vs sequential (CPU)")
    assert markdown in capsys.readouterr().out
