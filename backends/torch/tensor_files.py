"""Tensors to a safetensors file, with the project's errors and without half-written files:
named tensors and a path in, the file out, through the hub's atomic writer (a temporary file
in the same folder, flushed and renamed over ``path``: a reader sees the old file or the new
one, never a part of one). A folder that does not exist, no permission or a full disk becomes a
:class:`~rasp_ir.diagnostics.RaspError` naming the file (safetensors raises its own error type).
Each write passes the crash point ``NAME:written`` just before its rename.

Imports torch: the torch backend and the torch-based frontends (Transformer Programs) use it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from rasp_ir.api import RaspError, atomic_path

from .crash_points import crash_point


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write ``tensors`` to ``path`` (safetensors; no pickle), whole or not at all."""
    try:
        with atomic_path(path) as temporary:
            save_file(tensors, str(temporary))
            crash_point(f"{path.name}:written")
    except (OSError, SafetensorError) as error:
        raise _unwritable(path, error) from None


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` as :func:`save_tensors` writes tensors."""
    try:
        with atomic_path(path) as temporary:
            temporary.write_text(text, encoding="utf-8")
            crash_point(f"{path.name}:written")
    except OSError as error:
        raise _unwritable(path, error) from None


def _unwritable(path: Path, error: Exception) -> RaspError:
    return RaspError.single(
        "file",
        f"cannot write {path}: {error}",
        hint="check that the folder exists and is writable, and the free space",
    )
