"""``rasp backends``: the installed backends (entry points of ``rasp_ir.backends``) listed with
their providers and one-line descriptions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import out
from rasp_ir.registry import BACKEND_GROUP, installed, load_backend

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
Backends are found through the 'rasp_ir.backends' entry-point group; a plugin package adds one
without changing rasp-ir (see "Writing your own backend" in the README). Listing loads each
backend to read its description.

examples:
  rasp backends
  rasp compile examples/reverse.rasp --backend python -o reverse
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp backends``."""
    add_command(
        subparsers,
        "backends",
        backends_command,
        summary="list the installed backends",
        description="List the installed backends with their descriptions.",
        epilog=EPILOG,
    )


def backends_command(args: argparse.Namespace) -> int:
    """Print one line per installed backend."""
    entries = installed(BACKEND_GROUP)
    if not entries:
        out("no backends installed")
        return 0
    width = max(len(name) for name in entries)
    for name, entry in sorted(entries.items()):
        try:
            description = load_backend(name).description
        except Exception as error:  # one broken plugin must not hide the others
            description = f"(cannot be loaded: {error})"
        out(f"{name:<{width}}  {description}  [{entry.provider}]")
    return 0
