"""A compile plan in, a :class:`~.model.CompiledTransformer` with its weights set out."""

from __future__ import annotations

import math

import torch

from rasp_ir.api import format_program
from rasp_ir.backends.torch.mlp import Unit, add, build_units
from rasp_ir.backends.torch.model import (
    CompiledTransformer,
    MeanCheck,
    ModelConfig,
    ModelInfo,
    OutputDecoder,
)
from rasp_ir.backends.torch.plan import MARGIN, HeadPlan, MlpTask, OutputPlan, Plan, encoder


def build_model(plan: Plan, warnings: tuple[str, ...] = ()) -> CompiledTransformer:
    """Set every weight of the model that ``plan`` describes."""
    n_layers = plan.n_layers
    mlps: dict[int, list[Unit]] = {layer: [] for layer in range(1, n_layers + 1)}
    embedded: list[MlpTask] = []
    for task in plan.tasks:
        if task.layer == 0:
            embedded.append(task)
        else:
            units = task.units
            if units is None:
                units = build_units(task.table, encoder(task), plan.one)
            mlps[task.layer].extend(_suppress_at_bos(plan, units))
    heads: dict[int, list[HeadPlan]] = {layer: [] for layer in range(1, n_layers + 1)}
    for head in plan.heads:
        heads[head.layer].append(head)
    d_head = max(
        [max(len({k for _, k in h.scores}), len({d for _, d, _ in h.values})) for h in plan.heads],
        default=1,
    )
    vocab = plan.sets["tokens"]
    config = ModelConfig(
        d_model=len(plan.labels),
        n_layers=n_layers,
        n_heads=max((len(h) for h in heads.values()), default=0),
        d_head=d_head,
        d_mlp=max((len(u) for u in mlps.values()), default=0),
        n_tokens=len(vocab) + 2,
        n_positions=plan.positions + 1,
        causal=plan.program.header.causal,
    )
    decoders = tuple(_decoder(out) for out in plan.outputs)
    info = ModelInfo(
        vocab=vocab,
        residual_labels=tuple(plan.labels),
        decoders=decoders,
        program_text=format_program(plan.program),
        bos=plan.program.header.bos,
        max_len=plan.program.header.max_len,
        warnings=warnings,
        mean_checks=tuple(MeanCheck(name, dims) for name, dims in plan.mean_checks),
    )
    model = CompiledTransformer(config, info)
    with torch.no_grad():
        _embeddings(plan, model, embedded)
        for layer in range(1, n_layers + 1):
            for slot, head in enumerate(heads[layer]):
                _set_head(plan, model, layer - 1, slot, head)
            _set_units(model, layer - 1, mlps[layer])
    return model


def _decoder(out: OutputPlan) -> OutputDecoder:
    """How to read an output. A num s-op is never undefined (the checker refuses one that can
    be): an undefined state of its channel is one the program never reaches, such as the raw
    channel of an aggregate whose selector never comes up empty, so it is not decoded."""
    if out.rep == "onehot":
        return OutputDecoder(
            out.name, "cat", out.leaf.dims, out.leaf.states, None in out.leaf.states
        )
    numbers = tuple(v for v in out.leaf.states if v is not None)
    return OutputDecoder(out.name, "num", out.leaf.dims, numbers, False)


def _set_units(model: CompiledTransformer, layer: int, units: list[Unit]) -> None:
    """The input and output weights of every hidden unit, one indexed write per matrix (each
    (dimension, unit) pair is written once)."""
    inp = [(d, slot, w) for slot, unit in enumerate(units) for d, w in unit.inp.items()]
    out = [(slot, d, w) for slot, unit in enumerate(units) for d, w in unit.out.items()]
    for matrix, entries in ((model.mlp_in[layer], inp), (model.mlp_out[layer], out)):
        if entries:
            rows, columns, weights = zip(*entries, strict=True)
            values = torch.tensor(weights, dtype=torch.float64).to(torch.float32)
            matrix[list(rows), list(columns)] = values


def _suppress_at_bos(plan: Plan, units: list[Unit]) -> list[Unit]:
    """Every hidden unit off at the sink, so BOS stays clean (rasp-semantics §16.8)."""
    at_bos = {plan.one: 1.0, plan.bos: 1.0}
    for head in plan.heads:
        at_bos.update({dst: 1.0 for src, dst, _ in head.values if src == plan.bos})
    result = []
    for unit in units:
        pre = sum(w * at_bos.get(d, 0.0) for d, w in unit.inp.items())
        result.append(
            Unit(add((1.0, unit.inp), (-(max(pre, 0.0) + 1.0), {plan.bos: 1.0})), unit.out)
        )
    return result


def _embeddings(plan: Plan, model: CompiledTransformer, tasks: list[MlpTask]) -> None:
    tokens = model.token_embedding
    positions = model.position_embedding
    n_vocab = len(plan.sets["tokens"])
    tokens[0, plan.one] = 1.0
    tokens[0, plan.bos] = 1.0
    for t in range(n_vocab):
        tokens[t + 1, plan.one] = 1.0
        dim = plan.tokens.state_dim(t)
        if dim is not None:
            tokens[t + 1, dim] = 1.0
    for i in range(plan.positions):
        dim = plan.indices.state_dim(i)
        if dim is not None:
            positions[i + 1, dim] = 1.0
    for task in tasks:
        encode = encoder(task)
        if not task.table.leaves:
            for dim, w in encode(int(task.table.codes)).items():
                tokens[1 : n_vocab + 1, dim] += w
            continue
        (leaf,) = task.table.leaves
        target = tokens if leaf is plan.tokens else positions
        for state, code in enumerate(task.table.codes.tolist()):
            for dim, w in encode(int(code)).items():
                target[state + 1, dim] += w


def _set_head(
    plan: Plan, model: CompiledTransformer, layer: int, slot: int, head: HeadPlan
) -> None:
    scores = dict(head.scores)
    from_one = sum(abs(w) for (q, _), w in scores.items() if q == plan.one)
    scores[(plan.bos, plan.bos)] = scores.get((plan.bos, plan.bos), 0.0) + from_one + MARGIN
    keys = sorted({k for _, k in scores})
    scale = math.sqrt(model.config.d_head)
    for column, key in enumerate(keys):
        model.w_k[layer, slot, key, column] = 1.0
    for (query, key), weight in scores.items():
        model.w_q[layer, slot, query, keys.index(key)] += weight * scale
    columns = list(dict.fromkeys(dst for _, dst, _ in head.values))
    for src, dst, weight in head.values:
        column = columns.index(dst)
        model.w_v[layer, slot, src, column] += weight
        model.w_o[layer, slot, column, dst] = 1.0
