"""Argument-parser pieces that need nothing but argparse: a command's parser and
``--line-width`` (what ``rasp fmt`` needs, so that it starts without loading the compiler)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

from rasp_ir.printer import LINE_WIDTH

# What ``register(subparsers)`` receives: argparse's (private) sub-parsers action.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

Handler = Callable[[argparse.Namespace], int]


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    *,
    summary: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A subcommand parser whose help keeps the layout of ``description`` and ``epilog``."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_line_width_option(parser: argparse.ArgumentParser) -> None:
    """``--line-width N`` (default :data:`~rasp_ir.printer.LINE_WIDTH`), for commands that
    lay out source text."""
    parser.add_argument(
        "--line-width",
        type=_line_width,
        default=LINE_WIDTH,
        metavar="N",
        help=f"break statements longer than N columns (default {LINE_WIDTH})",
    )


def _line_width(text: str) -> int:
    try:
        width = int(text)
    except ValueError:
        width = 0
    if width < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of columns, got {text!r}")
    return width
