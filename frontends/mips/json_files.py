"""Records the MIPS pipeline rewrites as it goes (``search.json``, ``result.json``,
``summary.json``): JSON data and a path in, the file written through a temporary file and a
rename, so a reader (or a resumed run) never sees half of one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasp_ir.api import RaspError, write_text_atomically


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` (its folder created); a RaspError naming the
    file when the file system refuses."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(data, indent=2) + "\n")
    except OSError as error:
        raise RaspError.single("file", f"cannot write {path}: {error.strerror or error}") from None
