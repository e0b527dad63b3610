"""Checkpoints without pickle: a model (and optionally optimiser state) in, ``NAME.safetensors``
plus a ``NAME.json`` sidecar out; and back, refusing bad files with a message.

The sidecar holds the format name and version, the model config (vocabulary, classes, k, N,
causal flag, output mask), the task and training settings, library versions, and the SHA-256 of
the tensor file, so a truncated, swapped or foreign file is refused before it is used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safetensors
import torch
from safetensors.torch import load_file

from rasp_ir import __version__
from rasp_ir.api import RaspError
from rasp_ir.backends.torch.tensor_files import save_tensors

from .config import ModelConfig
from .model import TransformerProgram, model_to_load

FORMAT = "rasp-ir/transformer-program"
FORMAT_VERSION = 1
HINT = "re-create it with 'rasp tp train' or 'rasp tp compile'"


@dataclass
class Checkpoint:
    """What a checkpoint holds besides the tensors: config and free-form metadata."""

    config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Library versions recorded in every sidecar."""
    return {
        "rasp_ir": __version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
    }


def save(
    path: Path,
    model: TransformerProgram,
    meta: dict[str, Any],
    extra: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write ``path.safetensors`` (model tensors, prefixed ``model.``, and ``extra`` tensors)
    and ``path.json``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    tensors.update({k: v.detach().contiguous().cpu() for k, v in (extra or {}).items()})
    weights = path.with_suffix(".safetensors")
    save_tensors(tensors, weights)
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_json(),
        "versions": versions(),
        "sha256": _sha256(weights),
        **meta,
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")


def _refuse(path: Path, message: str) -> RaspError:
    return RaspError.single("checkpoint", f"{path}: {message}", hint=HINT)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The checked JSON sidecar of checkpoint ``path`` (without suffix)."""
    sidecar = path.with_suffix(".json")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _refuse(sidecar, "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _refuse(sidecar, f"not a readable JSON file ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _refuse(sidecar, f"not a Transformer Programs checkpoint (format is not {FORMAT!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            sidecar,
            f"unknown format version {data.get('format_version')!r} "
            f"(this rasp-ir reads version {FORMAT_VERSION})",
        )
    return data


def load(path: Path) -> tuple[TransformerProgram, Checkpoint, dict[str, torch.Tensor]]:
    """The model, its sidecar data and the non-model tensors of checkpoint ``path``."""
    data = read_sidecar(path)
    try:
        config = ModelConfig.from_json(data["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise _refuse(path.with_suffix(".json"), f"invalid model config ({error})") from None
    weights = path.with_suffix(".safetensors")
    if not weights.exists():
        raise _refuse(weights, "no such file")
    if data.get("sha256") != _sha256(weights):
        raise _refuse(weights, "the tensor file does not match its sidecar (truncated or replaced)")
    try:
        tensors = load_file(str(weights))
    except Exception as error:  # safetensors raises its own error types for bad files
        raise _refuse(weights, f"not a readable safetensors file ({error})") from None
    model = model_to_load(config)
    expected = model.state_dict()
    found = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    problems = [f"missing tensor {k}" for k in expected if k not in found]
    problems += [f"unexpected tensor {k}" for k in found if k not in expected]
    problems += [
        f"{k} has shape {tuple(found[k].shape)}, the config needs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in found and found[k].shape != v.shape
    ]
    problems += [
        f"{k} is {found[k].dtype}, expected {v.dtype}"
        for k, v in expected.items()
        if k in found and found[k].shape == v.shape and found[k].dtype != v.dtype
    ]
    if problems:
        raise _refuse(weights, "; ".join(problems[:5]))
    model.load_state_dict(found)
    meta = {k: v for k, v in data.items() if k not in ("format", "format_version", "config")}
    extra = {k: v for k, v in tensors.items() if not k.startswith("model.")}
    return model, Checkpoint(config, meta), extra
