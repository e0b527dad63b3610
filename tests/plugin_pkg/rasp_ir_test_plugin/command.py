"""``rasp echo-stats``: a whole third-party rasp-ir command in one file; a program file in, the
number of its bindings of each kind out."""

from __future__ import annotations

import argparse
from collections import Counter

from rasp_ir.api import (
    Subparsers,
    add_command,
    add_header_options,
    header_overrides,
    ir,
    load_checked,
    out,
)


def register(subparsers: Subparsers) -> None:
    """Add ``rasp echo-stats`` (the entry point ``echo-stats`` of ``rasp_ir.commands``)."""
    parser = add_command(
        subparsers,
        "echo-stats",
        stats_command,
        summary="count a program's bindings by kind (a test plugin)",
        description="Print how many bindings of each kind a program has.",
        epilog="examples:\n  rasp echo-stats examples/sort.rasp",
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    add_header_options(parser)


def stats_command(args: argparse.Namespace) -> int:
    """Print one ``kind: count`` line per kind of binding, most common first."""
    program = load_checked(args.file, header_overrides(args)).program
    counts = Counter(ir.kind_name(b.node) for b in program.bindings)
    for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        out(f"{kind}: {count}")
    return 0
