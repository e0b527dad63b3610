"""A compiled model's weights in, a plan that computes the residual dimensions its outputs read
with less work out.

Compiled weights are sparse in a known way: a sublayer reads a few residual dimensions, writes a
few, and many sublayers are empty (an attention layer with no head, a layer with no MLP). The
plan

* drops empty sublayers (their contribution is exactly zero), fuses the query, key and value
  projections of all heads into one matrix over the dimensions they read, and keeps only the
  MLP units that can contribute;
* keeps only the *live* dimensions: those the outputs and the mean checks read, and those a
  later sublayer reads; a write to any other dimension is dropped, and so is a sublayer (or an
  MLP unit) left with nothing to write;
* tabulates what depends on one position alone: before the first attention the residual is a
  function of the position's token and index, so the embeddings and any MLPs before that
  attention are computed once for every (token, position) pair, and so are the first
  attention's queries, keys and values (and, where the table is small, its scores for every
  pair of pairs). A run looks these rows up instead of recomputing them.

The decoded outputs are those of :meth:`CompiledTransformer.forward`; the residual may differ
from it in the last bits, because products are summed over fewer zeros and in another order,
so tracing uses ``forward``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import torch

if TYPE_CHECKING:
    from rasp_ir.backends.torch.model import CompiledTransformer

# The first attention's scores are tabulated over pairs of (token, position) pairs up to this
# many floats (16 MiB); above it they are computed from its tabulated queries and keys.
MAX_SCORE_TABLE = 1 << 22
# The position-wise table (every residual row for every (token, position) pair) is built up to
# this many floats (64 MiB); above it the embeddings are looked up and the prefix computed.
MAX_ROW_TABLE = 1 << 24


@dataclass(frozen=True)
class AttentionStep:
    """One attention sublayer over the rows it reads and writes, each head cut to the
    query/key columns where both are non-zero and the value columns that are read out."""

    reads: torch.Tensor
    qkv: torch.Tensor  # reads x heads * (2 * n_qk + n_v): queries, keys, values of every head
    out: torch.Tensor  # (heads * n_v) x writes
    writes: torch.Tensor
    heads: int
    n_qk: int
    n_v: int
    scale: float


@dataclass(frozen=True)
class MlpStep:
    """One MLP sublayer over the rows it reads, its live units and the rows it writes."""

    reads: torch.Tensor
    w_in: torch.Tensor
    b_in: torch.Tensor
    w_out: torch.Tensor
    b_out: torch.Tensor
    writes: torch.Tensor


Step = AttentionStep | MlpStep
S = TypeVar("S", bound=AttentionStep | MlpStep)


@dataclass(frozen=True)
class FirstAttention:
    """The first attention sublayer, tabulated over codes ``token * n_positions + position``:
    ``projected`` is its fused queries, keys and values for every code (one row per column of
    ``step.qkv``); ``scores``, where small enough, ``heads x codes x codes`` (scaled)."""

    step: AttentionStep
    projected: torch.Tensor
    scores: torch.Tensor | None


@dataclass(frozen=True)
class ForwardPlan:
    """The live residual ``rows`` (model dimensions, in order; every step reads and writes
    positions in it) and their embeddings (``tokens``: rows x tokens, ``positions``: rows x
    positions); their values after the position-wise prefix for every code ``token *
    n_positions + position`` (``table``: rows x codes, None when too large: then ``steps``
    start with the prefix); the first attention when it is tabulated; the other steps."""

    rows: tuple[int, ...]
    tokens: torch.Tensor
    positions: torch.Tensor
    table: torch.Tensor | None
    first: FirstAttention | None
    steps: tuple[Step, ...]
    causal: bool

    @property
    def n_positions(self) -> int:
        return int(self.positions.shape[1])

    def columns(self, dims: Sequence[int]) -> list[int]:
        """Where model dimensions ``dims`` are in the plan's residual (each must be live)."""
        where = {dim: row for row, dim in enumerate(self.rows)}
        return [where[d] for d in dims]

    def read(self, residual: torch.Tensor, dims: Sequence[int], ids: torch.Tensor) -> torch.Tensor:
        """Model dimensions ``dims`` of the :func:`final_residual` of ``ids`` at the program's
        positions (the sink left out): batch x positions x dims, a view of a dims-first copy
        (reducing over the dims of that layout takes whole rows at a time)."""
        index = _longs(self.columns(dims))
        picked = residual.index_select(0, index).reshape(len(dims), *ids.shape)
        return picked[:, :, 1:].contiguous().permute(1, 2, 0)


def plan_forward(model: CompiledTransformer) -> ForwardPlan:
    """The plan of ``model`` (see the module docstring)."""
    read_out = set().union(
        *(decoder.dims for decoder in model.info.decoders),
        *(check.dims for check in model.info.mean_checks),
    )
    steps = _live_steps(plan_steps(model), read_out)
    leading = next((i for i, s in enumerate(steps) if isinstance(s, AttentionStep)), len(steps))
    every = _touched(read_out, steps)
    tokens, positions = _embeddings(model, every)
    codes = tokens.shape[1] * positions.shape[1]
    if len(every) * codes > MAX_ROW_TABLE:
        in_rows = tuple(_in_rows(step, every) for step in steps)
        return ForwardPlan(
            tuple(every), tokens, positions, None, None, in_rows, model.config.causal
        )
    table = tokens.repeat_interleave(positions.shape[1], dim=1) + positions.repeat(
        1, tokens.shape[1]
    )
    for step in steps[:leading]:
        assert isinstance(step, MlpStep)
        _mlp(_in_rows(step, every), table)
    first = None
    first_writes: set[int] = set()
    if leading < len(steps):
        attention = steps[leading]
        assert isinstance(attention, AttentionStep)
        first = _tabulate_attention(_in_rows(attention, every), table, codes)
        first_writes = set(attention.writes.tolist())
        leading += 1
    # Rows only the tabulated sublayers read are not needed by a run.
    later = steps[leading:]
    rows = _touched(read_out | first_writes, later)
    index = torch.searchsorted(_longs(every), _longs(rows))
    if first is not None:
        writes = torch.searchsorted(_longs(rows), _longs(sorted(first_writes)))
        first = replace(first, step=replace(first.step, writes=writes))
    return ForwardPlan(
        tuple(rows),
        tokens.index_select(0, index),
        positions.index_select(0, index),
        table.index_select(0, index).contiguous(),
        first,
        tuple(_in_rows(step, rows) for step in later),
        model.config.causal,
    )


def _longs(values: Sequence[int]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def _touched(read_out: set[int], steps: Sequence[Step]) -> list[int]:
    """The model dimensions ``read_out`` and every step reads or writes, in order."""
    dims = set(read_out)
    for step in steps:
        dims |= set(step.reads.tolist()) | set(step.writes.tolist())
    return sorted(dims)


def _embeddings(model: CompiledTransformer, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The token and position embeddings of model dimensions ``rows`` (rows x tokens, rows x
    positions)."""
    index = _longs(rows)
    tokens = model.token_embedding.t().index_select(0, index).contiguous()
    return tokens, model.position_embedding.t().index_select(0, index).contiguous()


def plan_steps(model: CompiledTransformer) -> list[Step]:
    """The non-empty sublayers of ``model``, in order, with their weights cut to size (reads
    and writes are model dimensions)."""
    steps: list[Step] = []
    for layer in range(model.config.n_layers):
        attention = _attention_step(model, layer)
        if attention is not None:
            steps.append(attention)
        mlp = _mlp_step(model, layer)
        if mlp is not None:
            steps.append(mlp)
    return steps


def _nonzero(mask: torch.Tensor) -> torch.Tensor:
    return torch.nonzero(mask).flatten()


def _attention_step(model: CompiledTransformer, layer: int) -> AttentionStep | None:
    w_q, w_k, w_v, w_o = (w[layer] for w in (model.w_q, model.w_k, model.w_v, model.w_o))
    heads, d_model, d_head = w_q.shape
    writes = _nonzero(w_o.abs().sum(dim=(0, 1)) > 0)
    v_cols = _nonzero(((w_v.abs().sum(dim=1) > 0) & (w_o.abs().sum(dim=2) > 0)).any(dim=0))
    if len(writes) == 0 or len(v_cols) == 0:
        return None  # every head adds exactly zero
    qk_cols = _nonzero(((w_q.abs().sum(dim=1) > 0) & (w_k.abs().sum(dim=1) > 0)).any(dim=0))
    parts = [w_q[:, :, qk_cols], w_k[:, :, qk_cols], w_v[:, :, v_cols]]
    # Each heads x d x n -> d x (heads * n), then queries, keys and values side by side.
    fused = torch.cat([w.permute(1, 0, 2).reshape(d_model, -1) for w in parts], dim=1)
    reads = _nonzero(fused.abs().sum(dim=1) > 0)
    out = w_o[:, v_cols, :][:, :, writes].reshape(heads * len(v_cols), len(writes))
    return AttentionStep(
        reads,
        fused[reads].contiguous(),
        out.contiguous(),
        writes,
        heads,
        len(qk_cols),
        len(v_cols),
        1.0 / math.sqrt(d_head),
    )


def _mlp_step(model: CompiledTransformer, layer: int) -> MlpStep | None:
    w_in, b_in = model.mlp_in[layer], model.mlp_in_bias[layer]
    w_out, b_out = model.mlp_out[layer], model.mlp_out_bias[layer]
    writes = _nonzero((w_out.abs().sum(dim=0) + b_out.abs()) > 0)
    if len(writes) == 0:
        return None  # adds exactly zero
    return _cut_mlp(
        w_in, b_in, w_out[:, writes], b_out[writes], torch.arange(w_in.shape[0]), writes
    )


def _cut_mlp(
    w_in: torch.Tensor,
    b_in: torch.Tensor,
    w_out: torch.Tensor,
    b_out: torch.Tensor,
    reads: torch.Tensor,
    writes: torch.Tensor,
) -> MlpStep:
    """The MLP over the units that can contribute (some input weight or bias, and read out)
    and the dimensions of ``reads`` (one per row of ``w_in``) those units read."""
    units = _nonzero(((w_in.abs().sum(dim=0) + b_in.abs()) > 0) & (w_out.abs().sum(dim=1) > 0))
    kept = _nonzero(w_in[:, units].abs().sum(dim=1) > 0)
    return MlpStep(
        reads[kept],
        w_in[kept][:, units].contiguous(),
        b_in[units].contiguous(),
        w_out[units].contiguous(),
        b_out.contiguous(),
        writes,
    )


def _live_steps(steps: list[Step], read_out: set[int]) -> list[Step]:
    """``steps`` without their writes to dimensions nothing reads afterwards (the outputs read
    ``read_out``), and without the steps (and MLP units) left writing nothing."""
    live = set(read_out)
    kept: list[Step] = []
    for step in reversed(steps):
        mask = torch.tensor([int(d) in live for d in step.writes.tolist()], dtype=torch.bool)
        if not bool(mask.any()):
            continue
        if isinstance(step, AttentionStep):
            cut: Step = replace(step, out=step.out[:, mask].contiguous(), writes=step.writes[mask])
        else:
            cut = _cut_mlp(
                step.w_in, step.b_in, step.w_out[:, mask], step.b_out[mask], step.reads,
                step.writes[mask],
            )  # fmt: skip
        live |= {int(d) for d in cut.reads.tolist()}
        kept.append(cut)
    return kept[::-1]


def _in_rows(step: S, rows: list[int]) -> S:
    """``step`` reading and writing places in ``rows`` (model dimensions, sorted) instead of
    model dimensions."""
    where = _longs(rows)
    return replace(
        step,
        reads=torch.searchsorted(where, step.reads),
        writes=torch.searchsorted(where, step.writes),
    )


def _mlp(step: MlpStep, x: torch.Tensor) -> None:
    """Add the MLP's output to the residual ``x`` (rows x columns) in place."""
    hidden = torch.relu(step.w_in.t() @ x.index_select(0, step.reads) + step.b_in[:, None])
    x.index_add_(0, step.writes, step.w_out.t() @ hidden + step.b_out[:, None])


def _tabulate_attention(step: AttentionStep, table: torch.Tensor, codes: int) -> FirstAttention:
    projected = step.qkv.t() @ table.index_select(0, step.reads)
    if step.heads * codes * codes > MAX_SCORE_TABLE:
        return FirstAttention(step, projected, None)
    qk = step.heads * step.n_qk
    q = projected[:qk].reshape(step.heads, step.n_qk, codes)
    k = projected[qk : 2 * qk].reshape(step.heads, step.n_qk, codes)
    scores = (q.transpose(1, 2) @ k) * step.scale
    return FirstAttention(step, projected, scores.contiguous())


def final_residual(plan: ForwardPlan, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The live residual rows after the last layer for ``ids`` (batch x positions, sink first)
    and ``lengths`` (positions including the sink), computed by ``plan``: one row per entry of
    ``plan.rows``, one column per position of each input (rows x batch * positions; read it
    with :meth:`ForwardPlan.read`).

    One row per dimension, so that reading and writing a sublayer's dimensions moves whole
    rows.
    """
    batch, width = ids.shape
    positions = torch.arange(width)
    codes = (ids * plan.n_positions + positions[None, :]).reshape(-1)
    blocked = _blocked(positions, lengths, plan.causal)
    if plan.table is not None:
        x = plan.table.index_select(1, codes)
    else:
        x = plan.tokens.index_select(1, ids.reshape(-1))
        x += plan.positions.index_select(1, positions.repeat(batch))
    if plan.first is not None:
        first = plan.first
        x.index_add_(0, first.step.writes, _attend_first(first, codes, blocked, batch, width))
    for step in plan.steps:
        _run(step, x, blocked, batch, width)
    return x


def _blocked(positions: torch.Tensor, lengths: torch.Tensor, causal: bool) -> torch.Tensor | None:
    """Which keys each query may not see (batch x 1 x positions x positions, broadcast over
    heads): padding, and later positions when ``causal``; None when every key is visible (a
    batch of full-length inputs), which spares every attention a masking pass."""
    width = len(positions)
    padded = bool((lengths < width).any())
    if not padded and not causal:
        return None
    blocked = ~(positions[None, :] < lengths[:, None])[:, None, None, :]
    if causal:
        blocked = blocked | torch.ones(width, width, dtype=torch.bool).triu(1)[None, None]
    return blocked


def _run(step: Step, x: torch.Tensor, blocked: torch.Tensor | None, batch: int, width: int) -> None:
    if isinstance(step, MlpStep):
        _mlp(step, x)
        return
    projected = step.qkv.t() @ x.index_select(0, step.reads)
    x.index_add_(0, step.writes, _attend(step, projected, None, blocked, batch, width))


def _attend_first(
    first: FirstAttention,
    codes: torch.Tensor,
    blocked: torch.Tensor | None,
    batch: int,
    width: int,
) -> torch.Tensor:
    step = first.step
    if first.scores is None:
        projected = first.projected.index_select(1, codes)
        return _attend(step, projected, None, blocked, batch, width)
    n_codes = first.scores.shape[-1]
    by_input = codes.reshape(batch, width)
    pairs = (by_input[:, :, None] * n_codes + by_input[:, None, :]).reshape(-1)
    flat = first.scores.reshape(step.heads, -1).index_select(1, pairs)
    scores = flat.reshape(step.heads, batch, width, width).transpose(0, 1)
    values = first.projected[2 * step.heads * step.n_qk :].index_select(1, codes)
    return _attend(step, values, scores, blocked, batch, width)


def _attend(
    step: AttentionStep,
    projected: torch.Tensor,
    scores: torch.Tensor | None,
    blocked: torch.Tensor | None,
    batch: int,
    width: int,
) -> torch.Tensor:
    """The sublayer's output, one row per written row (``projected``: the fused queries, keys
    and values, one row per column of ``step.qkv``, columns batch x positions; only the values
    when ``scores``, batch x heads x positions x positions, are given)."""
    heads, n_qk, n_v = step.heads, step.n_qk, step.n_v

    def per_head(rows: torch.Tensor, size: int) -> torch.Tensor:
        return rows.reshape(heads, size, batch, width).permute(2, 0, 3, 1)

    if scores is None:
        qk = heads * n_qk
        q = per_head(projected[:qk], n_qk)
        k = per_head(projected[qk : 2 * qk], n_qk)
        scores = (q @ k.transpose(-1, -2)) * step.scale
        projected = projected[2 * qk :]
    v = per_head(projected, n_v)
    if blocked is not None:
        scores = scores.masked_fill(blocked, float("-inf"))
    pattern = _softmax(scores)
    mixed = (pattern @ v).permute(1, 3, 0, 2).reshape(heads * n_v, batch * width)
    out: torch.Tensor = step.out.t() @ mixed
    return out


def _softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, in place (every row has a finite entry: the sink is never
    blocked). The rows are a few positions long, where ``torch.softmax`` spends more time per
    row than these four whole-tensor operations (measured: about 1.8x)."""
    scores -= scores.amax(dim=-1, keepdim=True)
    scores.exp_()
    scores /= scores.sum(dim=-1, keepdim=True)
    return scores
