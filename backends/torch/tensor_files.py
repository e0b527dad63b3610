"""Tensors to a safetensors file, with the project's errors: named tensors and a path in, the
file out; a folder that does not exist, no permission or a full disk becomes a
:class:`~rasp_ir.diagnostics.RaspError` naming the file (safetensors raises its own error type).

Imports torch: the torch backend and the torch-based frontends (Transformer Programs) use it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from rasp_ir.api import RaspError


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write ``tensors`` to ``path`` (safetensors; no pickle)."""
    try:
        save_file(tensors, str(path))
    except (OSError, SafetensorError) as error:
        raise RaspError.single(
            "file",
            f"cannot write {path}: {error}",
            hint="check that the folder exists and is writable, and the free space",
        ) from None
