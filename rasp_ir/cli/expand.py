"""``rasp expand``: a program file in, the IR printer's text of it out: what the compiler sees."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command, add_line_width_option
from rasp_ir.cli.files import read_source
from rasp_ir.cli.output import write
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
What the compiler sees: the program after parsing, printed back. Imports are read in, def
macros expanded, comments dropped, nested expressions named where they are used twice;
parsing this text gives the same program. To tidy a file while keeping what you wrote, use
'rasp fmt'.

examples:
  rasp expand examples/detect_pattern.rasp   # the shift_by macro expanded at both calls
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp expand``."""
    parser = add_command(
        subparsers,
        "expand",
        expand_command,
        summary="print what the compiler sees (def and import expanded)",
        description="Print a program as the IR printer writes it: what the compiler sees.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    add_line_width_option(parser)


def expand_command(args: argparse.Namespace) -> int:
    """Print the IR printer's text of the program."""
    source = read_source(Path(args.file))
    write(format_program(parse_program(source, args.file), args.line_width))
    return 0
