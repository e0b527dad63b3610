"""``rasp backends`` and ``rasp frontends``: the installed plugins of one entry-point group
listed with their providers and one-line descriptions."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import out
from rasp_ir.registry import BACKEND_GROUP, FRONTEND_GROUP, installed, load_backend, load_frontend

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

BACKENDS_EPILOG = """\
Backends are found through the 'rasp_ir.backends' entry-point group; a plugin package adds one
without changing rasp-ir (see "Writing your own backend" in the README). Listing loads each
backend to read its description.

examples:
  rasp backends
  rasp compile examples/reverse.rasp --backend python -o reverse
"""

FRONTENDS_EPILOG = """\
Frontends are found through the 'rasp_ir.frontends' entry-point group; a plugin package adds one
without changing rasp-ir (see "Writing your own frontend" in the README). Listing loads each
frontend to read its description.

examples:
  rasp frontends
  rasp lift --frontend transformer_programs runs/hist -o hist.rasp
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp backends`` and ``rasp frontends``."""
    add_command(
        subparsers,
        "backends",
        backends_command,
        summary="list the installed backends",
        description="List the installed backends with their descriptions.",
        epilog=BACKENDS_EPILOG,
    )
    add_command(
        subparsers,
        "frontends",
        frontends_command,
        summary="list the installed frontends",
        description="List the installed frontends with their descriptions and settings.",
        epilog=FRONTENDS_EPILOG,
    )


def backends_command(args: argparse.Namespace) -> int:
    """Print one line per installed backend."""
    return _list(BACKEND_GROUP, "backends", lambda name: load_backend(name).description)


def frontends_command(args: argparse.Namespace) -> int:
    """Print one line per installed frontend, with the settings it accepts."""
    return _list(FRONTEND_GROUP, "frontends", _frontend_description)


def _frontend_description(name: str) -> str:
    frontend = load_frontend(name)
    settings = ", ".join(sorted(frontend.settings))
    return frontend.description + (f" (--set {settings})" if settings else "")


def _list(group: str, what: str, describe: Callable[[str], str]) -> int:
    entries = installed(group)
    if not entries:
        out(f"no {what} installed")
        return 0
    width = max(len(name) for name in entries)
    for name, entry in sorted(entries.items()):
        try:
            description = describe(name)
        except Exception as error:  # one broken plugin must not hide the others
            description = f"(cannot be loaded: {error})"
        out(f"{name:<{width}}  {description}  [{entry.provider}]")
    return 0
