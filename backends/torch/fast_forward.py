"""A compiled model's weights in, a plan that computes its final residual with less work out.

Compiled weights are sparse in a known way: a sublayer reads a few residual dimensions, writes a
few, and many sublayers are empty (an attention layer with no head, a layer with no MLP). The
plan drops empty sublayers (their contribution is exactly zero), fuses the query, key and value
projections of all heads into one matrix over the dimensions they read, and keeps only the MLP
units that can contribute, writing back only the dimensions a sublayer writes. The decoded
outputs are those of :meth:`CompiledTransformer.forward`; the residual may differ from it in the
last bits, because products are summed over fewer zeros, so tracing uses ``forward``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from rasp_ir.backends.torch.model import CompiledTransformer


@dataclass(frozen=True)
class AttentionStep:
    """One attention sublayer over the dimensions it reads and writes, each head cut to the
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
    """One MLP sublayer over the dimensions it reads, its live units and what it writes."""

    reads: torch.Tensor
    w_in: torch.Tensor
    b_in: torch.Tensor
    w_out: torch.Tensor
    b_out: torch.Tensor
    writes: torch.Tensor


Step = AttentionStep | MlpStep


def plan_steps(model: CompiledTransformer) -> list[Step]:
    """The non-empty sublayers of ``model``, in order, with their weights cut to size."""
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
    # A unit contributes when it can be non-zero (some input weight or bias) and is read out.
    units = _nonzero(((w_in.abs().sum(dim=0) + b_in.abs()) > 0) & (w_out.abs().sum(dim=1) > 0))
    reads = _nonzero(w_in[:, units].abs().sum(dim=1) > 0)
    return MlpStep(
        reads,
        w_in[reads][:, units].contiguous(),
        b_in[units].contiguous(),
        w_out[units][:, writes].contiguous(),
        b_out[writes].contiguous(),
        writes,
    )


def final_residual(
    model: CompiledTransformer, steps: list[Step], ids: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    """The residual after the last layer for ``ids`` (batch x positions, sink first) and
    ``lengths`` (positions including the sink), computed by ``steps``; shape batch x positions
    x d_model (a transposed view).

    The residual is kept one row per dimension (d_model x batch * positions), so that reading
    and writing a sublayer's dimensions moves whole rows.
    """
    batch, width = ids.shape
    positions = torch.arange(width)
    flat_ids = ids.reshape(-1)
    flat_positions = positions.repeat(batch)
    x = model.token_embedding.t().index_select(1, flat_ids)
    x += model.position_embedding[:width].t().index_select(1, flat_positions)
    blocked = ~(positions[None, :] < lengths[:, None])[:, None, None, :]
    if model.config.causal:
        blocked = blocked | torch.ones(width, width, dtype=torch.bool).triu(1)[None, None]
    for step in steps:
        read = x.index_select(0, step.reads)
        if isinstance(step, AttentionStep):
            x.index_add_(0, step.writes, _attend(step, read, blocked, batch, width))
        else:
            hidden = torch.relu(step.w_in.t() @ read + step.b_in[:, None])
            x.index_add_(0, step.writes, step.w_out.t() @ hidden + step.b_out[:, None])
    return x.t().reshape(batch, width, -1)


def _attend(
    step: AttentionStep, read: torch.Tensor, blocked: torch.Tensor, batch: int, width: int
) -> torch.Tensor:
    """The sublayer's output, one row per written dimension (``read``: one row per read
    dimension, columns batch x positions)."""
    heads, n_qk, n_v = step.heads, step.n_qk, step.n_v
    projected = step.qkv.t() @ read
    qk = heads * n_qk

    def per_head(rows: torch.Tensor, size: int) -> torch.Tensor:
        return rows.reshape(heads, size, batch, width).permute(2, 0, 3, 1)

    q = per_head(projected[:qk], n_qk)
    k = per_head(projected[qk : 2 * qk], n_qk)
    v = per_head(projected[2 * qk :], n_v)
    scores = (q @ k.transpose(-1, -2)) * step.scale
    pattern = torch.softmax(scores.masked_fill(blocked, float("-inf")), dim=-1)
    mixed = (pattern @ v).permute(1, 3, 0, 2).reshape(heads * n_v, batch * width)
    out: torch.Tensor = step.out.t() @ mixed
    return out
