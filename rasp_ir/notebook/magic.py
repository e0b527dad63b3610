"""The ``%%rasp`` cell magic: a cell of RASP text and a magic line in, a checked program bound
to a name in the user's namespace out, and, given inputs, its evaluation shown binding by
binding as the REPL shows it.

    %%rasp NAME [--chars STRING | --tokens TOKEN ...] [--vocab V] [--max-len N]

Problems are shown as ``rasp`` shows them (``<cell>:line:col``, the line, a caret, a hint),
never as a traceback; the name is then left as it was.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import MutableMapping
from typing import Any, NoReturn

from rasp_ir import ir
from rasp_ir.check import load_program
from rasp_ir.cli.common import add_header_options, header_overrides
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.inputs import check_input, typed_tokens
from rasp_ir.interpreter import Evaluation, interpret

CELL_FILE = "<cell>"
USAGE = "%%rasp [NAME] [--chars STRING | --tokens TOKEN ...] [--vocab V] [--max-len N]"


class _MagicLineParser(argparse.ArgumentParser):
    """argparse that raises a usage diagnostic instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise RaspError.single("usage", message, hint=f"usage: {USAGE}")


def _parser() -> argparse.ArgumentParser:
    parser = _MagicLineParser(prog="%%rasp", add_help=False)
    parser.add_argument("name", nargs="?", help="the name to bind the program to")
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--chars", metavar="STRING", help="an input, one token per character")
    given.add_argument("--tokens", nargs="+", metavar="TOKEN", help="an input, one token each")
    add_header_options(parser)
    return parser


def run_cell(line: str, cell: str, namespace: MutableMapping[str, Any]) -> object:
    """Check the cell's program and bind it to the name on ``line`` in ``namespace``; its
    evaluation on the line's input, or the program when no input is given; None (and the
    diagnostics on stderr) when something is wrong."""
    try:
        return _run(line, cell, namespace)
    except RaspError as error:
        _report(error.diagnostics)
        return None


def _run(line: str, cell: str, namespace: MutableMapping[str, Any]) -> object:
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise RaspError.single("usage", f"cannot read the magic line: {error}") from None
    args = _parser().parse_args(words)
    if args.name is not None and not args.name.isidentifier():
        raise RaspError.single("usage", f"{args.name!r} is not a Python name", hint=USAGE)
    checked = load_program(text=cell, path=CELL_FILE, overrides=header_overrides(args))
    _report(checked.warnings)
    program = checked.program
    if args.name is not None:
        namespace[args.name] = program
    if args.chars is None and args.tokens is None:
        return program
    return evaluate(program, list(args.chars) if args.chars is not None else args.tokens)


def evaluate(program: ir.Program, texts: list[str]) -> Evaluation:
    """The program run on one input given as text (typed by the program's vocabulary)."""
    tokens = typed_tokens(texts, program.header.vocab)
    check_input(tokens, program.header, "the cell's program")
    return interpret(program, [tokens])


def _report(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    rendered = "\n\n".join(d.render() for d in diagnostics)
    if rendered:
        sys.stderr.write(rendered + "\n")
