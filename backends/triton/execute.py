"""Run a :class:`~.plan.Plan` on a batch: token codes (``batch x width``) and lengths in, the
codes of every binding and a per-input error code out, all on one device.

Maps are table gathers, selectors go to the fused ops of :mod:`rasp_ir.kernels.program_exec`
(Triton kernels on CUDA, their torch reference elsewhere). An input the interpreter would
reject (an undefined key or query reaching a select, a categorical mean of distinct values)
gets a nonzero error code: ``1 + `` the index of the check that failed in
:attr:`Executor.checks`, which :meth:`Executor.describe` turns into a message.

Inside a run every binding's codes are ``width x batch`` (position-major) in the narrowest
integer type of its value set: the torch reference ops read them without a copy and compare
8-bit codes, which torch vectorises (see :mod:`rasp_ir.kernels.program_exec`); the kernels get
contiguous ``batch x width`` int32 copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rasp_ir.kernels.program_exec import (
    CLOSEST,
    NO_VALUE,
    SELECT,
    Impl,
    Leaves,
    Reduced,
    by_position,
    narrowest_int,
    select_closest,
    selector_reduce,
    use_kernels,
)

from .plan import FullStep, Leaf, MapStep, Numbers, Plan, ReduceStep, SelectorPlan


@dataclass
class Executed:
    """The codes of every binding (``batch x width``, the narrowest integer type of its value
    set, views of position-major storage) and the error code of each input (``batch``, int32,
    0 for none)."""

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
        self.kernels = use_kernels(device, impl)
        self.code_types = {
            name: narrowest_int(len(values)) for name, values in plan.value_sets.items()
        }
        self.leaves = {s.name: s for s in plan.steps if isinstance(s, Leaf)}
        self.closest_tables = {
            s.name: self._tensor(s.table, torch.int8) for s in self.leaves.values() if s.closest
        }
        self.tables = {
            s.name: self._tensor(s.table.reshape(-1), self.code_types[s.name])
            for s in plan.steps
            if isinstance(s, MapStep)
        }
        # Result codes of the sop codes a categorical reduction picks, and its default: first
        # (picked -1 on empty rows) or last (a minimum picks NO_VALUE there).
        self.results = {
            s.name: self._tensor(
                _with_default(s.translate, s.default, s.kind), self.code_types[s.name]
            )
            for s in plan.steps
            if isinstance(s, ReduceStep) and s.translate is not None
        }
        self.number_tables = {
            s.name: self._tensor(s.numbers.table, self.code_types[s.name])
            for s in plan.steps
            if isinstance(s, ReduceStep) and s.numbers is not None and s.numbers.table is not None
        }
        self.key_positions = {
            s.name: self._tensor(s.key_positions, torch.int32)
            for s in plan.steps
            if isinstance(s, ReduceStep) and s.key_positions is not None
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
        largest_rank = max(
            (
                int(max(leaf.ranked.keys.max(initial=0), leaf.ranked.queries.max(initial=0)))
                for leaf in leaves
                if leaf.ranked is not None
            ),
            default=0,
        )
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
            rank_dtype=narrowest_int(largest_rank),
        )

    def _ranks(self, leaf: Leaf, keys: bool) -> Tensor | None:
        """A ranked leaf's ranks of key (or query) codes; None where they are the codes
        themselves (both sides of one set, say) and need no lookup."""
        if leaf.ranked is None:
            return None
        ranks = leaf.ranked.keys if keys else leaf.ranked.queries
        if np.array_equal(ranks, np.arange(len(ranks))):
            return None
        return self._tensor(ranks, narrowest_int(int(ranks.max(initial=0))))

    def describe(self, error: int) -> str:
        """The message of a nonzero error code."""
        return self.checks[error - 1]

    def run(self, tokens: Tensor, lengths: Tensor) -> Executed:
        """Every binding's codes on ``tokens`` (codes into the token set, BOS included, padded
        to the longest input; position-major storage is read without a copy) of ``lengths``
        positions each."""
        batch, width = tokens.shape
        positions = torch.arange(width, device=self.device)[:, None]
        # Materialised: the reference ops compare them element by element.
        indices = positions.to(self.code_types["indices"]).expand(width, batch).contiguous()
        if self.plan.causal:
            length = indices
        else:
            last = (lengths - 1).clamp(min=0).to(self.code_types["length"])
            length = last[None, :].expand(width, batch).contiguous()
        codes: dict[str, Tensor] = {
            "tokens": by_position(tokens).to(self.code_types["tokens"]),
            "indices": indices,
            "length": length,
        }
        valid = positions < lengths[None, :]
        errors = torch.zeros(batch, dtype=torch.int32, device=self.device)
        lengths32 = lengths.to(torch.int32)
        chosen: dict[str, Tensor] = {}
        for step in self.plan.steps:
            if isinstance(step, FullStep):
                codes[step.name] = torch.zeros_like(indices, dtype=self.code_types[step.name])
            elif isinstance(step, MapStep):
                codes[step.name] = self._map(step, codes, indices)
            elif isinstance(step, Leaf) and step.closest:
                chosen[step.name] = self._closest(step, codes, lengths32)
            elif isinstance(step, ReduceStep):
                codes[step.name] = self._reduce(step, codes, chosen, lengths32, errors)
        for check, (name, undefined) in enumerate(self.plan.undefined_checks):
            failed = ((codes[name] == undefined) & valid).any(0)
            errors = torch.where((errors == 0) & failed, check + 1, errors)
        return Executed({name: c.t() for name, c in codes.items()}, errors)

    def _map(self, step: MapStep, codes: dict[str, Tensor], like: Tensor) -> Tensor:
        table = self.tables[step.name]
        if not step.inputs:
            return torch.full_like(like, int(step.table.reshape(()).item()), dtype=table.dtype)
        index: Tensor | None = None
        for name, size in zip(step.inputs, step.table.shape, strict=True):
            code = codes[name].to(torch.int32)
            index = code if index is None else index * size + code
        assert index is not None
        return _take(table, index)

    def _batch_major(self, codes: Tensor, kernel_type: torch.dtype = torch.int32) -> Tensor:
        """Position-major codes (``... x width x batch``) as the selector ops take them:
        contiguous ``kernel_type`` for the kernels, a free view for the reference."""
        codes = codes.transpose(-2, -1)
        return codes.to(kernel_type).contiguous() if self.kernels else codes

    def _gathered(
        self,
        step: ReduceStep,
        codes: dict[str, Tensor],
        lengths: Tensor,
        values: Tensor | None,
        weights: Tensor | None,
    ) -> Reduced:
        """What :func:`selector_reduce` gives for a selector picking at most one key per query,
        at ``key_positions[query code]``: that key's value and weight, gathered (no pairs; the
        outputs nothing asks for are left meaningless)."""
        queries = codes[self.leaves[step.selector.leaves[0]].queries]
        width = queries.shape[0]
        position = _take(self.key_positions[step.name], queries)
        indices = codes["indices"]
        live = (position < lengths[None, :]) & (indices < lengths[None, :])
        if self.plan.causal:
            live &= position <= indices
        alive = live.to(torch.int32)
        at = position.clamp(max=max(width - 1, 0)).long()
        count = alive
        total = torch.zeros_like(alive, dtype=torch.int64)
        high = low = alive
        if weights is not None:
            total = torch.gather(weights, 0, at) * alive
        if values is not None:
            picked = torch.gather(values.to(torch.int32), 0, at)
            high = (picked + 1) * alive - 1
            low = NO_VALUE - (NO_VALUE - picked) * alive
        return Reduced(count.t(), total.t(), high.t(), low.t())

    def _closest(self, leaf: Leaf, codes: dict[str, Tensor], lengths: Tensor) -> Tensor:
        keys = self._batch_major(codes[leaf.keys])
        queries = self._batch_major(codes[leaf.queries])
        table = self.closest_tables[leaf.name]
        bos = self.plan.bos_code is not None
        found = select_closest(keys, queries, table, lengths, self.plan.causal, bos, self.impl)
        return found.t()

    def _leaves(
        self, selector: _Selector, codes: dict[str, Tensor], chosen: dict[str, Tensor]
    ) -> Leaves:
        keys, queries, picks = [], [], []
        for name, kind in zip(selector.names, selector.kinds, strict=True):
            leaf = self.leaves[name]
            keys.append(codes[leaf.keys])
            queries.append(codes[leaf.queries])
            picks.append(chosen[name] if kind == CLOSEST else queries[-1])
        if self.kernels:
            return Leaves(
                keys=self._batch_major(torch.stack(keys)),
                queries=self._batch_major(torch.stack(queries)),
                chosen=self._batch_major(torch.stack(picks)),
                tables=selector.tables,
                offsets=selector.offsets,
                widths=selector.widths,
                kinds=selector.kinds,
            )
        narrow = selector.rank_dtype
        ranks = zip(
            selector.ranked, keys, queries, selector.key_ranks, selector.query_ranks, strict=True
        )
        key_ranks, query_ranks = [], []
        for op, key, query, key_rank, query_rank in ranks:
            key_ranks.append(_ranks_of(key, key_rank, narrow) if op else key)
            query_ranks.append(_ranks_of(query, query_rank, narrow) if op else query)
        return Leaves(
            keys=tuple(k.t() for k in keys),
            queries=tuple(q.t() for q in queries),
            chosen=tuple(c.t() for c in picks),
            tables=selector.tables,
            offsets=selector.offsets,
            widths=selector.widths,
            kinds=selector.kinds,
            ranked=selector.ranked,
            key_ranks=tuple(k.t() for k in key_ranks),
            query_ranks=tuple(q.t() for q in query_ranks),
        )

    def _reduce(
        self,
        step: ReduceStep,
        codes: dict[str, Tensor],
        chosen: dict[str, Tensor],
        lengths: Tensor,
        errors: Tensor,
    ) -> Tensor:
        weights = values = None
        if step.numbers is not None:
            assert step.sop is not None
            weights = _take(self._tensor(step.numbers.weights), codes[step.sop])
        elif step.sop is not None:
            values = codes[step.sop]
        if step.key_positions is not None:
            reduced = self._gathered(step, codes, lengths, values, weights)
        else:
            selector = self.selectors[step.name]
            reduced = selector_reduce(
                self._leaves(selector, codes, chosen),
                selector.truth,
                lengths,
                self.plan.causal,
                None if values is None else self._batch_major(values),
                None if weights is None else self._batch_major(weights, torch.int64),
                self.impl,
            )
        count = reduced.count.t()
        code_type = self.code_types[step.name]
        if step.kind == "width":
            return count.to(code_type)
        if step.numbers is not None and step.numbers.table is not None:
            return self._tabulated(step, step.numbers, count, reduced.total.t())
        if step.numbers is not None:
            live = count > 0
            total = reduced.total.t()
            found = self._exact_number(step.numbers, total, count.long(), step.kind, live)
            return torch.where(live, found, step.default).to(code_type)
        high, low = reduced.high.t(), reduced.low.t()
        if step.kind == "mean_cat" and len(high):  # (no positions: nothing to average)
            clash = (high - low).amax(0) > 0  # empty rows: high -1, low NO_VALUE
            check = self.cat_mean_check[step.name] + 1
            errors.copy_(torch.where((errors == 0) & clash, check, errors))
        table = self.results[step.name]
        if step.kind == "min":  # NO_VALUE on empty rows: the default, last in the table
            return _take(table, low.clamp(max=len(table) - 1))
        return _take(table, high + 1)  # -1 on empty rows: the default, first in the table

    def _tabulated(
        self, step: ReduceStep, numbers: Numbers, count: Tensor, total: Tensor
    ) -> Tensor:
        """The result codes of an exact reduction read from its (count, total) table; raises if
        a value is missing from the result set."""
        rows = count.clamp(max=1) if step.kind == "sum" else count
        # Indices stay below NUMBER_TABLE_LIMIT: int32 arithmetic is exact.
        index = rows * numbers.span + (total.to(torch.int32) - numbers.low)
        found = _take(self.number_tables[step.name], index)
        if found.numel() and int(found.min()) < 0:
            raise RuntimeError("an exact aggregate value is missing from its value set")
        return found

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
            below = _take(numerators, middle) * divisor < total * _take(denominators, middle)
            moving = low < high
            low = torch.where(moving & below, middle + 1, low)
            high = torch.where(moving & ~below, middle, high)
        at = low.clamp(max=size - 1)
        exact = _take(numerators, at) * divisor == total * _take(denominators, at)
        if bool((live & ~exact).any()):
            raise RuntimeError("an exact aggregate value is missing from its value set")
        return _take(self._tensor(numbers.codes), at)


def _with_default(translate: np.ndarray, default: int, kind: str) -> np.ndarray:
    """``translate`` with ``default`` before it (after it for a minimum)."""
    ends = (translate, [default]) if kind == "min" else ([default], translate)
    return np.concatenate(ends).astype(np.int64)


def _ranks_of(codes: Tensor, ranks: Tensor | None, narrow: torch.dtype) -> Tensor:
    """The ranks of ``codes`` (the codes themselves where ``ranks`` is None) as ``narrow``."""
    return (codes if ranks is None else _take(ranks, codes)).to(narrow)


def _take(table: Tensor, index: Tensor) -> Tensor:
    """``table[index]`` for a flat table (shaped as ``index``; a gather by ``index_select``,
    faster than advanced indexing on a CPU)."""
    flat = index.reshape(-1)
    if flat.dtype not in (torch.int32, torch.int64):
        flat = flat.to(torch.int32)
    return table.index_select(0, flat).view(index.shape)
