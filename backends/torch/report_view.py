"""What ``rasp report`` and ``rasp explain`` see of a compiled model: ``MODEL`` (or
``MODEL.json``) in, an :class:`~rasp_ir.api.ArtifactView` out (the program it was compiled
from, its sizes, and on a batch its residual stream after every sublayer, with the labels of
the residual dimensions, and its attention weights), or None when the path is not a compiled
model of this backend."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from rasp_ir.api import ArtifactView, ModelTrace, Value, format_value

from .model import CompiledTransformer
from .serialize import FORMAT_VERSION, load_model, paths

SINK = "sink"


def model_view(path: Path) -> ArtifactView | None:
    """The view of the compiled model at ``path``, or None when it is not one."""
    _, sidecar = paths(path)
    if not _is_ours(sidecar):
        return None
    model = load_model(path)
    config = model.config
    facts = (
        (
            "sizes",
            f"{config.n_layers} layers x {config.n_heads} heads, d_model {config.d_model}, "
            f"d_head {config.d_head}, MLP width {config.d_mlp}",
        ),
        ("weights", str(paths(path)[0])),
    )
    return ArtifactView(
        kind="compiled transformer (torch backend)",
        source=str(sidecar),
        program_text=model.info.program_text,
        facts=facts,
        trace=lambda inputs: model_trace(model, inputs),
    )


def _is_ours(sidecar: Path) -> bool:
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return (
        isinstance(data, dict)
        and data.get("format_version") == FORMAT_VERSION
        and "residual_labels" in data
    )


def model_trace(model: CompiledTransformer, inputs: Sequence[Sequence[Value]]) -> ModelTrace:
    """The residual after the embedding and after every attention and MLP sublayer, and every
    head's attention weights; position 0 is the model's attention sink, then the program's
    positions."""
    with torch.no_grad():
        ids, lengths = model.encode(inputs)
        _, residuals, patterns = model.forward(ids, lengths, trace=True)
    stages = ["embedding"]
    for layer in range(1, model.config.n_layers + 1):
        stages += [f"L{layer} attention", f"L{layer} mlp"]
    prefix = [SINK] if model.info.bos is None else [SINK, format_value(model.info.bos)]
    positions = tuple(
        tuple(f"{i}:{t}" for i, t in enumerate([*prefix, *(format_value(v) for v in x)]))
        for x in inputs
    )
    values = np.stack([r.double().numpy() for r in residuals])
    attention = np.stack([p.double().numpy() for p in patterns]) if patterns else None
    return ModelTrace(tuple(stages), model.residual_labels, positions, values, attention)
