"""``rasp repl``: lines from the terminal in, a
:class:`~rasp_ir.cli.repl_session.ReplSession`'s answers out."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import out, write
from rasp_ir.cli.repl_session import ReplSession

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

HISTORY = Path("~/.rasp_history")
BANNER = "rasp repl: type statements ending with ';', :help for commands, :quit to leave"

EPILOG = """\
The session starts with %vocab chars "abcdefghijklmnopqrstuvwxyz", %max_len 16 and the
example "hello". Every new s-op prints its values on the example, every selector a 0/1
matrix; type :help inside for the commands (:example, :load, :show, :list, :reset, :quit).

example session:
  >> opp = length - indices - 1;
  opp = [4, 3, 2, 1, 0]
  >> flip = select(indices, opp, ==);
  >> reverse = aggregate(flip, tokens);
  reverse = ["o", "l", "l", "e", "h"]
  >> :example "abc"
  >> :show reverse
  reverse = ["c", "b", "a"]
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp repl``."""
    parser = add_command(
        subparsers,
        "repl",
        repl_command,
        summary="an interactive session (tech-srl RASP style)",
        description="Type RASP statements and see their values on an example input.",
        epilog=EPILOG,
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a program to :load first")


def repl_command(args: argparse.Namespace) -> int:
    """Read lines until :quit or end of input; Ctrl-C drops the unfinished entry."""
    session = ReplSession()
    interactive = sys.stdin.isatty()
    history = _start_history() if interactive else None
    if interactive:
        out(BANNER)
    if args.file:
        _answer(session.feed(f":load {args.file}"))
    try:
        while not session.finished:
            try:
                line = input(session.prompt if interactive else "")
            except EOFError:
                break
            except KeyboardInterrupt:
                session.cancel()
                out()
                continue
            _answer(session.feed(line))
    finally:
        if history is not None:
            _save_history(history)
    if interactive:
        write("\n" if not session.finished else "")
    return 0


def _answer(text: str) -> None:
    if text:
        out(text)


def _start_history() -> Path | None:
    """Load ``~/.rasp_history`` into readline when readline exists; the file to save to."""
    try:
        import readline
    except ImportError:
        return None
    path = HISTORY.expanduser()
    readline.set_history_length(1000)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    return path


def _save_history(path: Path) -> None:
    import readline

    with contextlib.suppress(OSError):
        readline.write_history_file(path)
