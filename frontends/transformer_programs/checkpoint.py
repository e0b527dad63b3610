"""Checkpoints without pickle: a model (and optionally optimiser state) in, ``NAME.safetensors``
plus a ``NAME.json`` sidecar out; and back, refusing bad files with a message.

The sidecar holds the format name and version, the model config (vocabulary, classes, k, N,
causal flag, output mask), the task and training settings, library versions, and the SHA-256 of
the tensor file, so a truncated, swapped or foreign file is refused before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rasp_ir.backends.torch.checkpoint_files import (
    CheckpointFormat,
    oversized_config,
    sha256_of_file,
    state_problems,
    versions,
)

from . import CHECKPOINT_FORMAT
from .config import ModelConfig
from .model import TransformerProgram, model_to_load, parameter_shapes

FORMAT = CheckpointFormat(
    name=CHECKPOINT_FORMAT,
    version=1,
    what="Transformer Programs checkpoint",
    hint="re-create it with 'rasp tp train' or 'rasp tp compile'",
)
__all__ = [
    "FORMAT",
    "Checkpoint",
    "load",
    "load_population",
    "read_sidecar",
    "save",
    "save_population",
    "sha256_of_file",
    "versions",
]


@dataclass
class Checkpoint:
    """What a checkpoint holds besides the tensors: config and free-form metadata."""

    config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)


def save(
    path: Path,
    model: TransformerProgram,
    meta: dict[str, Any],
    extra: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write ``path.safetensors`` (model tensors, prefixed ``model.``, and ``extra`` tensors)
    and ``path.json``."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(extra or {})
    FORMAT.write(path, tensors, model.config.to_json(), meta)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The checked JSON sidecar of checkpoint ``path`` (without suffix)."""
    return FORMAT.read_sidecar(path)


def load(path: Path) -> tuple[TransformerProgram, Checkpoint, dict[str, torch.Tensor]]:
    """The model, its sidecar data and the non-model tensors of checkpoint ``path``."""
    data = read_sidecar(path)
    try:
        config = ModelConfig.from_json(data["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise FORMAT.refuse(path.with_suffix(".json"), f"invalid model config ({error})") from None
    tensors = FORMAT.read_tensors(path, data)
    oversized = oversized_config(data["config"], tensors)
    if oversized:
        raise FORMAT.refuse(path.with_suffix(".json"), "; ".join(oversized[:3]))
    found = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    # The config's shapes without a model: an edited config is refused before it can ask for
    # more memory than the weights on file take.
    problems = state_problems(found, _expected_tensors(path, config))
    if problems:
        raise FORMAT.refuse(path.with_suffix(".safetensors"), "; ".join(problems[:5]))
    model = model_to_load(config)
    model.load_state_dict(found)
    meta = {k: v for k, v in data.items() if k not in ("format", "format_version", "config")}
    extra = {k: v for k, v in tensors.items() if not k.startswith("model.")}
    return model, Checkpoint(config, meta), extra


def save_population(
    path: Path,
    config: ModelConfig,
    weights: dict[str, torch.Tensor],
    meta: dict[str, Any],
    extra: dict[str, torch.Tensor],
) -> None:
    """Write a population's checkpoint ``path``: its stacked ``weights`` (each parameter of
    the model with a leading member axis, prefixed ``model.``), ``extra`` tensors and
    ``meta``, which names the members' ``seeds`` (and, after a cull, the ``active`` ones, whose
    weights these are)."""
    tensors = {f"model.{name}": weight for name, weight in weights.items()}
    FORMAT.write(path, {**tensors, **extra}, config.to_json(), meta)


def load_population(
    path: Path,
) -> tuple[Checkpoint, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A population checkpoint's sidecar data, stacked weights (by parameter name) and other
    tensors; refused unless the weights are the config's, one per seed of ``meta["seeds"]``
    (of ``meta["active"]``, the members still training, after a cull)."""
    data = read_sidecar(path)
    if "seeds" not in data:
        raise FORMAT.refuse(
            path.with_suffix(".json"), "a single model's checkpoint, not a population's"
        )
    try:
        config = ModelConfig.from_json(data["config"])
        size = len([int(seed) for seed in data.get("active", data["seeds"])])
    except (KeyError, TypeError, ValueError) as error:
        raise FORMAT.refuse(
            path.with_suffix(".json"), f"invalid population config ({error})"
        ) from None
    tensors = FORMAT.read_tensors(path, data)
    oversized = oversized_config(data["config"], tensors)
    if oversized:
        raise FORMAT.refuse(path.with_suffix(".json"), "; ".join(oversized[:3]))
    found = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    problems = state_problems(found, _expected_tensors(path, config, (size,)))
    if problems:
        raise FORMAT.refuse(path.with_suffix(".safetensors"), "; ".join(problems[:5]))
    meta = {k: v for k, v in data.items() if k not in ("format", "format_version", "config")}
    extra = {k: v for k, v in tensors.items() if not k.startswith("model.")}
    return Checkpoint(config, meta), found, extra


def _expected_tensors(
    path: Path, config: ModelConfig, leading: tuple[int, ...] = ()
) -> dict[str, torch.Tensor]:
    """Memoryless (meta) float32 tensors of the shapes the weights of ``config`` have, each
    with the ``leading`` axes first (a population's member axis); an impossible config is
    refused as checkpoint ``path``'s."""
    try:
        shapes = parameter_shapes(config)
        return {
            name: torch.empty(*leading, *shape, device="meta") for name, shape in shapes.items()
        }
    except (ValueError, TypeError, OverflowError, RuntimeError, ZeroDivisionError) as error:
        raise FORMAT.refuse(path.with_suffix(".json"), f"invalid model config ({error})") from None
