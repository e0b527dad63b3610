"""``rasp compile``: a program file and a backend name in, the backend's artifact on disk out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir import ir
from rasp_ir.cli.common import add_command, add_header_options, header_overrides, load_checked
from rasp_ir.cli.output import err, write
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import Backend, load_backend, require_supported, save_artifact

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
Every construct the backend does not support is reported at once, with its location; then the
exit code is 1. Without -o, a text artifact is printed.

examples:
  rasp compile examples/reverse.rasp --backend python -o reverse      # writes reverse.py
  python reverse.py --chars hello                                     # like rasp run
  rasp compile examples/reverse.rasp --backend torch -o reverse --report   # weights + sizes
  rasp backends                                                       # what can I compile to?
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp compile``."""
    parser = add_command(
        subparsers,
        "compile",
        compile_command,
        summary="compile a program with a backend (e.g. to Python source)",
        description="Lower a RASP program with a backend and write the artifact.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    parser.add_argument("--backend", "-b", default="python", metavar="NAME", help="default: python")
    parser.add_argument("-o", "--output", metavar="OUT", help="where to write (a suffix is added)")
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the backend's size report (torch: layers, heads, d_model, MLP width)",
    )
    add_header_options(parser)


def compile_command(args: argparse.Namespace) -> int:
    """Lower the program and write (or print) the artifact."""
    program = load_checked(args.file, header_overrides(args)).program
    backend = load_backend(args.backend)
    require_supported(backend, program)
    if args.report:
        _print_report(backend, program)
        if args.output is None:
            return 0
    artifact = backend.lower(program)
    if args.output is None:
        if not isinstance(artifact, str):
            raise RaspError.single(
                "usage", f"the {backend.name} backend's artifact is not text", hint="pass -o OUT"
            )
        write(artifact)
        return 0
    path = save_artifact(backend, artifact, Path(args.output))
    err(f"wrote {path}")
    return 0


def _print_report(backend: Backend, program: ir.Program) -> None:
    """Print the backend's size report; a usage error when it has none."""
    report = getattr(backend, "report", None)
    if not callable(report):
        raise RaspError.single("usage", f"the {backend.name} backend has no size report")
    text = report(program)
    write(text if text.endswith("\n") else text + "\n")
