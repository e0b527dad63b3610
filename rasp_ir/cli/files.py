"""Paths in, source text and atomically replaced files out: the file handling of commands that
read and rewrite programs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rasp_ir.atomic_files import atomic_path
from rasp_ir.diagnostics import RaspError

SOURCE_SUFFIX = ".rasp"


def read_source(path: Path) -> str:
    """The UTF-8 text of ``path``, line endings as they are; a :class:`RaspError` (code
    ``file``) if it cannot be read."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {path}: {error}") from None


def source_files(paths: Iterable[str]) -> list[Path]:
    """The files named, with every ``.rasp`` file under each folder named (hidden folders
    skipped), in order, each once."""
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        if not path.is_dir():
            found[path] = None
            continue
        for file in sorted(path.rglob(f"*{SOURCE_SUFFIX}")):
            hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
            if file.is_file() and not hidden:
                found[file] = None
    return list(found)


def replace_text(path: Path, text: str) -> None:
    """Replace the contents of ``path`` by ``text`` through the hub's atomic writer, keeping
    the file's permissions (through a symbolic link, onto the file it points to). A reader sees
    the old text or the new, never a part."""
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="")
        os.chmod(temporary, mode)
