"""Slices of the exhaustive input space on the device: a length and a range of input numbers
in, the program's output codes and rejections out (a :class:`rasp_ir.api.SpaceRunner`).

Inputs are numbered as :func:`rasp_ir.api.exhaustive_inputs` orders them (shortest first, then
a mixed-radix counter over the vocabulary, last position fastest); their digits are computed on
the device from ``arange(start, stop)``, so no input exists in Python.
"""

from __future__ import annotations

import numpy as np
import torch

from rasp_ir.api import CodedBatch

from .execute import Executor

# Inputs per slice: large on a GPU; on a CPU, small enough for the temporaries to stay in cache.
GPU_BATCH = 1 << 20
CPU_BATCH = 1 << 14


class TritonSpace:
    """An executor over the space of one vocabulary size."""

    def __init__(self, executor: Executor, vocab_size: int) -> None:
        self.executor = executor
        self.vocab_size = vocab_size
        self.batch_size = GPU_BATCH if executor.device.type == "cuda" else CPU_BATCH
        plan = executor.plan
        self.vocab_codes = torch.as_tensor(plan.vocab_codes).to(executor.device)

    def tokens(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Token codes (``inputs x positions``, BOS first when declared, padded with 0) of the
        inputs numbered ``start..stop-1``, and their lengths (BOS included)."""
        device = self.executor.device
        size = self.vocab_size
        firsts = [0]  # the number of the first input of each length
        while firsts[-1] <= max(stop - 1, 0):
            firsts.append(firsts[-1] + size ** (len(firsts) - 1))
        bounds = torch.tensor(firsts, dtype=torch.int64, device=device)
        numbers = torch.arange(start, stop, dtype=torch.int64, device=device)
        lengths = torch.searchsorted(bounds, numbers, right=True) - 1
        offsets = numbers - bounds[lengths]
        longest = len(firsts) - 2 if stop > start else 0
        positions = torch.arange(longest, dtype=torch.int64, device=device)
        exponents = (lengths[:, None] - 1 - positions[None, :]).clamp(min=0)
        digits = torch.div(offsets[:, None], size**exponents, rounding_mode="floor") % size
        codes = torch.where(positions[None, :] < lengths[:, None], self.vocab_codes[digits], 0)
        bos = self.executor.plan.bos_code
        if bos is None:
            return codes, lengths
        first = torch.full((stop - start, 1), bos, dtype=torch.int64, device=device)
        return torch.cat([first, codes], dim=1), lengths + 1

    def __call__(self, start: int, stop: int) -> CodedBatch:
        tokens, lengths = self.tokens(start, stop)
        executed = self.executor.run(tokens, lengths)
        codes = {
            name: executed.codes[name].cpu().numpy().astype(np.int64, copy=False)
            for name in self.executor.plan.outputs
        }
        errors = (executed.errors != 0).cpu().numpy()
        return CodedBatch(codes, lengths.cpu().numpy(), errors)
