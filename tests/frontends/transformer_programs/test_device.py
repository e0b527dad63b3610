"""``rasp tp train --device``: where training runs, refused where it cannot; on CUDA one
optimiser step equals the CPU's within float tolerance (plain softmax sampling: no random
draws, which differ between the two generators)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs.train import backpropagate, training_device

from .conftest import random_model

NO_CUDA = not torch.cuda.is_available()


def test_auto_is_cuda_where_there_is_one_and_the_cpu_elsewhere() -> None:
    assert training_device("auto") == torch.device("cpu" if NO_CUDA else "cuda")
    assert training_device("cpu") == torch.device("cpu")
    with pytest.raises(RaspError, match="unknown device 'tpu'"):
        training_device("tpu")


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
def test_cuda_is_refused_without_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tp", "train", "hist", "-o", str(tmp_path / "run"), "--device", "cuda"]) == 1
    assert "--device cuda: torch sees no CUDA device" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_cuda_is_refused_under_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RaspError, match="under torchrun is not supported"):
        training_device("cuda")
    assert training_device("cuda", data_parallel=False) == torch.device("cuda")


@pytest.mark.skipif(NO_CUDA, reason="needs a CUDA device")
def test_a_step_on_cuda_equals_the_step_on_the_cpu() -> None:
    cpu = random_model(4, (2, 2, 1, 1, 1), causal=True)
    cpu.set_sampling(tau=0.5, mode="softmax")
    gpu = copy.deepcopy(cpu).to("cuda")
    tokens = torch.tensor([[5, 1, 2, 3, 4, 0], [5, 3, 3, 1, 2, 4]])
    targets = torch.tensor([[0, 1, 2, 3, 1, 0], [0, 2, 2, 1, 3, 1]])
    steps = []
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        loss = backpropagate(model, tokens.to(device), targets.to(device), ["softmax"])
        optimizer.step()
        steps.append((loss, [p.detach().cpu() for p in model.parameters()]))
    (cpu_loss, cpu_params), (gpu_loss, gpu_params) = steps
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-5)
    for a, b in zip(gpu_params, cpu_params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
