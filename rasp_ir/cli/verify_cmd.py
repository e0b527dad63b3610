"""``rasp verify``: a program file and a backend name in, the backend checked against the
reference interpreter (or ``--against`` a second backend) out (how many inputs, every mismatch;
exit 1 on any)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command, add_header_options, header_overrides, load_checked
from rasp_ir.cli.output import out
from rasp_ir.inputs import describe_vocab
from rasp_ir.limits import MAX_INPUTS
from rasp_ir.registry import load_backend
from rasp_ir.values import Value, to_json
from rasp_ir.verify import KEPT_MISMATCHES, Mismatch, input_count, verify

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

DEFAULT_SAMPLES = 1000
EPILOG = f"""\
--exhaustive checks every input of every length up to max_len (refused above 2,000,000 inputs:
shrink them with --max-len and --vocab); --samples K checks K random inputs of length max_len.
Without either, {DEFAULT_SAMPLES} samples. Outputs are compared at every position, undefined
values and types included (true is not 1). Exit code 1 on any mismatch. --against BACKEND
compares with a second backend instead of the interpreter; when both enumerate the input space
themselves (the triton backend does), --exhaustive is allowed up to 10,000,000,000 inputs.

examples:
  rasp verify examples/sort.rasp --backend python --exhaustive --max-len 5 --vocab a,b,c
  rasp verify examples/sort.rasp --backend python --samples 10000 --seed 3
  rasp verify examples/sort.rasp --backend triton --exhaustive --vocab a,b,c,d,e
  rasp verify examples/sort.rasp --backend python --against triton --samples 10000
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp verify``."""
    parser = add_command(
        subparsers,
        "verify",
        verify_command,
        summary="check a backend against the reference interpreter",
        description="Run a program with a backend and with the interpreter; compare outputs.",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the .rasp program")
    parser.add_argument("--backend", "-b", default="python", metavar="NAME", help="default: python")
    parser.add_argument(
        "--against",
        default="interpreter",
        metavar="NAME",
        help="what to compare with: interpreter (default) or a backend",
    )
    parser.add_argument("--exhaustive", action="store_true", help="every input up to max_len")
    parser.add_argument("--samples", type=int, metavar="K", help="K random inputs of max_len")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    add_header_options(parser)


def verify_command(args: argparse.Namespace) -> int:
    """Verify and print the count and the mismatches."""
    program = load_checked(args.file, header_overrides(args)).program
    backend = load_backend(args.backend)
    against = None if args.against == "interpreter" else load_backend(args.against)
    samples = args.samples
    if samples is None and not args.exhaustive:
        samples = DEFAULT_SAMPLES
    exhaustive = program.header.max_len if args.exhaustive else None
    if exhaustive is not None:
        _announce_input_space(args.file, program.header.vocab, exhaustive)
    report = verify(
        program,
        backend,
        exhaustive_max_len=exhaustive,
        samples=samples,
        seed=args.seed,
        against=against,
    )
    errors = f" ({report.errors} rejected by both)" if report.errors else ""
    versus = "" if against is None else f" against the {against.name} backend"
    out(
        f"{args.file}: {report.checked} inputs checked{errors}, "
        f"{report.mismatch_count} mismatches with the {backend.name} backend{versus}"
    )
    for mismatch in report.mismatches:
        out(describe(mismatch))
    if report.mismatch_count > len(report.mismatches):
        out(f"... and {report.mismatch_count - KEPT_MISMATCHES} more")
    return 0 if report.ok else 1


def _announce_input_space(file: str, vocab: tuple[Value, ...], max_len: int) -> None:
    """Say how many inputs an exhaustive run checks, before it starts (a vocabulary read
    differently than meant shows here, not after the run); too many are refused by verify."""
    count = input_count(len(vocab), max_len)
    if count <= MAX_INPUTS:
        out(
            f"{file}: checking every input of length 0 to {max_len} over {len(vocab)} tokens "
            f"({describe_vocab(vocab)}): {count} inputs"
        )


def describe(mismatch: Mismatch) -> str:
    """One mismatch on one line: input, output, expected and got."""
    where = f"output {mismatch.output}" if mismatch.output else "whole input"
    return (
        f"  input {_json(mismatch.input)}: {where}: expected {_json(mismatch.expected)}, "
        f"got {_json(mismatch.got)}"
    )


def _json(values: tuple[Value, ...] | list[Value] | str) -> str:
    if isinstance(values, str):
        return f"error ({values})"
    return json.dumps([to_json(v) for v in values], ensure_ascii=False)
