"""GeneralRNN checkpoints without pickle: a model and metadata in, ``NAME.safetensors`` plus a
``NAME.json`` sidecar out; and back, refusing missing, truncated or foreign files with a message.

The sidecar holds the format name and version, the RNN configuration, library versions, the
SHA-256 of the tensor file and the caller's metadata (task, settings, seed, metrics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rasp_ir.api import RaspError
from rasp_ir.backends.torch.checkpoint_files import (
    RESERVED,
    CheckpointFormat,
    oversized_config,
    sha256_of_file,
    state_problems,
    versions,
)

from .rnn import GeneralRNN, RNNConfig

FORMAT = CheckpointFormat(
    name="rasp-ir/mips-rnn",
    version=1,
    what="MIPS RNN checkpoint",
    hint="re-create it with 'rasp mips train'",
)
__all__ = ["FORMAT", "load", "read_sidecar", "save", "sha256_of_file", "versions"]


def save(path: Path, model: GeneralRNN, meta: dict[str, Any]) -> None:
    """Write ``path.safetensors`` (the model's tensors) and ``path.json`` (format, config,
    versions, SHA-256 and ``meta``, whose keys must not be among ``RESERVED``)."""
    FORMAT.write(path, dict(model.state_dict()), model.config.to_json(), meta)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The checked JSON sidecar of checkpoint ``path`` (without suffix)."""
    return FORMAT.read_sidecar(path)


def load(path: Path) -> tuple[GeneralRNN, dict[str, Any]]:
    """The model of checkpoint ``path`` (without suffix) and its sidecar's metadata (everything
    but the format, config, versions and hash keys)."""
    data = read_sidecar(path)
    try:
        config = RNNConfig.from_json(data.get("config"))
    except RaspError as error:
        reason = error.diagnostics[0].message
        raise FORMAT.refuse(path.with_suffix(".json"), reason) from None
    tensors = FORMAT.read_tensors(path, data)
    oversized = oversized_config(data.get("config"), tensors)
    if oversized:
        raise FORMAT.refuse(path.with_suffix(".json"), "; ".join(oversized[:3]))
    # The config's shapes from a model without memory: an edited config is refused before it
    # can ask for more memory than the weights on file take.
    try:
        with torch.device("meta"):
            shapes = GeneralRNN(config).state_dict()
    except (ValueError, TypeError, OverflowError, RuntimeError, SystemError) as error:
        raise FORMAT.refuse(path.with_suffix(".json"), f"invalid config ({error})") from None
    problems = state_problems(tensors, shapes)
    if problems:
        raise FORMAT.refuse(path.with_suffix(".safetensors"), "; ".join(problems[:5]))
    model = GeneralRNN(config)
    model.load_state_dict(tensors)
    return model, {k: v for k, v in data.items() if k not in RESERVED}
