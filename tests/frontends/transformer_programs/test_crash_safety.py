"""Crash safety: ``rasp tp train`` killed (SIGKILL) inside an epoch and inside its checkpoint
writer resumes to exactly the model of an uninterrupted run, and a checkpoint interrupted at
any point of its write reads back whole, old or new, never half."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rasp_ir.backends.torch import checkpoint_files, tensor_files
from rasp_ir.backends.torch.crash_points import KILL_AT
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs import checkpoint, population_train
from rasp_ir.frontends.transformer_programs import train as train_module

from .conftest import random_model

TRAIN = (
    "tp", "train", "hist", "--layers", "1", "--heads", "2", "--mlps", "1", "--epochs", "3",
    "--dataset-size", "300", "--batch-size", "64", "--seed", "5", "--quiet",
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[3]


def killed_at(command: Sequence[str], point: str | None) -> int:
    """``rasp COMMAND`` in a subprocess, killed at the crash point ``point`` (None: not
    killed); its exit status (``-SIGKILL`` when killed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop(KILL_AT, None)
    if point is not None:
        env[KILL_AT] = point
    argv = [sys.executable, "-m", "rasp_ir.cli.main", *command]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def _train_killed_at(run: Path, point: str | None, *extra: str) -> int:
    """``rasp tp train`` in a subprocess, killed at ``point`` (None: not killed)."""
    return killed_at([*TRAIN, "-o", str(run), *extra], point)


def _epochs(run: Path) -> list[dict[str, object]]:
    rows = json.loads((run / "metrics.json").read_text())["epochs"]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def _same_run(whole: Path, cut: Path) -> None:
    """The final models are equal bit for bit, and so are the epochs' metrics (but seconds)."""
    final_whole = load_file(str(whole / "model.safetensors"))
    final_cut = load_file(str(cut / "model.safetensors"))
    assert final_whole.keys() == final_cut.keys()
    for name, tensor in final_whole.items():
        assert torch.equal(tensor, final_cut[name]), name
    assert _epochs(cut) == _epochs(whole)
    assert not list(cut.glob(".*.partial-*")) and not list(cut.glob("*.pending"))


def test_killed_inside_the_checkpoint_writer_and_resumed_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """SIGKILL after epoch 2's checkpoint is committed, before its tensors are in place."""
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*TRAIN, "-o", str(whole)]) == 0
    assert _train_killed_at(cut, "last:committed#2") == -signal.SIGKILL
    assert (cut / "last.safetensors.pending").exists()
    assert main([*TRAIN, "-o", str(cut), "--resume"]) == 0
    _same_run(whole, cut)


@pytest.mark.slow
def test_killed_anywhere_and_resumed_training_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """SIGKILL inside an epoch, then at each step of the checkpoint writer, resuming each
    time (one process per kill: slow; the in-process variant below is fast)."""
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*TRAIN, "-o", str(whole)]) == 0
    # inside epoch 2, before its checkpoint: resuming repeats epoch 2 from last (epoch 1)
    assert _train_killed_at(cut, "epoch2:step2") == -signal.SIGKILL
    assert json.loads((cut / "last.json").read_text())["epoch"] == 1
    # inside the checkpoint writer: new tensors written, not yet committed (epoch 2's save)
    assert _train_killed_at(cut, "last.safetensors.pending:written", "--resume") < 0
    assert json.loads((cut / "last.json").read_text())["epoch"] == 1
    # committed, the pending tensors not yet renamed into place (epoch 2's save)
    assert _train_killed_at(cut, "last:committed", "--resume") < 0
    assert json.loads((cut / "last.json").read_text())["epoch"] == 2
    assert (cut / "last.safetensors.pending").exists()
    # while metrics.json is replaced (epoch 3's save, after last is committed)
    assert _train_killed_at(cut, "metrics.json:written#1", "--resume") < 0
    assert _train_killed_at(cut, None, "--resume") == 0
    _same_run(whole, cut)


class _Killed(Exception):
    """Stands for the process dying at a crash point."""


def _die_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    """Make every crash point raise :class:`_Killed` at the passage ``point`` (``NAME#K``)."""
    passed: dict[str, int] = {}
    wanted, _, count = point.partition("#")

    def die_at(name: str) -> None:
        passed[name] = passed.get(name, 0) + 1
        if name == wanted and passed[name] == int(count or 1):
            raise _Killed(point)

    for module in (checkpoint_files, tensor_files, train_module, population_train):
        monkeypatch.setattr(module, "crash_point", die_at)


def test_interrupted_anywhere_in_process_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast variant: each interruption an exception at a crash point, each resume
    in-process."""
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*TRAIN, "-o", str(whole)]) == 0
    points = [
        ("epoch2:step2", []),
        ("last.safetensors.pending:written", ["--resume"]),
        ("last.json:written", ["--resume"]),
        ("last:committed", ["--resume"]),
        ("metrics.json:written", ["--resume"]),
        ("model:committed", ["--resume"]),
    ]
    for point, extra in points:
        with monkeypatch.context() as patch:
            _die_at(patch, point)
            with pytest.raises(_Killed):
                main([*TRAIN, "-o", str(cut), *extra])
    assert main([*TRAIN, "-o", str(cut), "--resume"]) == 0
    _same_run(whole, cut)


@pytest.mark.parametrize(
    ("point", "expect_new"),
    [
        ("ckpt.safetensors.pending:written", False),  # new tensors complete, not renamed
        ("ckpt.json:written", False),  # the sidecar complete, not renamed: not committed
        ("ckpt:committed", True),  # committed, tensors still pending
    ],
)
def test_a_checkpoint_interrupted_while_written_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str, expect_new: bool
) -> None:
    path = tmp_path / "ckpt"
    old, new = random_model(1, (1, 1, 1, 1, 1)), random_model(2, (1, 1, 1, 1, 1))
    checkpoint.save(path, old, {"which": "old"})

    _die_at(monkeypatch, point)
    with pytest.raises(_Killed):
        checkpoint.save(path, new, {"which": "new"})
    loaded, info, _ = checkpoint.load(path)
    expected = new if expect_new else old
    assert info.meta["which"] == ("new" if expect_new else "old")
    for name, tensor in expected.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert not (tmp_path / "ckpt.safetensors.pending").exists() or not expect_new


def test_a_truncated_pending_file_is_never_taken_for_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ckpt"
    checkpoint.save(path, random_model(1, (1, 1, 1, 1, 1)), {"which": "old"})
    (tmp_path / "ckpt.safetensors.pending").write_bytes(b"half a file")
    _, info, _ = checkpoint.load(path)
    assert info.meta["which"] == "old"
