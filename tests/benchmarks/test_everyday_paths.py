"""The everyday-paths benchmark runs end to end on tiny settings and writes both reports, with
a baseline beside every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from .scripts import benchmark_script

TINY = ["--calls", "20", "--naive-inputs", "5", "--repeats", "1", "--torch-batch", "20"]
NO_COMPILE = "--no-torch-compile"


def _run(tmp_path: Path, sections: list[str], *extra: str) -> dict[str, object]:
    threads = torch.get_num_threads()
    try:
        argv = [*TINY, *extra, "--sections", *sections, "--results", str(tmp_path)]
        benchmark_script("everyday_paths").main(argv)
    finally:
        torch.set_num_threads(threads)
    report: dict[str, object] = json.loads((tmp_path / "everyday_paths.json").read_text())
    return report


def test_in_process_sections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _run(tmp_path, ["one_input", "torch_models"], "--length", "4", NO_COMPILE)
    one, models = report["one_input"], report["torch_models"]
    assert isinstance(one, dict) and isinstance(models, dict)
    assert [row["program"] for row in one["rows"]] == ["sort", "hist", "reverse"]
    assert all(row["vs_interpret"] > 0 and row["vs_naive"] > 0 for row in one["rows"])
    assert [row["program"] for row in models["rows"]] == ["sort", "sort_unique", "hist", "reverse"]
    markdown = (tmp_path / "everyday_paths.md").read_text()
    assert "## One input per call (load average " in markdown
    assert "## rasp run" not in markdown
    assert markdown in capsys.readouterr().out
    for row in models["rows"]:
        assert row["encode_cpu_ms"] > 0 and row["plan_cpu_ms"] > 0
        assert "compiled_plan_inputs_per_s_1_thread" not in row
    assert "| program | run() ms | encode ms | plan forward ms | rest ms |" in markdown


@pytest.mark.slow
def test_the_forward_plan_under_torch_compile(tmp_path: Path) -> None:
    report = _run(tmp_path, ["torch_models"], "--length", "3")
    models = report["torch_models"]
    assert isinstance(models, dict)
    for row in models["rows"]:
        assert row["compiled_plan_inputs_per_s_1_thread"] > 0 and row["compile_warm_up_s"] > 0


@pytest.mark.slow
def test_command_sections(tmp_path: Path) -> None:
    report = _run(tmp_path, ["batch_run", "verify"], "--batch-inputs", "50", "--verify-len", "2")
    batch, verify = report["batch_run"], report["verify"]
    assert isinstance(batch, dict) and isinstance(verify, dict)
    assert [row["inputs"] for row in batch["rows"]] == [50, 50, 50]
    assert verify["inputs"] == 31
    assert verify["command"] == (
        "rasp verify examples/sort.rasp --backend torch --exhaustive --max-len 2 --vocab a,b,c,d,e"
    )


def test_sections_left_out_keep_their_previous_results(tmp_path: Path) -> None:
    first = _run(tmp_path, ["torch_models"], "--length", "3", NO_COMPILE)
    second = _run(tmp_path, ["one_input"], "--length", "3")
    assert second["torch_models"] == first["torch_models"]
    assert isinstance(second["one_input"], dict)
    markdown = (tmp_path / "everyday_paths.md").read_text()
    assert "## One input per call" in markdown and "## Compiled torch model" in markdown
    models = second["torch_models"]
    assert isinstance(models, dict)
    assert all(row["plan_forward_inputs_per_s_1_thread"] > 0 for row in models["rows"])
