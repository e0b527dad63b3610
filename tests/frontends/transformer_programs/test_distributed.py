"""Data-parallel training under torchrun (gloo, 2 processes on CPU): it trains, and resuming
an interrupted run gives every rank its own random state back, so the result is identical to
an uninterrupted run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from rasp_ir.backends.torch.process_group import join_gloo_group
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.train import _Distributed

SCRIPT = Path(__file__).with_name("distributed_train.py")


def _launch(*args: str, processes: int = 2) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    if processes > 1:
        torchrun = ["-m", "torch.distributed.run", "--standalone"]
        command = [sys.executable, *torchrun, f"--nproc-per-node={processes}", str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _weights(run_dir: Path, which: str = "model") -> dict[str, torch.Tensor]:
    model, _, _ = checkpoint.load(run_dir / which)
    return model.state_dict()


def test_torchrun_resume_reproduces_an_uninterrupted_run(tmp_path: Path) -> None:
    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    assert _launch(str(whole)).returncode == 0
    assert _launch(str(interrupted), "--stop-after", "1").returncode == 0
    _, _, extra = checkpoint.load(interrupted / "last")
    assert not torch.equal(extra["rng.torch.0"], extra["rng.torch.1"])
    resumed = _launch(str(interrupted), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    for which in ("model", "best"):
        expected, got = _weights(whole, which), _weights(interrupted, which)
        for name, tensor in expected.items():
            assert torch.equal(tensor, got[name]), f"{which}: {name}"


def test_resume_with_another_number_of_processes_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert _launch(str(run_dir), "--stop-after", "1").returncode == 0
    refused = _launch(str(run_dir), "--resume", processes=1)
    assert refused.returncode == 1
    assert "saved by 2 training process(es), this run has 1" in refused.stderr
    assert "torchrun --nproc-per-node 2" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_torchrun_trains_a_model_with_every_kind_of_module(tmp_path: Path) -> None:
    done = _launch(str(tmp_path / "run"), "--every-kind")
    assert done.returncode == 0, done.stderr
    assert "find_unused_parameters=True was specified" not in done.stderr
    assert checkpoint.load(tmp_path / "run" / "model")[1].config.n_cat_mlps == 1
    # each process destroyed the group the run created before returning (not left to exit)
    assert done.stdout.count("process group open after training: False") == 2, done.stdout
    if Path("/proc/self/task").is_dir():  # and none of gloo's threads is left running
        assert done.stdout.count("gloo threads after training: 0") == 2, done.stdout


def test_torchrun_averages_several_draws_and_resumes_them_exactly(tmp_path: Path) -> None:
    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    assert _launch(str(whole), "--draws", "2").returncode == 0
    assert _launch(str(interrupted), "--draws", "2", "--stop-after", "1").returncode == 0
    resumed = _launch(str(interrupted), "--draws", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    expected, got = _weights(whole), _weights(interrupted)
    for name, tensor in expected.items():
        assert torch.equal(tensor, got[name]), name
    assert checkpoint.load(whole / "model")[1].meta["train"]["gumbel_samples"] == 2


def test_a_process_group_the_caller_made_is_left_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training under a group its caller already initialised waits at the end but does not
    destroy that group: it is the caller's to close."""
    store = f"file://{tmp_path / 'store'}"
    join_gloo_group(init_method=store, rank=0, world_size=1)
    try:
        monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun: the run takes part in it
        parallel = _Distributed(data_parallel=True)
        assert not parallel.owns_group
        parallel.close()
        assert dist.is_initialized()
    finally:
        dist.destroy_process_group()
