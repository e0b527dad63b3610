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

from rasp_ir.api import RaspError, write_atomically


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write ``tensors`` to ``path`` (safetensors; no pickle), whole or not at all."""
    try:
        write_atomically(path, lambda temporary: save_file(tensors, str(temporary)))
    except (OSError, SafetensorError) as error:
        raise RaspError.single(
            "file",
            f"cannot write {path}: {error}",
            hint="check that the folder exists and is writable, and the free space",
        ) from None
