"""``rasp run``: a program file and inputs in, one JSON array per output and input out (or
one JSON object per input)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rasp_ir.batch_inputs import read_batch
from rasp_ir.cli.common import add_command, add_header_options, header_overrides, load_checked
from rasp_ir.cli.json_output import output_text
from rasp_ir.cli.output import write
from rasp_ir.diagnostics import RaspError
from rasp_ir.inputs import check_input, typed_tokens
from rasp_ir.interpreter import Executable

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

# Inputs evaluated at once: bounds the memory of selectors (batch x length x length).
CHUNK = 1 << 16

EPILOG = """\
Each output of the program is printed as one JSON array on its own line, in the order of the
program's output statement; with --jsonl, each input gives one line holding a JSON object
{"output": [...], ...} instead. Undefined values print as null, non-integer numbers as floats.
With %bos declared, every output includes position 0 (the BOS position) first.

Tokens are typed by the program's vocabulary: with %vocab {1, 2, 3}, the token 3 is the
integer 3; with booleans, write true/false. Put -- before tokens that start with '-'.

examples:
  rasp run examples/reverse.rasp --chars hello
  rasp run examples/sort.rasp 3 1 2
  rasp run prog.rasp --batch inputs.jsonl     # one JSON array of tokens per line
  rasp run prog.rasp --batch - --jsonl < inputs.jsonl
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
    parser.add_argument(
        "--batch", metavar="FILE", help="inputs, one JSON array of tokens per line (- : stdin)"
    )
    parser.add_argument(
        "--jsonl", action="store_true", help='one JSON object per input: {"output": [...], ...}'
    )
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
    executable = Executable(program, value_sets=result.value_sets)
    if args.batch is not None:
        batch = read_batch(args.batch, program.header, args.file)
        # Every chunk is evaluated before anything is printed: a run-time error prints nothing.
        texts = [
            output_text(
                executable.run_batch(batch.part(start, start + CHUNK)),
                program.outputs,
                jsonl=args.jsonl,
            )
            for start in range(0, len(batch), CHUNK)
        ]
        write("".join(texts))
        return 0
    texts = args.tokens if args.tokens else list(args.chars)
    tokens = typed_tokens(texts, program.header.vocab)
    check_input(tokens, program.header, args.file)
    write(output_text(executable([tokens]), program.outputs, jsonl=args.jsonl))
    return 0
