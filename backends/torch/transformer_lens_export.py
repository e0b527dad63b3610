"""A compiled model in, a TransformerLens checkpoint folder out: ``config.json`` (the
HookedTransformer-style config TransformerLens builds a native model from), ``model.safetensors``
(the weights under TransformerLens's property names: ``embed.W_E``, ``blocks.0.attn.W_Q``, ...)
and ``labels.json`` (token ids, residual labels, hook names, heads and logit columns).

Nothing here imports ``transformer_lens``: the export is just files. The mapping is exact:
TransformerLens's native model without normalisation is our architecture (token and position
embeddings, softmax attention scaled by ``1/sqrt(d_head)``, ReLU MLP, residual additions). The
unembedding reads each output's directions into its own logit columns; a categorical output
that may be undefined gets one more column whose bias is the decoder's 1/2, so the argmax over
an output's columns is the decoded value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rasp_ir.api import RaspError, Value
from rasp_ir.backends.torch.model import PAD, CompiledTransformer
from rasp_ir.backends.torch.serialize import encode_value

from .tensor_files import save_tensors, write_text_atomically

LENS_FORMAT = "rasp-ir transformer-lens export"
LENS_FORMAT_VERSION = 1
SINK = "<sink>"
UNDEFINED_LOGIT = 0.5

# TransformerLens hooks whose last axis is the residual stream, per block and for the model.
BLOCK_RESIDUAL_HOOKS = (
    "hook_resid_pre",
    "hook_attn_out",
    "hook_resid_mid",
    "hook_mlp_out",
    "hook_resid_post",
)
ATTENTION_ONLY_HOOKS = ("hook_resid_pre", "hook_attn_out", "hook_resid_post")
MODEL_RESIDUAL_HOOKS = ("hook_embed", "hook_pos_embed")


@dataclass(frozen=True)
class LogitColumn:
    """One logit column: the output it belongs to and the value it stands for (``None``: the
    output is undefined; for a numerical output, ``scalar``: the column is the value itself)."""

    output: str
    value: Value
    scalar: bool = False


def lens_config(model: CompiledTransformer) -> dict[str, Any]:
    """The TransformerLens config of ``model``: no layer norm, ReLU, standard positions,
    bidirectional or causal attention scaled by ``sqrt(d_head)``; a model with no MLP is
    attention-only, a model without heads gets one all-zero head (it adds nothing)."""
    config = model.config
    return {
        "d_model": config.d_model,
        "n_layers": config.n_layers,
        "n_heads": max(config.n_heads, 1),
        "d_head": config.d_head,
        "d_mlp": config.d_mlp if config.d_mlp > 0 else 4 * config.d_model,
        "attn_only": config.d_mlp == 0,
        "n_ctx": config.n_positions,
        "d_vocab": config.n_tokens,
        "d_vocab_out": len(logit_columns(model)),
        "act_fn": "relu",
        "normalization_type": None,
        "positional_embedding_type": "standard",
        "attention_dir": "causal" if config.causal else "bidirectional",
        "use_attn_scale": True,
        "attn_scale": math.sqrt(config.d_head),
        "original_architecture": "rasp-ir",
    }


def logit_columns(model: CompiledTransformer) -> list[LogitColumn]:
    """The logit columns, output after output: a categorical output's defined values (then
    ``None`` when it may be undefined), or a numerical output's one scalar column."""
    columns: list[LogitColumn] = []
    for decoder in model.info.decoders:
        if decoder.kind != "cat":
            columns.append(LogitColumn(decoder.name, None, scalar=True))
            continue
        columns.extend(LogitColumn(decoder.name, v) for v in decoder.values if v is not None)
        if decoder.undefined:
            columns.append(LogitColumn(decoder.name, None))
    return columns


def lens_state_dict(model: CompiledTransformer) -> dict[str, torch.Tensor]:
    """The weights under TransformerLens's property names and shapes (HookedTransformer's
    ``state_dict`` convention, which ``convert_tl_checkpoint`` reads)."""
    config = lens_config(model)
    heads, d_head, d_model = config["n_heads"], config["d_head"], config["d_model"]
    state: dict[str, torch.Tensor] = {
        "embed.W_E": model.token_embedding,
        "pos_embed.W_pos": model.position_embedding,
    }
    for layer in range(config["n_layers"]):
        prefix = f"blocks.{layer}"
        for name, ours, shape in (
            ("W_Q", model.w_q, (heads, d_model, d_head)),
            ("W_K", model.w_k, (heads, d_model, d_head)),
            ("W_V", model.w_v, (heads, d_model, d_head)),
            ("W_O", model.w_o, (heads, d_head, d_model)),
        ):
            weight = torch.zeros(shape)
            weight[: model.config.n_heads] = ours[layer]
            state[f"{prefix}.attn.{name}"] = weight
        for name in ("b_Q", "b_K", "b_V"):
            state[f"{prefix}.attn.{name}"] = torch.zeros(heads, d_head)
        state[f"{prefix}.attn.b_O"] = torch.zeros(d_model)
        if not config["attn_only"]:
            state[f"{prefix}.mlp.W_in"] = model.mlp_in[layer]
            state[f"{prefix}.mlp.b_in"] = model.mlp_in_bias[layer]
            state[f"{prefix}.mlp.W_out"] = model.mlp_out[layer]
            state[f"{prefix}.mlp.b_out"] = model.mlp_out_bias[layer]
    unembed, bias = _unembedding(model)
    state["unembed.W_U"] = unembed
    state["unembed.b_U"] = bias
    return {name: tensor.detach().to(torch.float32).contiguous() for name, tensor in state.items()}


def _unembedding(model: CompiledTransformer) -> tuple[torch.Tensor, torch.Tensor]:
    columns = logit_columns(model)
    unembed = torch.zeros(model.config.d_model, len(columns))
    bias = torch.zeros(len(columns))
    index = 0
    for decoder in model.info.decoders:
        dims = list(decoder.dims)
        for dim in dims:
            unembed[dim, index] = 1.0
            index += 1
        if decoder.kind == "cat" and decoder.undefined:
            bias[index] = UNDEFINED_LOGIT
            index += 1
    return unembed, bias


def lens_labels(model: CompiledTransformer, heads: dict[str, str]) -> dict[str, Any]:
    """What a reader needs besides the weights: the token of every id, the label of every
    residual dimension and the hooks that carry the residual, the head names (``heads``:
    ``"blocks.L.attn.H"`` to what the head computes), the logit columns and the decoding."""
    info = model.info
    tokens = [SINK, *info.vocab, PAD]
    per_block = ATTENTION_ONLY_HOOKS if model.config.d_mlp == 0 else BLOCK_RESIDUAL_HOOKS
    residual_hooks = [*MODEL_RESIDUAL_HOOKS]
    for layer in range(model.config.n_layers):
        residual_hooks.extend(f"blocks.{layer}.{hook}" for hook in per_block)
    return {
        "format": LENS_FORMAT,
        "format_version": LENS_FORMAT_VERSION,
        "tokens": [encode_value(t) for t in tokens],
        "sink_id": 0,
        "pad_id": len(tokens) - 1,
        "bos": encode_value(info.bos),
        "max_len": info.max_len,
        "residual_labels": list(info.residual_labels),
        "residual_hooks": residual_hooks,
        "heads": heads,
        "logits": [
            {"output": c.output, "value": encode_value(c.value), "scalar": c.scalar}
            for c in logit_columns(model)
        ],
        "outputs": [
            {
                "name": d.name,
                "kind": d.kind,
                "values": [encode_value(v) for v in d.values],
            }
            for d in info.decoders
        ],
        "program": info.program_text,
    }


def export_transformer_lens(
    model: CompiledTransformer, folder: Path, heads: dict[str, str]
) -> list[Path]:
    """Write ``config.json``, ``model.safetensors`` and ``labels.json`` into ``folder``
    (created), each through a temporary file and a rename; the paths written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RaspError.single("file", f"cannot create {folder}: {error.strerror}") from None
    weights = folder / "model.safetensors"
    save_tensors(lens_state_dict(model), weights)
    config = _write_json(folder / "config.json", lens_config(model))
    labels = _write_json(folder / "labels.json", lens_labels(model, heads))
    return [config, weights, labels]


def _write_json(path: Path, data: Any) -> Path:
    write_text_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return path
