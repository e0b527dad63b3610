"""Crash safety of a population (``rasp tp train --seeds``): killed with SIGKILL inside an epoch,
inside its checkpoint writers and while the members' final models are written, and resumed with
``--resume`` each time, it ends exactly as an uninterrupted run (every member's final and best
weights, the metrics, ``population.json`` and the last checkpoint, bit for bit); after every
kill each file in the folder is whole (old or new), and none is left half-written at the end."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from rasp_ir.backends.torch.checkpoint_files import pending_tensors, sha256_of_file
from rasp_ir.cli.main import main

from .test_crash_safety import _die_at, _Killed, killed_at

SEEDS = (0, 1, 5)
TRAIN = (
    "tp", "train", "hist", "--layers", "1", "--heads", "2", "--mlps", "1", "--epochs", "3",
    "--dataset-size", "300", "--batch-size", "64", "--seeds", "0,1,5", "--quiet",
)  # fmt: skip


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run every interrupted one must equal."""
    run = tmp_path_factory.mktemp("population") / "whole"
    assert main([*TRAIN, "-o", str(run)]) == 0
    return run


def _train_killed_at(run: Path, point: str | None, *extra: str) -> int:
    """``rasp tp train --seeds`` in a subprocess, killed at ``point`` (None: not killed); its
    exit status (``-SIGKILL`` when killed)."""
    return killed_at([*TRAIN, "-o", str(run), *extra], point)


def _checkpoints(run: Path) -> list[Path]:
    """Every checkpoint of the folder (without suffix): ``last`` and the members' ``model``
    and ``best``."""
    return sorted(sidecar.with_suffix("") for sidecar in run.rglob("*.json") if _sidecar(sidecar))


def _sidecar(path: Path) -> bool:
    return path.name in ("last.json", "model.json", "best.json")


def _assert_every_file_whole(run: Path) -> None:
    """Every JSON file parses, and every checkpoint's sidecar names the hash of its tensors:
    those in place, or the pending ones it committed (which a reader renames into place)."""
    for path in run.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in _checkpoints(run):
        committed = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["sha256"]
        pending = pending_tensors(path)
        found = [p for p in (path.with_suffix(".safetensors"), pending) if p.exists()]
        assert committed in [sha256_of_file(p) for p in found], path


def _without_seconds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def _assert_same_run(whole: Path, cut: Path) -> None:
    """The two folders hold the same population: tensors bit for bit, JSON equal but for the
    measured seconds; nothing half-written or pending is left in ``cut``."""
    for seed in SEEDS:
        for which in ("model", "best"):
            name = f"seed-{seed}/{which}"
            _assert_same_tensors(whole / f"{name}.safetensors", cut / f"{name}.safetensors")
            meta_whole = json.loads((whole / f"{name}.json").read_text())
            meta_cut = json.loads((cut / f"{name}.json").read_text())
            assert meta_cut["sha256"] == meta_whole["sha256"], name
            assert meta_cut.get("epoch") == meta_whole.get("epoch"), name
    _assert_same_tensors(whole / "last.safetensors", cut / "last.safetensors")
    metrics = [json.loads((run / "metrics.json").read_text())["epochs"] for run in (whole, cut)]
    assert _without_seconds(metrics[1]) == _without_seconds(metrics[0])
    summaries = [json.loads((run / "population.json").read_text()) for run in (whole, cut)]
    for summary in summaries:
        summary.pop("seconds_per_epoch")
    assert summaries[1] == summaries[0]
    left = [p for p in cut.rglob("*") if ".partial-" in p.name or p.name.endswith(".pending")]
    assert not left


def _assert_same_tensors(first: Path, second: Path) -> None:
    a, b = load_file(str(first)), load_file(str(second))
    assert a.keys() == b.keys(), first
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), (first, name)


def test_killed_in_an_epoch_and_resumed_equals_an_uninterrupted_population(
    whole: Path, tmp_path: Path
) -> None:
    """SIGKILL at step 2 of epoch 2 (a real kill, in a subprocess), then --resume."""
    cut = tmp_path / "cut"
    assert _train_killed_at(cut, "epoch2:step2") == -signal.SIGKILL
    assert json.loads((cut / "last.json").read_text())["epoch"] == 1
    assert not (cut / "population.json").exists()
    _assert_every_file_whole(cut)
    assert main([*TRAIN, "-o", str(cut), "--resume"]) == 0
    _assert_same_run(whole, cut)


@pytest.mark.slow  # six processes, ~25 s; the in-process variant below is fast
def test_killed_anywhere_and_resumed_equals_an_uninterrupted_population(
    whole: Path, tmp_path: Path
) -> None:
    """SIGKILL inside an epoch, at each step of the last checkpoint's writer, while the
    metrics are replaced and between the members' final models, resuming each time."""
    cut = tmp_path / "cut"
    kills = [
        ("epoch2:step2", (), 1),  # inside epoch 2: resuming repeats it from epoch 1's state
        ("last.safetensors.pending:written", ("--resume",), 1),  # epoch 2's save, uncommitted
        ("last:committed", ("--resume",), 2),  # committed, its tensors still pending
        ("metrics.json:written#2", ("--resume",), 3),  # epoch 3's metrics, after its last
        ("model:committed#2", ("--resume",), 3),  # the second member's final model written
    ]
    for point, extra, epoch in kills:
        assert _train_killed_at(cut, point, *extra) == -signal.SIGKILL, point
        assert json.loads((cut / "last.json").read_text())["epoch"] == epoch, point
        assert not (cut / "population.json").exists()
        _assert_every_file_whole(cut)
    assert _train_killed_at(cut, None, "--resume") == 0
    _assert_same_run(whole, cut)


def test_interrupted_anywhere_in_process_resumes_exactly(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast variant: each interruption an exception at a crash point (the members' best
    checkpoints, the last checkpoint, the metrics, the final models), each resume in-process."""
    cut = tmp_path / "cut"
    points = [
        ("epoch2:step2", ()),
        ("last.safetensors.pending:written", ("--resume",)),
        ("last.json:written", ("--resume",)),
        ("last:committed", ("--resume",)),
        ("metrics.json:written#2", ("--resume",)),
        ("model.json:written", ("--resume",)),
        ("model:committed#3", ("--resume",)),
    ]
    for point, extra in points:
        with monkeypatch.context() as patch:
            _die_at(patch, point)
            with pytest.raises(_Killed):
                main([*TRAIN, "-o", str(cut), *extra])
        _assert_every_file_whole(cut)
    assert main([*TRAIN, "-o", str(cut), "--resume"]) == 0
    _assert_same_run(whole, cut)


def test_interrupted_at_a_cull_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed (in-process) while the culled members' final models are written after epoch 2,
    and once the cut is saved; each resume repeats or continues the cut as the uninterrupted
    run made it."""
    culling = ("--cull-after", "2", "--cull-keep", "1")
    whole = tmp_path / "whole"
    assert main([*TRAIN, *culling, "-o", str(whole)]) == 0
    summary = json.loads((whole / "population.json").read_text())
    assert sum(1 for member in summary["members"] if member["culled"]) == 2
    cut = tmp_path / "cut"
    for point, extra, epoch in [
        ("model:committed#2", (), 1),  # the second culled member's model, before last's save
        ("last:committed", ("--resume",), 2),  # the cut's epoch saved, its tensors pending
        ("metrics.json:written#2", ("--resume",), 3),  # the last epoch's metrics
    ]:
        with monkeypatch.context() as patch:
            _die_at(patch, point)
            with pytest.raises(_Killed):
                main([*TRAIN, *culling, "-o", str(cut), *extra])
        assert json.loads((cut / "last.json").read_text())["epoch"] == epoch, point
        _assert_every_file_whole(cut)
    assert main([*TRAIN, *culling, "-o", str(cut), "--resume"]) == 0
    _assert_same_run(whole, cut)
