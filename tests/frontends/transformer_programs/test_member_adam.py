"""Adam per member: each member's slice updated bit for bit as ``torch.optim.Adam`` updates that
member's own parameter, with its own learning rate, and reset alone as a new optimiser starts."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.member_adam import MemberAdam


def test_each_member_steps_as_torch_adam_on_its_own_parameter() -> None:
    torch.manual_seed(0)
    stacked = torch.randn(3, 4, 5).requires_grad_()
    alone = [stacked[i].detach().clone().requires_grad_() for i in range(3)]
    rates = [0.05, 0.02, 0.001]
    torch_adams = [torch.optim.Adam([p], lr=lr) for p, lr in zip(alone, rates, strict=True)]
    adam = MemberAdam({"w": stacked}, 3)
    for step in range(60):
        # Gradients from 1e-6 to 1e3, a different scale per member.
        grad = torch.randn(3, 4, 5) * 10.0 ** torch.randint(-6, 4, (3, 1, 1)).float()
        if step == 30:  # member 1 starts again: moments and step count
            adam.reset(1)
            torch_adams[1] = torch.optim.Adam([alone[1]], lr=rates[1])
        stacked.grad = grad.clone()
        adam.step(rates)
        for member, (parameter, optimiser) in enumerate(zip(alone, torch_adams, strict=True)):
            parameter.grad = grad[member].clone()
            optimiser.step()
    for member in range(3):
        assert torch.equal(stacked[member].detach(), alone[member].detach())
    assert adam.steps == [60, 30, 60]


def test_the_state_saves_and_restores(tmp_path: object) -> None:
    torch.manual_seed(1)
    weights = torch.randn(2, 3).requires_grad_()
    adam = MemberAdam({"w": weights}, 2)
    weights.grad = torch.randn(2, 3)
    adam.step([0.1, 0.1])
    adam.reset(0)
    saved = {k: v.clone() for k, v in adam.state_tensors().items()}
    again = MemberAdam({"w": weights}, 2)
    again.restore(saved, "last.json")
    assert again.steps == [0, 1]
    assert torch.equal(again.exp_avg["w"], adam.exp_avg["w"])
    assert torch.equal(again.exp_avg_sq["w"], adam.exp_avg_sq["w"])


def test_torch_adams_saved_state_gives_every_member_its_step_count() -> None:
    weights = torch.zeros(2, 3).requires_grad_()
    saved = {
        "optim.w.step": torch.tensor(7.0),
        "optim.w.exp_avg": torch.ones(2, 3),
        "optim.w.exp_avg_sq": torch.ones(2, 3),
    }
    adam = MemberAdam({"w": weights}, 2)
    adam.restore(saved, "last.json")
    assert adam.steps == [7, 7]


def test_a_state_of_another_shape_is_refused() -> None:
    adam = MemberAdam({"w": torch.zeros(2, 3).requires_grad_()}, 2)
    with pytest.raises(RaspError, match=r"last\.json: no usable optimiser state"):
        adam.restore({"optim.w.exp_avg": torch.ones(3, 3)}, "last.json")
