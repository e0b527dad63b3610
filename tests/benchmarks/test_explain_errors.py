"""The error-attribution benchmark runs end to end on a tiny setting: both ways blame the same
units with the same counts, and the JSON and Markdown reports are written."""

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
    argv = ["--task", "hist", "--epochs", "1", "--dataset-size", "300", "--repeats", "1"]
    try:
        benchmark_script("explain_errors").main([*argv, "--results", str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "explain_errors.json").read_text())
    assert report["same_blame"] is True
    assert report["task"] == "hist" and report["test_inputs"] > 0
    markdown = (tmp_path / "explain_errors.md").read_text()
    assert markdown.startswith("# Error attribution speed: hist after 1 epochs")
    assert markdown in capsys.readouterr().out
