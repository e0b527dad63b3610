"""Slices of the exhaustive input space on the device: a range of input numbers in, the
program's output codes and rejections out (a :class:`rasp_ir.api.SpaceRunner`).

Inputs are numbered as :func:`rasp_ir.api.exhaustive_inputs` orders them (shortest first, then
a mixed-radix counter over the vocabulary, last position fastest). A slice is run one length
at a time, so no input is padded and no pair is masked. The last positions of consecutive
inputs cycle through every combination: their token codes are windows of one table built per
length on the device; the first positions change slowly and are computed from the input
numbers. No input exists in Python.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from rasp_ir.api import CodedBatch

from .execute import Executor

# Inputs per slice: large on a GPU. On a CPU, measured over 2^14..2^17 with the reference ops'
# chunks (sort, reverse, frac_prevs, sort_unique at vocab 5, length 8, one thread): 2^16 and
# 2^17 are fastest, fewer calls than smaller slices and less memory than larger ones.
GPU_BATCH = 1 << 20
CPU_BATCH = 1 << 16
# Most combinations of trailing positions tabulated (the table's columns, before tiling).
CYCLE_LIMIT = 1 << 16


class TritonSpace:
    """An executor over the space of one vocabulary size."""

    def __init__(self, executor: Executor, vocab_size: int) -> None:
        self.executor = executor
        self.vocab_size = vocab_size
        self.batch_size = GPU_BATCH if executor.device.type == "cuda" else CPU_BATCH
        self.token_type = executor.code_types["tokens"]
        codes = torch.as_tensor(executor.plan.vocab_codes)
        self.vocab_codes = codes.to(executor.device, self.token_type)
        longest = len(executor.plan.value_sets["indices"])
        self.cycled = 0  # trailing positions taken from a table
        while self.cycled < longest and vocab_size ** (self.cycled + 1) <= CYCLE_LIMIT:
            self.cycled += 1
        self._cycles: dict[int, Tensor] = {}

    def parts(self, start: int, stop: int) -> Iterator[tuple[int, int, int]]:
        """The inputs numbered ``start..stop-1`` as runs of one length: (length, index of the
        run's first input among the inputs of that length, inputs in the run)."""
        first, length = 0, 0  # the number of the first input of each length
        while first < stop:
            count = self.vocab_size**length
            low, high = max(start, first), min(stop, first + count)
            if low < high:
                yield length, low - first, high - low
            first += count
            length += 1

    def tokens(self, length: int, first: int, count: int) -> Tensor:
        """Token codes (``positions x inputs``, BOS first when declared) of the ``count``
        inputs of ``length`` tokens from the ``first``-th of that length."""
        device = self.executor.device
        rows = []
        bos = self.executor.plan.bos_code
        if bos is not None:
            rows.append(torch.full((1, count), bos, dtype=self.token_type, device=device))
        cycled = min(length, self.cycled)
        period = self.vocab_size**cycled
        window = first % period
        if length > cycled:
            rows.append(self._leading(length - cycled, first // period, window, count, period))
        rows.append(self._cycle(cycled, window + count)[:, window : window + count])
        return torch.cat(rows)

    def _leading(self, positions: int, block: int, window: int, count: int, period: int) -> Tensor:
        """The token codes of the first ``positions`` positions (``positions x count``): they
        stay the same over each block of ``period`` inputs, so are computed once per block (from
        the ``block``-th, entered at input ``window``) and repeated."""
        last = block + (window + count - 1) // period
        blocks = torch.arange(block, last + 1, device=self.executor.device)
        repeated = self._token_codes(blocks, positions).repeat_interleave(period, dim=1)
        return repeated[:, window : window + count]

    def _cycle(self, positions: int, columns: int) -> Tensor:
        """The token codes of every input of ``positions`` tokens in order, repeated to at
        least ``columns`` columns (``positions x columns``); cached per ``positions``."""
        cycle = self._cycles.get(positions)
        if cycle is not None and cycle.shape[1] >= columns:
            return cycle
        period = self.vocab_size**positions
        numbers = torch.arange(period, device=self.executor.device)
        repeats = -(-max(columns, self.batch_size + period) // period)
        cycle = self._token_codes(numbers, positions).repeat(1, repeats)
        self._cycles[positions] = cycle
        return cycle

    def _token_codes(self, numbers: Tensor, positions: int) -> Tensor:
        """The token codes (``positions x len(numbers)``) of the inputs of ``positions``
        tokens numbered ``numbers`` among them (base-vocabulary digits, last fastest)."""
        size = self.vocab_size
        powers = size ** torch.arange(positions - 1, -1, -1, device=numbers.device)
        return self.vocab_codes[numbers[None, :] // powers[:, None] % size]

    def __call__(self, start: int, stop: int) -> CodedBatch:
        plan = self.executor.plan
        bos = int(plan.bos_code is not None)
        parts = list(self.parts(start, stop))
        width = parts[-1][0] + bos if parts else 0
        lengths = np.zeros(stop - start, dtype=np.int64)
        codes = {name: np.zeros((stop - start, width), dtype=np.int64) for name in plan.outputs}
        errors = np.zeros(stop - start, dtype=np.bool_)
        row = 0
        for length, first, count in parts:
            tokens = self.tokens(length, first, count)
            size = torch.full((count,), length + bos, device=self.executor.device)
            executed = self.executor.run(tokens.t(), size)
            rows = slice(row, row + count)
            for name in plan.outputs:
                codes[name][rows, : length + bos] = executed.codes[name].cpu().numpy()
            errors[rows] = (executed.errors != 0).cpu().numpy()
            lengths[rows] = length + bos
            row += count
        return CodedBatch(codes, lengths, errors)
