"""The Transformer Program trained through the fused attention kernels (categorical and
numerical heads): one relaxed forward and backward equal to the torch reference's on the same
seed (the same Gumbel draws), under the Triton interpreter on a CPU; and ``--attention-impl
triton`` refused where it cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rasp_ir.cli.main import main
from tests.frontends.transformer_programs.conftest import random_model

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _step(impl: str, mode: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model = random_model(3, (1, 1, 1, 1, 0), causal=True).to(DEVICE)
    model.set_sampling(tau=0.5, mode=mode)  # type: ignore[arg-type]
    model.attention_impl = impl  # type: ignore[assignment]
    tokens = torch.tensor([[5, 1, 2, 3, 4, 0], [5, 3, 3, 1, 2, 4]], device=DEVICE)
    torch.manual_seed(11)
    logits = model(tokens)
    loss = logits.log_softmax(-1)[..., 1].sum()
    grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    return logits, [g if g is not None else torch.zeros(()) for g in grads]


@pytest.mark.parametrize("mode", ["gumbel_soft", "softmax"])
def test_a_training_step_through_the_kernel_equals_the_reference(mode: str) -> None:
    want_logits, want_grads = _step("torch", mode)
    got_logits, got_grads = _step("triton", mode)
    torch.testing.assert_close(got_logits, want_logits, rtol=1e-4, atol=1e-4)
    for got, want in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the kernel runs on CUDA")
def test_the_kernel_is_refused_without_cuda_or_the_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    args = ["tp", "train", "hist", "-o", str(tmp_path / "run"), "--attention-impl", "triton"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "--attention-impl triton needs a CUDA device" in err
    assert not (tmp_path / "run").exists()
