"""``rasp check``: a program file in, its value sets, layer allocation and diagnostics out."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rasp_ir.check import check_program
from rasp_ir.cli.common import add_command, add_header_options, header_overrides
from rasp_ir.cli.output import out, report
from rasp_ir.layers import format_allocation
from rasp_ir.syntax import parse_file
from rasp_ir.values import Value, format_value

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

SHOWN_VALUES = 8

EPILOG = """\
Prints the value set of every s-op binding (long sets show their first 8 values and their
size), then the layer/head allocation. Warnings and errors go to stderr; the exit code is 1
when there is an error.

examples:
  rasp check examples/reverse.rasp
  rasp check prog.rasp --max-len 32
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp check``."""
    parser = add_command(
        subparsers,
        "check",
        check_command,
        summary="show value sets and layers, report errors and warnings",
        description="Check a RASP program: value sets, layer allocation, diagnostics.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    add_header_options(parser)


def check_command(args: argparse.Namespace) -> int:
    """Print the checker's findings; 1 if any is an error."""
    program = parse_file(args.file, overrides=header_overrides(args))
    result = check_program(program)
    rows = [
        (b.name, b.encoding, format_value_set(result.value_sets.sets.get(b.name, ())))
        for b in program.bindings
        if b.encoding is not None
    ]
    width = max((len(name) for name, _, _ in rows), default=0)
    out("value sets:")
    for name, encoding, text in rows:
        out(f"  {name.ljust(width)}  {encoding}  {text}")
    out(format_allocation(program, result.allocation))
    report(result.diagnostics)
    return 1 if result.errors else 0


def format_value_set(values: Sequence[Value], shown: int = SHOWN_VALUES) -> str:
    """``{1, 2, 3}``, or ``{1, 2, …} (40 values)`` when there are more than ``shown``."""
    if len(values) <= shown:
        return "{" + ", ".join(format_value(v) for v in values) + "}"
    head = ", ".join(format_value(v) for v in values[:shown])
    return f"{{{head}, …}} ({len(values)} values)"
