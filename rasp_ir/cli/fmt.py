"""``rasp fmt``: program files and folders in; their formatted text, the list of files that
would change, a diff, or the files rewritten in place out."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.arguments import add_command, add_line_width_option
from rasp_ir.cli.files import read_source, replace_text, source_files
from rasp_ir.cli.output import err, out, report, write
from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax.formatter import format_source

if TYPE_CHECKING:
    from rasp_ir.cli.arguments import Subparsers

STDIN = "-"

EPILOG = """\
The formatter changes layout only: spacing, one statement per line, def bodies indented,
long statements broken at the line width. Comments, blank lines between statements (at
most one), def, import and the order of everything stay as written. It checks that the
formatted text parses to the same program before it prints or writes anything, and never
rewrites a file it cannot parse. 'rasp expand FILE' prints what the compiler sees instead.

examples:
  rasp fmt prog.rasp                 # print the formatted text
  rasp fmt --check examples/         # list the files that are not formatted; exit 1 if any
  rasp fmt --diff prog.rasp          # show what would change, as a unified diff
  rasp fmt --write examples/ lib.rasp   # rewrite the files that are not formatted
  rasp fmt - < prog.rasp             # standard input to standard output (for editors)
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp fmt``."""
    parser = add_command(
        subparsers,
        "fmt",
        fmt_command,
        summary="format programs (comments and def kept)",
        description="Print, check or rewrite RASP files in canonical layout.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".rasp files, folders to search for them, or - for standard input",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="list the files that would change; exit 1 if any"
    )
    mode.add_argument(
        "--diff", action="store_true", help="show the changes as a diff; exit 1 if any"
    )
    mode.add_argument("--write", action="store_true", help="rewrite the files that would change")
    add_line_width_option(parser)


def fmt_command(args: argparse.Namespace) -> int:
    """Format every file named (or found in the folders named); exit 1 if one could not be
    formatted, or with ``--check``/``--diff`` if one would change."""
    files = source_files(args.paths)
    failed = 0
    changed: list[Path] = []
    for path in files:
        try:
            source = _read(path, args)
            formatted = format_source(source, line_width=args.line_width, path=_name(path))
        except RaspError as error:
            report(error.diagnostics)
            failed += 1
            continue
        if formatted != source:
            changed.append(path)
        _act(args, path, source, formatted)
    _summarise(args, len(files), changed, failed)
    if failed or ((args.check or args.diff) and changed):
        return 1
    return 0


def _read(path: Path, args: argparse.Namespace) -> str:
    """The text of ``path``, or of standard input for ``-`` (which ``--write`` cannot
    rewrite)."""
    if str(path) != STDIN:
        return read_source(path)
    if args.write:
        raise RaspError.single(
            "usage", "--write cannot rewrite standard input", hint="drop --write to print"
        )
    return sys.stdin.read()


def _name(path: Path) -> str:
    return "<stdin>" if str(path) == STDIN else str(path)


def _act(args: argparse.Namespace, path: Path, source: str, formatted: str) -> None:
    """Print, list, diff or rewrite one file that was formatted."""
    if args.write:
        if formatted != source:
            replace_text(path, formatted)
    elif args.check:
        if formatted != source:
            out(_name(path))
    elif args.diff:
        lines = difflib.unified_diff(
            source.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            _name(path),
            f"{_name(path)} (formatted)",
        )
        write("".join(lines))
    else:
        write(formatted)


def _summarise(args: argparse.Namespace, total: int, changed: list[Path], failed: int) -> None:
    """One line on stderr saying what happened to the files, in the modes that act on them."""
    if not (args.check or args.diff or args.write):
        return
    verb = "reformatted" if args.write else "would be reformatted"
    parts = [f"{_files(len(changed))} {verb}", f"{total - len(changed) - failed} unchanged"]
    if failed:
        parts.append(f"{_files(failed)} not formatted (errors above)")
    hint = " (rasp fmt --write fixes them)" if changed and not args.write else ""
    err(", ".join(parts) + hint)


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"
