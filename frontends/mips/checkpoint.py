"""GeneralRNN checkpoints without pickle: a model and metadata in, ``NAME.safetensors`` plus a
``NAME.json`` sidecar out; and back, refusing missing, truncated or foreign files with a message.

The sidecar holds the format name and version, the RNN configuration, library versions, the
SHA-256 of the tensor file and the caller's metadata (task, settings, seed, metrics).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import safetensors
import torch
from safetensors.torch import load_file

from rasp_ir import __version__
from rasp_ir.api import RaspError
from rasp_ir.backends.torch.tensor_files import save_tensors

from .rnn import GeneralRNN, RNNConfig

FORMAT = "rasp-ir/mips-rnn"
FORMAT_VERSION = 1
HINT = "re-create it with 'rasp mips train'"
RESERVED = ("format", "format_version", "config", "versions", "sha256")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Library versions recorded in every sidecar."""
    return {
        "rasp_ir": __version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
    }


def save(path: Path, model: GeneralRNN, meta: dict[str, Any]) -> None:
    """Write ``path.safetensors`` (the model's tensors) and ``path.json`` (format, config,
    versions, SHA-256 and ``meta``, whose keys must not be among :data:`RESERVED`)."""
    clash = sorted(set(meta) & set(RESERVED))
    if clash:
        raise RaspError.single("checkpoint", f"metadata may not set {', '.join(clash)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_suffix(".safetensors")
    save_tensors({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, weights)
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
        raise _refuse(sidecar, f"not a MIPS RNN checkpoint (format is not {FORMAT!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            sidecar,
            f"unknown format version {data.get('format_version')!r} "
            f"(this rasp-ir reads version {FORMAT_VERSION})",
        )
    return data


def _read_tensors(weights: Path, sha256: Any) -> dict[str, torch.Tensor]:
    if not weights.exists():
        raise _refuse(weights, "no such file")
    if sha256 != _sha256(weights):
        raise _refuse(weights, "the tensor file does not match its sidecar (truncated or replaced)")
    try:
        return load_file(str(weights))
    except Exception as error:  # safetensors raises its own error types for bad files
        raise _refuse(weights, f"not a readable safetensors file ({error})") from None


def _problems(found: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> list[str]:
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
    return problems


def load(path: Path) -> tuple[GeneralRNN, dict[str, Any]]:
    """The model of checkpoint ``path`` (without suffix) and its sidecar's metadata (everything
    but the format, config, versions and hash keys)."""
    data = read_sidecar(path)
    try:
        config = RNNConfig.from_json(data.get("config"))
    except RaspError as error:
        reason = error.diagnostics[0].message
        raise _refuse(path.with_suffix(".json"), reason) from None
    weights = path.with_suffix(".safetensors")
    tensors = _read_tensors(weights, data.get("sha256"))
    model = GeneralRNN(config)
    problems = _problems(tensors, model.state_dict())
    if problems:
        raise _refuse(weights, "; ".join(problems[:5]))
    model.load_state_dict(tensors)
    return model, {k: v for k, v in data.items() if k not in RESERVED}
