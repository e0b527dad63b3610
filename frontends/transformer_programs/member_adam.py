"""Adam for a population: stacked parameters (a leading member axis) in; each member updated as
``torch.optim.Adam`` (betas 0.9 and 0.999, eps 1e-8, no weight decay, the settings training
uses) would update that member's own parameters, bit for bit, with its own step count and
learning rate, so that one member's state can be reset alone (a restart, :mod:`.collapse`) or
copied from another's (:mod:`.exploit`).

Adam is elementwise: a member's slice sees the same float32 operations, in the same order, as
one model's parameter does under torch's single-tensor Adam; the per-member scalars (the step
size ``lr / (1 - beta1^t)`` and ``sqrt(1 - beta2^t)``) are computed in double precision, as
torch computes them from Python floats, and rounded to float32 as its kernels round them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from rasp_ir.api import RaspError

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
STEPS_KEY = "optim.member_steps"


class MemberAdam:
    """Adam over named stacked parameters of ``members`` members: each member's step count
    (:attr:`steps`) and, per step, its learning rate."""

    def __init__(self, parameters: dict[str, Tensor], members: int) -> None:
        self.parameters = parameters
        self.steps = [0] * members
        self.exp_avg = {name: torch.zeros_like(p) for name, p in parameters.items()}
        self.exp_avg_sq = {name: torch.zeros_like(p) for name, p in parameters.items()}

    def zero_grad(self) -> None:
        """Drop the parameters' gradients (as ``torch.optim.Optimizer.zero_grad`` does)."""
        for parameter in self.parameters.values():
            parameter.grad = None

    @torch.no_grad()
    def step(self, rates: Sequence[float]) -> None:
        """One Adam step of every member from the parameters' gradients, member ``i`` at
        learning rate ``rates[i]``."""
        self.steps = [count + 1 for count in self.steps]
        device = next(iter(self.parameters.values())).device
        step_size = torch.tensor(
            [lr / (1 - BETA1**count) for lr, count in zip(rates, self.steps, strict=True)],
            dtype=torch.float32,
            device=device,
        )
        correction = torch.tensor(
            [(1 - BETA2**count) ** 0.5 for count in self.steps], dtype=torch.float32, device=device
        )
        for name, parameter in self.parameters.items():
            grad = parameter.grad
            if grad is None:
                continue
            shape = (-1,) + (1,) * (parameter.dim() - 1)
            exp_avg, exp_avg_sq = self.exp_avg[name], self.exp_avg_sq[name]
            exp_avg.lerp_(grad, 1 - BETA1)
            exp_avg_sq.mul_(BETA2).addcmul_(grad, grad, value=1 - BETA2)
            denom = (exp_avg_sq.sqrt() / correction.view(shape)).add_(EPS)
            parameter.sub_(step_size.view(shape) * exp_avg / denom)

    @torch.no_grad()
    def reset(self, member: int) -> None:
        """Forget member ``member``'s moments and step count (as a new optimiser would)."""
        self.steps[member] = 0
        for name in self.parameters:
            self.exp_avg[name][member] = 0.0
            self.exp_avg_sq[name][member] = 0.0

    @torch.no_grad()
    def copy_member(self, recipient: int, donor: int) -> None:
        """Give member ``recipient`` member ``donor``'s moments and step count (a copy of its
        training state, :mod:`.exploit`)."""
        self.steps[recipient] = self.steps[donor]
        for name in self.parameters:
            self.exp_avg[name][recipient] = self.exp_avg[name][donor]
            self.exp_avg_sq[name][recipient] = self.exp_avg_sq[name][donor]

    @torch.no_grad()
    def keep(self, members: Sequence[int], parameters: dict[str, Tensor]) -> None:
        """Go on with the members at positions ``members`` only (in that order), whose stacked
        ``parameters`` are now those given (:meth:`~.population.Population.keep`'s)."""
        index = torch.tensor(list(members), device=next(iter(parameters.values())).device)
        self.parameters = parameters
        self.steps = [self.steps[member] for member in members]
        self.exp_avg = {name: moment[index].clone() for name, moment in self.exp_avg.items()}
        self.exp_avg_sq = {name: moment[index].clone() for name, moment in self.exp_avg_sq.items()}

    def state_tensors(self) -> dict[str, Tensor]:
        """The state to save: ``optim.NAME.exp_avg``, ``optim.NAME.exp_avg_sq`` and the
        members' step counts."""
        tensors = {STEPS_KEY: torch.tensor(self.steps, dtype=torch.int64)}
        for name in self.parameters:
            tensors[f"optim.{name}.exp_avg"] = self.exp_avg[name]
            tensors[f"optim.{name}.exp_avg_sq"] = self.exp_avg_sq[name]
        return tensors

    @torch.no_grad()
    def restore(self, tensors: dict[str, Tensor], where: str) -> None:
        """Load what :meth:`state_tensors` saved (or ``torch.optim.Adam``'s state of the stacked
        parameters, one step count for all, as populations saved it before); a RaspError naming
        ``where`` when it does not fit."""
        try:
            for name in self.parameters:
                self.exp_avg[name].copy_(tensors[f"optim.{name}.exp_avg"])
                self.exp_avg_sq[name].copy_(tensors[f"optim.{name}.exp_avg_sq"])
            if STEPS_KEY in tensors:
                steps = [int(count) for count in tensors[STEPS_KEY].tolist()]
            else:
                first = next(iter(self.parameters))
                steps = [int(tensors[f"optim.{first}.step"])] * len(self.steps)
        except (KeyError, RuntimeError, ValueError) as error:
            raise RaspError.single(
                "checkpoint", f"{where}: no usable optimiser state ({error})"
            ) from None
        if len(steps) != len(self.steps):
            raise RaspError.single(
                "checkpoint",
                f"{where}: optimiser steps for {len(steps)} members, not {len(self.steps)}",
            )
        self.steps = steps
