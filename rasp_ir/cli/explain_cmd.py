"""``rasp explain``: why an output cell has its value (its dependency cone), or, for an artifact
with a labelled test split, which inputs are wrong and which heads and MLP rows those errors
run through."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rasp_ir.cli.artifact_inputs import add_input_options, add_member_option, inputs_from_args
from rasp_ir.cli.common import add_command, add_header_options, header_overrides
from rasp_ir.cli.output import err, out, report
from rasp_ir.diagnostics import RaspError
from rasp_ir.inputs import check_input, typed_tokens
from rasp_ir.values import format_value

if TYPE_CHECKING:
    from rasp_ir.check import CheckResult
    from rasp_ir.cli.common import Subparsers
    from rasp_ir.reporting.sources import Opened
    from rasp_ir.values import Value

EPILOG = """\
The cone of a cell follows what was read: a map's inputs at that position (and the row of its
table it used), an aggregate's selector row and its values at the keys that row selected, a
selector row's query and the keys it selected. Each step says where it runs (embedding,
L1 mlp, L2 head 1). Without --position, every position of the output is explained.

--errors runs the program on the artifact's labelled test split (a Transformer Programs run
folder has one), lists the wrong positions and ranks the heads and MLP table rows by the number
of errors whose cone runs through them, beside how many scored positions run through them.

examples:
  rasp explain examples/reverse.rasp --chars hello --position 0
  rasp explain examples/sort.rasp d b c a --output sort --position 1
  rasp explain runs/hist --errors
  rasp explain runs/hists --member 2 --errors      # member 2 of a population
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp explain``."""
    parser = add_command(
        subparsers,
        "explain",
        explain_command,
        summary="why an output is what it is; which heads and table rows errors go through",
        description="Print the dependency cone of output cells on an input, or attribute a "
        "model's test-split errors to heads and MLP table rows.",
        epilog=EPILOG,
    )
    parser.add_argument("artifact", metavar="FILE.rasp|RUN_DIR|MODEL", help="what to explain")
    parser.add_argument("tokens", nargs="*", metavar="TOKEN", help="the input, one token each")
    add_input_options(parser)
    add_member_option(parser)
    parser.add_argument("--output", metavar="NAME", help="the output to explain (default: first)")
    parser.add_argument("--position", type=int, metavar="I", help="the position (default: all)")
    parser.add_argument(
        "--errors", action="store_true", help="attribute the errors on the labelled test split"
    )
    add_header_options(parser)


def explain_command(args: argparse.Namespace) -> int:
    """Print the cones asked for, or the error attribution."""
    from rasp_ir.reporting.sources import open_artifact

    opened = open_artifact(args.artifact, header_overrides(args), args.member)
    if opened.from_plugin:
        err(f"{opened.view.source}: {opened.view.kind}")
    report(opened.checked.warnings)
    if args.errors:
        return _errors(opened)
    header = opened.checked.program.header
    inputs = inputs_from_args(args, header, args.artifact)
    if args.tokens:
        tokens = typed_tokens(args.tokens, header.vocab)
        check_input(tokens, header, args.artifact)
        inputs.insert(0, tokens)
    if not inputs:
        raise RaspError.single(
            "usage",
            "give an input to explain: TOKEN ..., --chars STRING, --input TOKENS or --batch FILE",
            hint="or --errors, for an artifact with a labelled test split",
        )
    for index, tokens in enumerate(inputs):
        if index:
            out()
        out(_explain_one(opened.checked, tokens, args.output, args.position))
    return 0


def _explain_one(
    checked: CheckResult, tokens: list[Value], output: str | None, position: int | None
) -> str:
    from rasp_ir.interpreter import interpret
    from rasp_ir.reporting.cone import Cell, ConeBuilder, format_cone

    program = checked.program
    name = output or program.outputs[0]
    if name not in program.outputs:
        raise RaspError.single(
            "usage",
            f"{name!r} is not an output of the program",
            hint=f"outputs: {', '.join(program.outputs)}",
        )
    evaluation = interpret(program, [tokens], value_sets=checked.value_sets)
    width = int(evaluation.lengths[0])
    if position is not None and not 0 <= position < width:
        raise RaspError.single(
            "usage",
            f"position {position} is outside the input (positions 0 to {width - 1})",
            hint="positions count from 0, the BOS position included when the program has one",
        )
    builder = ConeBuilder(evaluation, checked.allocation)
    shown = " ".join(format_value(v) for v in evaluation.values("tokens")[0])
    lines = [f"input: {shown}"]
    for i in [position] if position is not None else range(width):
        lines.append(format_cone(builder.cone(0, Cell(name, i))))
    return "\n".join(lines)


def _errors(opened: Opened) -> int:
    from rasp_ir.reporting.attribution import attribute_errors, format_attribution

    labelled = opened.view.labelled
    if labelled is None:
        raise RaspError.single(
            "usage",
            f"{opened.view.source} ({opened.view.kind}) has no labelled test split to score",
            hint="--errors needs a Transformer Programs run folder (its test split)",
        )
    out(format_attribution(attribute_errors(opened.checked, labelled)))
    return 0
