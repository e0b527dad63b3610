"""Text in, the terminal out: the only place the CLI writes to stdout and stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rasp_ir.diagnostics import Diagnostic


def out(text: str = "") -> None:
    """Write ``text`` and a newline to stdout."""
    sys.stdout.write(text + "\n")


def write(text: str) -> None:
    """Write ``text`` to stdout as it is."""
    sys.stdout.write(text)


def err(text: str) -> None:
    """Write ``text`` and a newline to stderr."""
    sys.stderr.write(text + "\n")


def report(diagnostics: Iterable[Diagnostic]) -> None:
    """Render diagnostics (errors and warnings) to stderr, separated by blank lines."""
    rendered = [d.render() for d in diagnostics]
    if rendered:
        err("\n\n".join(rendered))
