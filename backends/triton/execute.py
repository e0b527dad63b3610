"""Run a :class:`~.plan.Plan` on a batch: token codes (``batch x width``) and lengths in, the
codes of every binding and a per-input error code out, all on one device.

Maps are table gathers, selectors go to the fused ops of :mod:`rasp_ir.kernels.program_exec`
(Triton kernels on CUDA, their torch reference elsewhere). An input the interpreter would
reject (an undefined key or query reaching a select, a categorical mean of distinct values)
gets a nonzero error code: ``1 + `` the index of the check that failed in
:attr:`Executor.checks`, which :meth:`Executor.describe` turns into a message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rasp_ir.kernels.program_exec import (
    CLOSEST,
    SELECT,
    Impl,
    Leaves,
    select_closest,
    selector_reduce,
    use_kernels,
)

from .plan import FullStep, Leaf, MapStep, Numbers, Plan, ReduceStep, SelectorPlan


@dataclass
class Executed:
    """The codes of every binding (``batch x width``, int64) and the error code of each input
    (``batch``, int32, 0 for none)."""

    codes: dict[str, Tensor]
    errors: Tensor


@dataclass(frozen=True)
class _Selector:
    """A selector's constant part on the device: leaf tables, offsets, widths, truth table."""

    names: tuple[str, ...]
    kinds: tuple[int, ...]
    tables: Tensor
    offsets: Tensor
    widths: Tensor
    truth: Tensor
    ranked: tuple[str | None, ...]
    key_ranks: tuple[Tensor | None, ...]
    query_ranks: tuple[Tensor | None, ...]
    rank_dtype: torch.dtype


class Executor:
    """A plan with its tables on ``device``; :meth:`run` evaluates batches."""

    def __init__(self, plan: Plan, device: torch.device, impl: Impl = "auto") -> None:
        self.plan = plan
        self.device = device
        self.impl: Impl = impl
        self.leaves = {s.name: s for s in plan.steps if isinstance(s, Leaf)}
        self.tables = {
            s.name: self._tensor(s.table.reshape(-1)) for s in plan.steps if isinstance(s, MapStep)
        }
        self.selectors = {
            s.name: self._selector(s.selector) for s in plan.steps if isinstance(s, ReduceStep)
        }
        self.checks: list[str] = [
            f"a select reads {name!r}, which is undefined (none) in this input"
            for name, _ in plan.undefined_checks
        ]
        means = [s for s in plan.steps if isinstance(s, ReduceStep) and s.kind == "mean_cat"]
        self.cat_mean_check = {s.name: len(self.checks) + i for i, s in enumerate(means)}
        self.checks += [
            f"categorical aggregate {name!r} averages distinct values in this input"
            for name in self.cat_mean_check
        ]

    def _tensor(self, array: np.ndarray, dtype: torch.dtype = torch.int64) -> Tensor:
        return torch.as_tensor(np.ascontiguousarray(array)).to(self.device, dtype)

    def _selector(self, selector: SelectorPlan) -> _Selector:
        leaves = [self.leaves[name] for name in selector.leaves]
        tables = [leaf.table.reshape(-1) for leaf in leaves if not leaf.closest]
        sizes = [leaf.table.size if not leaf.closest else 0 for leaf in leaves]
        flat = np.concatenate(tables) if tables else np.zeros(1, dtype=np.bool_)
        return _Selector(
            names=selector.leaves,
            kinds=tuple(CLOSEST if leaf.closest else SELECT for leaf in leaves),
            tables=self._tensor(flat, torch.int8),
            offsets=self._tensor(np.cumsum([0, *sizes[:-1]])),
            widths=self._tensor(np.array([leaf.table.shape[1] for leaf in leaves])),
            truth=self._tensor(selector.truth, torch.int8),
            ranked=tuple(leaf.ranked.op if leaf.ranked else None for leaf in leaves),
            key_ranks=tuple(self._ranks(leaf, keys=True) for leaf in leaves),
            query_ranks=tuple(self._ranks(leaf, keys=False) for leaf in leaves),
            rank_dtype=_narrowest(
                max(
                    (
                        int(
                            max(leaf.ranked.keys.max(initial=0), leaf.ranked.queries.max(initial=0))
                        )
                        for leaf in leaves
                        if leaf.ranked is not None
                    ),
                    default=0,
                )
            ),
        )

    def _ranks(self, leaf: Leaf, keys: bool) -> Tensor | None:
        """A ranked leaf's ranks of key (or query) codes; None where they are the codes
        themselves (both sides of one set, say) and need no lookup."""
        if leaf.ranked is None:
            return None
        ranks = leaf.ranked.keys if keys else leaf.ranked.queries
        if np.array_equal(ranks, np.arange(len(ranks))):
            return None
        return self._tensor(ranks, torch.int32)

    def describe(self, error: int) -> str:
        """The message of a nonzero error code."""
        return self.checks[error - 1]

    def run(self, tokens: Tensor, lengths: Tensor) -> Executed:
        """Every binding's codes on ``tokens`` (codes into the token set, BOS included, padded
        to the longest input) of ``lengths`` positions each."""
        batch, width = tokens.shape
        positions = torch.arange(width, device=self.device)
        indices = positions[None, :].expand(batch, width)
        if self.plan.causal:
            length = indices
        else:
            length = (lengths - 1).clamp(min=0)[:, None].expand(batch, width)
        codes: dict[str, Tensor] = {"tokens": tokens, "indices": indices, "length": length}
        valid = positions[None, :] < lengths[:, None]
        errors = torch.zeros(batch, dtype=torch.int32, device=self.device)
        lengths32 = lengths.to(torch.int32)
        chosen: dict[str, Tensor] = {}
        for step in self.plan.steps:
            if isinstance(step, FullStep):
                codes[step.name] = torch.zeros_like(tokens)
            elif isinstance(step, MapStep):
                codes[step.name] = self._map(step, codes, tokens)
            elif isinstance(step, Leaf) and step.closest:
                chosen[step.name] = self._closest(step, codes, lengths32)
            elif isinstance(step, ReduceStep):
                codes[step.name] = self._reduce(step, codes, chosen, lengths32, valid, errors)
        for check, (name, undefined) in enumerate(self.plan.undefined_checks):
            failed = ((codes[name] == undefined) & valid).any(-1)
            errors = torch.where((errors == 0) & failed, check + 1, errors)
        return Executed(codes, errors)

    def _map(self, step: MapStep, codes: dict[str, Tensor], tokens: Tensor) -> Tensor:
        table = self.tables[step.name]
        if not step.inputs:
            return torch.full_like(tokens, int(step.table.reshape(()).item()))
        index = torch.zeros_like(tokens)
        for name, size in zip(step.inputs, step.table.shape, strict=True):
            index = index * size + codes[name]
        return table[index]

    def _closest(self, leaf: Leaf, codes: dict[str, Tensor], lengths: Tensor) -> Tensor:
        table = self._tensor(leaf.table, torch.int8)
        keys = codes[leaf.keys].to(torch.int32).contiguous()
        queries = codes[leaf.queries].to(torch.int32).contiguous()
        bos = self.plan.bos_code is not None
        return select_closest(keys, queries, table, lengths, self.plan.causal, bos, self.impl)

    def _leaves(
        self, selector: _Selector, codes: dict[str, Tensor], chosen: dict[str, Tensor]
    ) -> Leaves:
        keys, queries, picks = [], [], []
        for name, kind in zip(selector.names, selector.kinds, strict=True):
            leaf = self.leaves[name]
            keys.append(codes[leaf.keys].to(torch.int32))
            queries.append(codes[leaf.queries].to(torch.int32))
            picks.append(chosen[name] if kind == CLOSEST else queries[-1])
        ranked: tuple[str | None, ...] = ()
        key_ranks = query_ranks = None
        if not use_kernels(self.device, self.impl):
            ranked = selector.ranked
            # The reference compares ranks at every key x query pair: the narrowest type pays.
            narrow = selector.rank_dtype
            key_ranks = torch.stack(
                [
                    (k if r is None else r[k]).to(narrow)
                    for k, r in zip(keys, selector.key_ranks, strict=True)
                ]
            )
            query_ranks = torch.stack(
                [
                    (q if r is None else r[q]).to(narrow)
                    for q, r in zip(queries, selector.query_ranks, strict=True)
                ]
            )
        return Leaves(
            keys=torch.stack(keys),
            queries=torch.stack(queries),
            chosen=torch.stack(picks),
            tables=selector.tables,
            offsets=selector.offsets,
            widths=selector.widths,
            kinds=selector.kinds,
            ranked=ranked,
            key_ranks=key_ranks,
            query_ranks=query_ranks,
        )

    def _reduce(
        self,
        step: ReduceStep,
        codes: dict[str, Tensor],
        chosen: dict[str, Tensor],
        lengths: Tensor,
        valid: Tensor,
        errors: Tensor,
    ) -> Tensor:
        selector = self.selectors[step.name]
        leaves = self._leaves(selector, codes, chosen)
        values = weights = None
        if step.sop is not None:
            sop = codes[step.sop]
            if step.numbers is not None:
                weights = self._tensor(step.numbers.weights)[sop].contiguous()
            else:
                narrow = not use_kernels(self.device, self.impl)
                size = len(self.plan.value_sets[step.sop])
                values = sop.to(_narrowest(size) if narrow else torch.int32).contiguous()
        reduced = selector_reduce(
            leaves, selector.truth, lengths, self.plan.causal, values, weights, self.impl
        )
        count = reduced.count.long()
        if step.kind == "width":
            return count
        live = count > 0
        if step.numbers is not None:
            found = self._exact_number(step.numbers, reduced.total, count, step.kind, live)
            return torch.where(live, found, step.default)
        assert step.translate is not None
        translate = self._tensor(step.translate)
        if step.kind == "mean_cat":
            clash = (live & (reduced.high != reduced.low)).any(-1)
            check = self.cat_mean_check[step.name] + 1
            errors.copy_(torch.where((errors == 0) & clash, check, errors))
        picked = reduced.low if step.kind == "min" else reduced.high
        return torch.where(live, translate[torch.where(live, picked.long(), 0)], step.default)

    def _exact_number(
        self, numbers: Numbers, total: Tensor, count: Tensor, kind: str, live: Tensor
    ) -> Tensor:
        """The code of ``total / divisor`` among the result values, by an exact binary search
        (cross-multiplied int64 comparisons); raises if a live row's value is missing."""
        size = len(numbers.codes)
        if size == 0:
            if bool(live.any()):
                raise RuntimeError("an exact aggregate has no numbers in its value set")
            return torch.zeros_like(total)
        scale = numbers.scale
        divisor = count * scale if kind == "mean_num" else torch.full_like(count, scale)
        numerators = self._tensor(numbers.numerators)
        denominators = self._tensor(numbers.denominators)
        low = torch.zeros_like(total)
        high = torch.full_like(total, size)
        for _ in range(max(1, size).bit_length()):
            middle = ((low + high) // 2).clamp(max=size - 1)
            below = numerators[middle] * divisor < total * denominators[middle]
            moving = low < high
            low = torch.where(moving & below, middle + 1, low)
            high = torch.where(moving & ~below, middle, high)
        at = low.clamp(max=size - 1)
        exact = numerators[at] * divisor == total * denominators[at]
        if bool((live & ~exact).any()):
            raise RuntimeError("an exact aggregate value is missing from its value set")
        return self._tensor(numbers.codes)[at]


def _narrowest(largest: int) -> torch.dtype:
    """The narrowest signed integer type holding ``-1..largest``."""
    if largest < 1 << 7:
        return torch.int8
    return torch.int16 if largest < 1 << 15 else torch.int32
