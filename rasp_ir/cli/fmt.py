"""``rasp fmt``: a program file in, its canonical text out (or a verdict, or a rewrite)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import err, write
from rasp_ir.diagnostics import RaspError
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program, parse_tree

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

_STRING = re.compile(r'"(?:[^"\\\n\r]|\\.)*"')

EPILOG = """\
The canonical form is what the printer writes: header first, one statement per line, nested
expressions inline, def and import expanded, comments dropped. --write therefore refuses
files with def, import or comments.

examples:
  rasp fmt prog.rasp            # print the canonical text
  rasp fmt --check prog.rasp    # exit 1 if prog.rasp is not canonical
  rasp fmt --write prog.rasp    # rewrite prog.rasp in canonical form
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp fmt``."""
    parser = add_command(
        subparsers,
        "fmt",
        fmt_command,
        summary="print a program in canonical form",
        description="Print, check or rewrite a RASP program in canonical form.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if FILE is not canonical")
    mode.add_argument("--write", action="store_true", help="rewrite FILE in canonical form")


def fmt_command(args: argparse.Namespace) -> int:
    """Print, check or write the canonical text of the program."""
    path = Path(args.file)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {args.file}: {error}") from None
    canonical = format_program(parse_program(source, args.file))
    if args.check:
        if source == canonical:
            return 0
        err(f"{args.file} is not in canonical form (rasp fmt --write {args.file} fixes it)")
        return 1
    if not args.write:
        write(canonical)
        return 0
    reason = _lossy_reason(source, args.file)
    if reason:
        err(f"{args.file}: not rewritten: {reason}")
        return 1
    if source != canonical:
        write_text_atomically(path, canonical)
    return 0


def _lossy_reason(source: str, file: str) -> str:
    """Why rewriting ``source`` in canonical form would lose something ('' if nothing)."""
    kinds = {getattr(item, "data", "") for item in parse_tree(source, file).children}
    if "def_" in kinds or "import_" in kinds:
        return "it has def or import statements, which the canonical form expands"
    if "#" in _STRING.sub("", source):
        return "it has comments, which the canonical form drops"
    return ""
