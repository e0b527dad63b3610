"""``rasp lsp``: the language server, speaking JSON-RPC over stdin and stdout until the editor
closes it."""

from __future__ import annotations

import argparse
import importlib.util
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command
from rasp_ir.diagnostics import RaspError

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
An editor starts it and talks to it over stdin/stdout; it is not meant to be typed at. It
publishes the diagnostics of 'rasp check' as you type, and answers hover, go to definition
(through imports), find references, rename, completion and document symbols.

examples:
  rasp lsp                        # what the editor runs (see the README: VS Code, Neovim)
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp lsp``."""
    add_command(
        subparsers,
        "lsp",
        lsp_command,
        summary="the language server for editors (stdio)",
        description="Serve the Language Server Protocol over stdin and stdout.",
        epilog=EPILOG,
    )


def lsp_command(args: argparse.Namespace) -> int:
    """Serve until the client exits; an error naming the extra when pygls is missing."""
    if importlib.util.find_spec("pygls") is None:
        raise RaspError.single(
            "extra",
            "rasp lsp needs pygls, which is not installed",
            hint="install the lsp extra: pip install 'rasp-ir[lsp]'",
        )
    from rasp_ir.lsp.server import serve

    serve()
    return 0
