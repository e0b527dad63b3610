"""``rasp run``: a program file and inputs in, one JSON array per output and input out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command, add_header_options, header_overrides, load_checked
from rasp_ir.cli.output import out
from rasp_ir.diagnostics import RaspError, Span
from rasp_ir.inputs import check_input, json_tokens, typed_tokens
from rasp_ir.interpreter import interpret
from rasp_ir.ir import Header
from rasp_ir.values import Value, to_json

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
Each output of the program is printed as one JSON array on its own line, in the order of the
program's output statement. Undefined values print as null, non-integer numbers as floats.
With %bos declared, every output includes position 0 (the BOS position) first.

Tokens are typed by the program's vocabulary: with %vocab {1, 2, 3}, the token 3 is the
integer 3; with booleans, write true/false. Put -- before tokens that start with '-'.

examples:
  rasp run examples/reverse.rasp --chars hello
  rasp run examples/sort.rasp 3 1 2
  rasp run prog.rasp --batch inputs.jsonl     # one JSON array of tokens per line
  rasp run prog.rasp a b --vocab a,b,c --max-len 4
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp run``."""
    parser = add_command(
        subparsers,
        "run",
        run_command,
        summary="run a program on inputs with the reference interpreter",
        description="Run a RASP program on one input (or a batch) and print its outputs.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    parser.add_argument("tokens", nargs="*", metavar="TOKEN", help="the input, one token each")
    parser.add_argument("--chars", metavar="STRING", help="the input, one token per character")
    parser.add_argument("--batch", metavar="FILE", help="inputs, one JSON array of tokens per line")
    add_header_options(parser)


def run_command(args: argparse.Namespace) -> int:
    """Evaluate the program on the inputs and print its outputs."""
    given = [bool(args.tokens), args.chars is not None, args.batch is not None]
    if sum(given) != 1:
        raise RaspError.single(
            "usage",
            "give the input as TOKEN ..., as --chars STRING or as --batch FILE (exactly one)",
        )
    result = load_checked(args.file, header_overrides(args))
    program = result.program
    if args.batch is not None:
        inputs = read_batch(args.batch, program.header, args.file)
    else:
        texts = args.tokens if args.tokens else list(args.chars)
        tokens = typed_tokens(texts, program.header.vocab)
        check_input(tokens, program.header, args.file)
        inputs = [tokens]
    if not inputs:
        return 0
    evaluation = interpret(program, inputs, value_sets=result.value_sets)
    outputs = evaluation.outputs()
    for index in range(len(inputs)):
        for name in program.outputs:
            out(json_line(outputs[name][index]))
    return 0


def json_line(values: list[Value]) -> str:
    """One output as a JSON array (``["o", "l"]``, ``[1, 0.5, null]``)."""
    return json.dumps([to_json(v) for v in values], ensure_ascii=False)


def read_batch(path: str, header: Header, program_file: str) -> list[list[Value]]:
    """The inputs in a batch file, one JSON array per non-blank line, each checked."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {path}: {error}") from None
    inputs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        span = Span(path, number, 1, number, len(line) + 1, line)
        tokens = json_tokens(line, header.vocab, span)
        check_input(tokens, header, program_file, span)
        inputs.append(tokens)
    return inputs
