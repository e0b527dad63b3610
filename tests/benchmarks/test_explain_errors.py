"""The error-attribution benchmark runs end to end on a tiny setting: both ways blame the same
units with the same counts, and the JSON and Markdown reports are written."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "explain_errors.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("explain_errors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_benchmark_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    threads = torch.get_num_threads()
    argv = ["--task", "hist", "--epochs", "1", "--dataset-size", "300", "--repeats", "1"]
    try:
        _script().main([*argv, "--results", str(tmp_path)])
    finally:
        torch.set_num_threads(threads)
    report = json.loads((tmp_path / "explain_errors.json").read_text())
    assert report["same_blame"] is True
    assert report["task"] == "hist" and report["test_inputs"] > 0
    markdown = (tmp_path / "explain_errors.md").read_text()
    assert markdown.startswith("# Error attribution speed: hist after 1 epochs")
    assert markdown in capsys.readouterr().out
