"""``rasp mips train``: options reach the run, the output reports every seed's whole-test-split
accuracy and verdict, bad options are refused."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.cli.main import main
from rasp_ir.frontends.mips import checkpoint
from rasp_ir.frontends.mips.train_cmds import register_train_commands

torch.set_num_threads(1)


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    register_train_commands(commands)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_training_prints_each_seeds_whole_test_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "Parity_All", "-o", str(tmp_path), "--hidden", "2", "--steps", "300"]
    argv += ["--batch-size", "256", "--lr", "0.01", "--dataset-size", "2000", "--quiet"]
    assert _run([*argv, "--seed", "1", "--seeds", "2", "--eval-every", "150"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"seed 1: test accuracy 1.000000 on all 200 test sequences, perfect -> "
        f"{tmp_path}/seed-1/model.safetensors",
        f"seed 2: test accuracy 1.000000 on all 200 test sequences, perfect -> "
        f"{tmp_path}/seed-2/model.safetensors",
        lines[-1],
    ]
    assert lines[-1].startswith("2 of 2 seed(s) perfect in ")
    model, meta = checkpoint.load(tmp_path / "seed-2" / "model")
    assert model.config.hidden_dim == 2 and meta["settings"]["lr"] == 0.01
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["seeds"] == [1, 2]
    assert [entry["step"] for entry in metrics["history"]] == [150, 300]


def test_an_imperfect_run_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "Prev1", "-o", str(tmp_path), "--hidden", "1", "--hidden-depth", "1"]
    argv += ["--steps", "2", "--batch-size", "8", "--dataset-size", "100", "--quiet"]
    assert _run(argv) == 0
    first, last = capsys.readouterr().out.splitlines()
    assert first.startswith("seed 0: test accuracy ") and ", not perfect -> " in first
    assert first.endswith(f"{tmp_path}/model.safetensors")
    assert last.startswith("0 of 1 seed(s) perfect in ")


def test_bad_options_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _run(["train", "Parity_All", "-o", str(tmp_path), "--hidden", "0"])
    assert "must be 1 or more, not 0" in capsys.readouterr().err
    with pytest.raises(RaspError, match="unknown MIPS task"):
        _run(["train", "Parity_Al", "-o", str(tmp_path)])
    if not torch.cuda.is_available():
        with pytest.raises(RaspError, match="no CUDA device"):
            _run(["train", "Parity_All", "-o", str(tmp_path), "--device", "cuda"])


def test_training_commands_set_the_thread_count(tmp_path: Path) -> None:
    before = torch.get_num_threads()
    try:
        command = ["mips", "train", "Parity_All", "-o", str(tmp_path), "--steps", "5"]
        assert main([*command, "--dataset-size", "200", "--threads", "2", "--quiet"]) == 0
        assert torch.get_num_threads() == 2
        assert main([*command, "--dataset-size", "200", "--quiet"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
