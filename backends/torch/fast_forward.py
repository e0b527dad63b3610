"""A compiled model's weights in, a plan that computes the residual dimensions its outputs read
with less work out.

Compiled weights are sparse in a known way: a sublayer reads a few residual dimensions, writes a
few, and many sublayers are empty (an attention layer with no head, a layer with no MLP). The
plan

* drops empty sublayers (their contribution is exactly zero), splits each attention's query, key
  and value projections (of all heads together) to the dimensions each reads, and keeps only the
  MLP units that can contribute;
* keeps only the *live* dimensions: those the outputs and the mean checks read, and those a
  later sublayer reads; a write to any other dimension is dropped, and so is a sublayer (or an
  MLP unit) left with nothing to write;
* tabulates what depends on one position alone: before the first attention the residual is a
  function of the position's token and index, so the embeddings and any MLPs before that
  attention are computed once for every (token, position) pair. So is every projection of an
  attention that reads only dimensions no sublayer of the run has written yet: all of the first
  attention's, and later ones such as keys of the indices or values of the tokens. Where an
  attention's queries and keys are both tabulated and the table is small, so are its scores for
  every pair of pairs; where only one of them is, and it depends on the position alone (queries
  of the indices), the scores are one product per head instead of one per input;
* folds an attention's output projection into its values where that leaves no more values per
  head (the values are then written out as they are mixed).

A run looks the tabulated rows up instead of recomputing them, and holds only the rows that a
sublayer it computes reads or writes, and those the outputs read.

The decoded outputs are those of :meth:`CompiledTransformer.forward`; the residual may differ
from it in the last bits, because products are summed over fewer zeros and in another order,
so tracing uses ``forward``.

``torch.compile`` does not pay on these shapes: on :func:`final_residual` at batch 1,000,
length 8, one thread (``benchmarks/everyday_paths.py``) it ran at 0.4-0.85x of the eager
plan's rate for sort_unique, hist and reverse and at most 1.2x for sort, after a first call of
0.4-8 s, so the plan runs eagerly and nothing offers it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from rasp_ir.backends.torch.model import CompiledTransformer

# An attention's scores are tabulated over pairs of (token, position) pairs up to this many
# floats (16 MiB); above it they are computed from its tabulated queries and keys.
MAX_SCORE_TABLE = 1 << 22
# The position-wise table (every residual row for every (token, position) pair) is built up to
# this many floats (64 MiB), and so is each tabulated projection; above it the embeddings are
# looked up and the prefix computed, or the projection computed.
MAX_ROW_TABLE = 1 << 24
# exp(s) is a normal float32 for s >= -EXP_FLOOR; below it torch's exp also leaves its
# vectorised path (measured: 12-35x slower per element), so no softmax takes exp there.
EXP_FLOOR = 87.0
# Scores more than this below their row's largest get a weight under e^-64 (1.6e-28) of its
# weight: far below float32's resolution of a row sum that holds it, so they are raised to it.
NEGLIGIBLE = 64.0
# Scores within EXP_RANGE of 0 need no shift before exp: with at most e^8 keys (2,980) a row's
# sum stays below float32's largest number.
EXP_RANGE = 80.0
MAX_SHIFT_FREE_KEYS = 2980


@dataclass(frozen=True)
class AttentionStep:
    """One attention sublayer over the model dimensions it reads and writes, each head cut to
    the query/key columns where both are non-zero and the value columns that are read out."""

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


@dataclass(frozen=True)
class Projection:
    """An attention's queries, keys or values, every head's columns stacked (head-major): the
    run's residual rows ``reads`` times ``weight`` (reads x columns), or, when ``table`` is set,
    its columns (columns x codes) looked up by each position's code ``token * n_positions +
    position``."""

    reads: torch.Tensor
    weight: torch.Tensor
    table: torch.Tensor | None

    def of(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Columns x positions for the residual ``x`` (rows x positions) whose positions have
        codes ``codes``."""
        if self.table is not None:
            return self.table.index_select(1, codes)
        return self.weight.t() @ x.index_select(0, self.reads)


@dataclass(frozen=True)
class Attention:
    """One attention sublayer of a run: its queries (scaled) and keys, or where both are
    tabulated and the table small their products for every pair of codes (``scores``: heads x
    codes x codes, each query's row shifted by its largest entry where that keeps exp in range:
    see :func:`_shifted_scores`); where only one of them is tabulated and it depends on the
    position alone, that one by position (``query_positions``: heads x positions x n_qk,
    ``key_positions``: heads x n_qk x positions), which turns the scores into one product per
    head; its values; and its output projection ``out`` ((heads * values per head) x writes), or
    None where it is folded into the values, which then have one column per written row per
    head."""

    queries: Projection
    keys: Projection
    scores: torch.Tensor | None
    shifted: bool
    query_positions: torch.Tensor | None
    key_positions: torch.Tensor | None
    values: Projection
    out: torch.Tensor | None
    writes: torch.Tensor
    heads: int


RunStep = Attention | MlpStep


@dataclass(frozen=True)
class ForwardPlan:
    """The live residual ``rows`` a run holds (model dimensions, in order; every step reads and
    writes positions in it) and their embeddings (``tokens``: rows x tokens, ``positions``: rows
    x positions); their values after the position-wise prefix for every code ``token *
    n_positions + position`` (``table``: rows x codes, None when too large: then ``steps``
    start with the prefix); the steps after the prefix."""

    rows: tuple[int, ...]
    tokens: torch.Tensor
    positions: torch.Tensor
    table: torch.Tensor | None
    steps: tuple[RunStep, ...]
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
        positions (the sink left out): batch x positions x dims, a view of a contiguous
        dims-first copy (reducing over the dims of that layout takes whole rows at a time)."""
        rows = self.columns(dims)
        if rows and rows[-1] - rows[0] + 1 == len(rows):
            chosen = residual[rows[0] : rows[0] + len(rows)]  # consecutive: no gather
        else:
            chosen = residual.index_select(0, _longs(rows))
        picked = chosen.reshape(len(dims), *ids.shape)
        return picked[:, :, 1:].contiguous().permute(1, 2, 0)


def plan_forward(model: CompiledTransformer) -> ForwardPlan:
    """The plan of ``model`` (see the module docstring)."""
    read_out = set().union(
        *(decoder.dims for decoder in model.info.decoders),
        *(check.dims for check in model.info.mean_checks),
    )
    steps = _live_steps(plan_steps(model), read_out)
    every = _touched(read_out, steps)
    tokens, positions = _embeddings(model, every)
    codes = tokens.shape[1] * positions.shape[1]
    if len(every) * codes > MAX_ROW_TABLE:
        computed = [_run_step(step, None, every, set(), positions.shape[1]) for step in steps]
        placed = tuple(_placed(step, every) for step in computed)
        return ForwardPlan(tuple(every), tokens, positions, None, placed, model.config.causal)
    table = tokens.repeat_interleave(positions.shape[1], dim=1) + positions.repeat(
        1, tokens.shape[1]
    )
    leading = next((i for i, s in enumerate(steps) if isinstance(s, AttentionStep)), len(steps))
    for step in steps[:leading]:
        assert isinstance(step, MlpStep)
        _mlp(_in_rows(step, every), table)
    written: set[int] = set()
    later: list[RunStep] = []
    for step in steps[leading:]:
        later.append(_run_step(step, table, every, written, positions.shape[1]))
        written |= set(step.writes.tolist())
    # Rows only the prefix and tabulated projections read are not needed by a run.
    rows = sorted(read_out.union(*(_run_rows(step) for step in later)))
    index = torch.searchsorted(_longs(every), _longs(rows))
    return ForwardPlan(
        tuple(rows),
        tokens.index_select(0, index),
        positions.index_select(0, index),
        table.index_select(0, index).contiguous(),
        tuple(_placed(step, rows) for step in later),
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


def _in_rows(step: MlpStep, rows: list[int]) -> MlpStep:
    """``step`` reading and writing places in ``rows`` (model dimensions, sorted) instead of
    model dimensions."""
    where = _longs(rows)
    return replace(
        step,
        reads=torch.searchsorted(where, step.reads),
        writes=torch.searchsorted(where, step.writes),
    )


def _run_step(
    step: Step, table: torch.Tensor | None, every: list[int], written: set[int], n_positions: int
) -> RunStep:
    """``step`` as a run computes it, in model dimensions: an attention's projections that read
    none of ``written`` (what the run's earlier sublayers write) are tabulated from ``table``
    (the rows ``every`` for every code over ``n_positions`` positions), when there is one."""
    if isinstance(step, MlpStep):
        return step
    heads, qk = step.heads, step.heads * step.n_qk
    values = step.qkv[:, 2 * qk :]
    out: torch.Tensor | None = step.out
    if len(step.writes) <= step.n_v:
        values, out = _folded(values, step.out, heads), None
    queries, keys, values_ = (
        _projection(step.reads, weight, table, every, written)
        for weight in (step.qkv[:, :qk] * step.scale, step.qkv[:, qk : 2 * qk], values)
    )
    scores, shifted = None, False
    if queries.table is not None and keys.table is not None:
        scores = _tabulated_scores(queries.table, keys.table, heads)
    if scores is not None:
        scores, shifted = _shifted_scores(scores)
    query_positions = key_positions = None
    if queries.table is not None and keys.table is None:
        by_position = _by_position(queries.table, n_positions)
        if by_position is not None:
            query_positions = by_position.reshape(heads, -1, n_positions).transpose(1, 2)
    if keys.table is not None and queries.table is None:
        by_position = _by_position(keys.table, n_positions)
        if by_position is not None:
            key_positions = by_position.reshape(heads, -1, n_positions)
    return Attention(
        queries, keys, scores, shifted, query_positions, key_positions, values_, out,
        step.writes, heads,
    )  # fmt: skip


def _by_position(table: torch.Tensor, n_positions: int) -> torch.Tensor | None:
    """A tabulated projection (columns x codes ``token * n_positions + position``) by position
    (columns x positions) where it depends on the position alone wherever a run looks it up:
    the sink (token 0) at position 0, every vocabulary token at the others (a padding position,
    which nothing reads, takes the same); None where it does not."""
    grid = table.reshape(len(table), -1, n_positions)
    vocabulary = grid[:, 1:-1, 1:]  # neither the sink nor padding (the last token)
    if vocabulary.shape[1] == 0 or not bool((vocabulary == vocabulary[:, :1]).all()):
        return None
    return torch.cat([grid[:, 0, :1], vocabulary[:, 0]], dim=1).contiguous()


def _folded(values: torch.Tensor, out: torch.Tensor, heads: int) -> torch.Tensor:
    """Each head's value weights (reads x heads * n_v, head-major) times its rows of ``out``
    ((heads * n_v) x writes): reads x heads * writes."""
    reads, writes = len(values), out.shape[1]
    per_head = values.reshape(reads, heads, -1).permute(1, 0, 2) @ out.reshape(heads, -1, writes)
    return per_head.permute(1, 0, 2).reshape(reads, heads * writes)


def _projection(
    reads: torch.Tensor,
    weight: torch.Tensor,
    table: torch.Tensor | None,
    every: list[int],
    written: set[int],
) -> Projection:
    """The columns ``weight`` (one row per model dimension of ``reads``) over the dimensions
    they read, tabulated from ``table`` (rows ``every``) when none of those is ``written`` and
    the table stays within :data:`MAX_ROW_TABLE` floats (then with no reads left)."""
    used = _nonzero(weight.abs().sum(dim=1) > 0)
    reads, weight = reads[used], weight[used].contiguous()
    fixed = not set(reads.tolist()) & written
    if table is None or not fixed or weight.shape[1] * table.shape[1] > MAX_ROW_TABLE:
        return Projection(reads, weight, None)
    rows = torch.searchsorted(_longs(every), reads)
    looked_up = (weight.t() @ table.index_select(0, rows)).contiguous()
    return Projection(reads[:0], weight[:0], looked_up)


def _tabulated_scores(queries: torch.Tensor, keys: torch.Tensor, heads: int) -> torch.Tensor | None:
    """Every head's scores for every pair of codes (heads x codes x codes) from tabulated
    ``queries`` and ``keys`` (heads * n x codes); None above :data:`MAX_SCORE_TABLE` floats."""
    codes = queries.shape[1]
    if heads * codes * codes > MAX_SCORE_TABLE:
        return None
    size = len(queries) // heads
    q = queries.reshape(heads, size, codes)
    return (q.transpose(1, 2) @ keys.reshape(heads, size, codes)).contiguous()


def _shifted_scores(scores: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``scores`` (heads x codes x codes) with each query's row shifted by its largest entry
    and raised to :data:`NEGLIGIBLE` below its entry for the sink (code 0), and True; or
    unchanged, and False, where that would take some entry below ``-EXP_FLOOR``.

    A run's row of scores holds some of a query's entries, always the sink's: after the shift
    they are at most 0 and the largest is at least the sink's, so exp needs no row maximum
    (softmax is the same for any shift of a row), and an entry raised was negligible."""
    top = scores.amax(dim=-1, keepdim=True)
    floor = scores[:, :, :1] - top - NEGLIGIBLE
    if float(floor.amin()) < -EXP_FLOOR:
        return scores, False
    return torch.maximum(scores - top, floor), True


def _run_rows(step: RunStep) -> set[int]:
    """The model dimensions a run holds for ``step``: what it writes and what it reads
    (tabulated projections read nothing)."""
    dims = set(step.writes.tolist())
    if isinstance(step, MlpStep):
        return dims | set(step.reads.tolist())
    for projection in (step.queries, step.keys, step.values):
        dims |= set(projection.reads.tolist())
    return dims


def _placed(step: RunStep, rows: list[int]) -> RunStep:
    """``step`` reading and writing places in ``rows`` (model dimensions, sorted)."""
    if isinstance(step, MlpStep):
        return _in_rows(step, rows)
    where = _longs(rows)

    def placed(projection: Projection) -> Projection:
        return replace(projection, reads=torch.searchsorted(where, projection.reads))

    return replace(
        step,
        queries=placed(step.queries),
        keys=placed(step.keys),
        values=placed(step.values),
        writes=torch.searchsorted(where, step.writes),
    )


def _mlp(step: MlpStep, x: torch.Tensor) -> None:
    """Add the MLP's output to the residual ``x`` (rows x columns) in place."""
    hidden = torch.addmm(step.b_in[:, None], step.w_in.t(), x.index_select(0, step.reads))
    _add_rows(x, step.writes, torch.addmm(step.b_out[:, None], step.w_out.t(), hidden.relu_()))


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
    for step in plan.steps:
        if isinstance(step, MlpStep):
            _mlp(step, x)
        else:
            _add_rows(x, step.writes, _attend(step, x, codes, blocked, batch, width))
    return x


def _add_rows(x: torch.Tensor, rows: torch.Tensor, values: torch.Tensor) -> None:
    """``x[rows] += values`` for distinct ``rows`` in increasing order: a slice where they are
    consecutive, as a sublayer's writes usually are (torch's ``index_add_`` scatters element
    by element)."""
    start = int(rows[0])
    if int(rows[-1]) - start + 1 == len(rows):
        x[start : start + len(rows)] += values
    else:
        x.index_add_(0, rows, values)


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


def _attend(
    step: Attention,
    x: torch.Tensor,
    codes: torch.Tensor,
    blocked: torch.Tensor | None,
    batch: int,
    width: int,
) -> torch.Tensor:
    """The sublayer's output for the residual ``x`` (rows x batch * positions, the positions'
    codes ``codes``): one row per written row."""
    heads = step.heads

    def per_head(rows: torch.Tensor) -> torch.Tensor:
        return rows.reshape(heads, len(rows) // heads, batch, width).permute(2, 0, 3, 1)

    if step.scores is not None:
        scores = _looked_up(step.scores, codes, batch, width)
    elif step.query_positions is not None:
        keys = step.keys.of(x, codes).reshape(heads, -1, batch * width)
        by_query = step.query_positions[:, :width] @ keys  # heads x queries x (batch x keys)
        scores = by_query.reshape(heads, width, batch, width).permute(2, 0, 1, 3)
    elif step.key_positions is not None:
        queries = step.queries.of(x, codes).reshape(heads, -1, batch * width)
        by_key = queries.transpose(1, 2) @ step.key_positions[:, :, :width]
        scores = by_key.reshape(heads, batch, width, width).transpose(0, 1)
    else:
        keys = per_head(step.keys.of(x, codes))
        scores = per_head(step.queries.of(x, codes)) @ keys.transpose(-1, -2)
    weights = _exp_weights(scores, blocked, step.shifted)
    totals = weights.sum(dim=-1, keepdim=True)
    values = per_head(step.values.of(x, codes))
    # Softmax divides the weights by their row's total; dividing the mixed values instead is the
    # same, and fewer divisions where a head has fewer value columns than keys.
    if values.shape[-1] < width:
        mixed = (weights @ values).div_(totals)
    else:
        mixed = weights.div_(totals) @ values
    if step.out is None:
        # Values already in the written rows: the heads' outputs add up.
        return mixed.sum(dim=1).permute(2, 0, 1).reshape(len(step.writes), batch * width)
    flat = mixed.permute(1, 3, 0, 2).reshape(len(step.out), batch * width)
    out: torch.Tensor = step.out.t() @ flat
    return out


def _looked_up(scores: torch.Tensor, codes: torch.Tensor, batch: int, width: int) -> torch.Tensor:
    """Batch x heads x positions x positions scores from ``scores`` (heads x codes x codes) for
    the positions' codes ``codes`` (batch * positions)."""
    heads, n_codes = scores.shape[0], scores.shape[-1]
    by_input = codes.reshape(batch, width)
    pairs = (by_input[:, :, None] * n_codes + by_input[:, None, :]).reshape(-1)
    flat = scores.reshape(heads, -1)
    if heads == 1:
        # A one-dimensional gather: about 1.6x faster than the same along the second axis.
        picked = flat[0].index_select(0, pairs)
        return picked.reshape(batch, 1, width, width)
    return flat.index_select(1, pairs).reshape(heads, batch, width, width).transpose(0, 1)


def _exp_weights(scores: torch.Tensor, blocked: torch.Tensor | None, shifted: bool) -> torch.Tensor:
    """Softmax's weights before they are divided by their row's total: ``exp`` of ``scores``,
    each row shifted, computed in place; 0 for the ``blocked`` keys (every row keeps one key:
    the sink is never blocked).

    Softmax is the same for any shift of a row. The row maximum is subtracted (three more
    passes, scores more than :data:`NEGLIGIBLE` below it raised to that) only where exp could
    leave float32's normal range otherwise: unless the scores were ``shifted`` when tabulated,
    or are all within :data:`EXP_RANGE` of 0 in rows of at most :data:`MAX_SHIFT_FREE_KEYS`.
    The rows are a few positions long, where ``torch.softmax`` spends more time per row than
    these whole-tensor operations (measured: about 1.8x)."""
    in_range = shifted or (
        scores.shape[-1] <= MAX_SHIFT_FREE_KEYS
        and (scores.numel() == 0 or float(scores.abs().amax()) <= EXP_RANGE)
    )
    if not in_range:
        if blocked is not None:
            scores.masked_fill_(blocked, float("-inf"))
        scores -= scores.amax(dim=-1, keepdim=True)
        scores.clamp_(min=-NEGLIGIBLE)
    scores.exp_()
    if blocked is not None:
        scores.masked_fill_(blocked, 0.0)
    return scores
