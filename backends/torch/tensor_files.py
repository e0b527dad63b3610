"""Tensors to a safetensors file, with the project's errors and without half-written files:
named tensors and a path in, the file out, written to a temporary file in the same folder,
flushed to disk and renamed over ``path`` (a reader sees the old file or the new one, never a
part of one; temporary files a killed writer left are removed by the next write). A folder
that does not exist, no permission or a full disk becomes a
:class:`~rasp_ir.diagnostics.RaspError` naming the file (safetensors raises its own error type).

Imports torch: the torch backend and the torch-based frontends (Transformer Programs) use it.
"""

from __future__ import annotations

import os
import tempfile
from glob import escape as glob_escape
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from rasp_ir.api import RaspError

from .crash_points import crash_point


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write ``tensors`` to ``path`` atomically (safetensors; no pickle)."""
    temporary = _temporary_for(path)
    try:
        save_file(tensors, str(temporary))
        sync_file(temporary)
        crash_point(f"{path.name}:written")
        os.replace(temporary, path)
        sync_folder(path.parent)
    except (OSError, SafetensorError) as error:
        raise _unwritable(path, error) from None
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` as :func:`save_tensors` writes tensors: a temporary
    file, flushed, renamed over ``path``."""
    temporary = _temporary_for(path)
    try:
        with temporary.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        crash_point(f"{path.name}:written")
        os.replace(temporary, path)
        sync_folder(path.parent)
    except OSError as error:
        raise _unwritable(path, error) from None
    finally:
        temporary.unlink(missing_ok=True)


def sync_file(path: Path) -> None:
    """Flush ``path``'s contents to the disk."""
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename into it) to the disk, where the system allows."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open a folder: the rename is then as durable as it gets
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _temporary_for(path: Path) -> Path:
    """A new, empty temporary file beside ``path`` (``.NAME.XXXX.tmp``), after removing those
    a killed writer of ``path`` left behind."""
    for stale in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _unwritable(path, error) from None
    os.close(handle)
    return Path(name)


def _unwritable(path: Path, error: Exception) -> RaspError:
    return RaspError.single(
        "file",
        f"cannot write {path}: {error}",
        hint="check that the folder exists and is writable, and the free space",
    )
