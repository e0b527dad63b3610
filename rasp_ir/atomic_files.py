"""Outputs written whole or not at all: a path and its content (text, bytes, or a writer that
fills a path) in, the file in place out, through a temporary file beside it and a rename.

An interrupted command (Ctrl-C, SIGKILL, a full disk) leaves either the previous file or
none, never half of one that a later command would trust; a failed write removes its
temporary file, and the temporaries a killed writer left beside ``path`` are removed by the
next write of ``path``. The rename is flushed to disk with the folder where the system allows.
Every command's outputs go through here (or through :func:`rasp_ir.registry.save_artifact`,
which uses it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path

TEMPORARY_MARK = ".partial-"
"""Part of every temporary file's name: ``.NAME.partial-PID``, hidden, beside its target."""


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; when the block ends without an error it
    is flushed to disk and renamed to ``path``, otherwise removed."""
    for stale in path.parent.glob(f".{glob_escape(path.name)}{TEMPORARY_MARK}*"):
        stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}{TEMPORARY_MARK}{os.getpid()}")
    try:
        yield temporary
        _flush(temporary)
        os.replace(temporary, path)
        sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_atomically(path: Path, writer: Callable[[Path], object]) -> None:
    """Let ``writer`` write a temporary file (e.g. a safetensors file), then rename it to
    ``path``; nothing is left when the writer fails."""
    with atomic_path(path) as temporary:
        writer(temporary)


def _flush(path: Path) -> None:
    """Push ``path``'s content to disk, so that the rename never publishes an empty file after
    a crash of the machine."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename into it) to disk, where the system allows."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open a folder: the rename is as durable as it gets
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
