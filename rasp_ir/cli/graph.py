"""``rasp graph``: a program file in, Graphviz DOT annotated with layers out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.cli.common import add_command, add_header_options, header_overrides
from rasp_ir.cli.output import write
from rasp_ir.diagnostics import RaspError
from rasp_ir.layers import allocate_layers
from rasp_ir.syntax import parse_file

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
Nodes are bindings and the primitives they read; each says where it runs (embedding,
L1 attention, L1 mlp, ...). Outputs have a double border.

examples:
  rasp graph examples/reverse.rasp | dot -Tsvg > reverse.svg
  rasp graph examples/reverse.rasp -o reverse.dot
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp graph``."""
    parser = add_command(
        subparsers,
        "graph",
        graph_command,
        summary="write the dependency graph as Graphviz DOT",
        description="Write a RASP program's dependency graph, with its layers, as DOT.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    parser.add_argument("-o", "--output", metavar="OUT.dot", help="write here, not to stdout")
    add_header_options(parser)


def graph_command(args: argparse.Namespace) -> int:
    """Write the DOT text to stdout or to ``--output``."""
    from rasp_ir.graph import to_dot  # networkx is only needed here

    program = parse_file(args.file, overrides=header_overrides(args))
    dot = to_dot(program, allocate_layers(program))
    if args.output is None:
        write(dot)
        return 0
    try:
        write_text_atomically(Path(args.output), dot)
    except OSError as error:
        raise RaspError.single("file", f"cannot write {args.output}: {error}") from None
    return 0
