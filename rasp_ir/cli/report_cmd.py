"""``rasp report``: a program, a training run or a compiled model (and inputs) in, one
self-contained HTML page out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.cli.artifact_inputs import add_input_options, add_member_option, inputs_from_args
from rasp_ir.cli.common import add_command, add_header_options, header_overrides
from rasp_ir.cli.output import err, report
from rasp_ir.diagnostics import RaspError

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

# Inputs shown for an artifact with labelled examples when none are given.
DEFAULT_SHOWN = 3

EPILOG = """\
The page holds the program (highlighted, each binding linked to its node), the dataflow graph by
layer, the layer and head allocation and every value set; on the given inputs, every binding's
values, every selector as a heatmap and why each output cell is what it is; for a compiled
model, the residual stream after every sublayer; for a Transformer Programs run, the training
curves, the certificate of the lifted program and the attribution of its test-split errors;
for a population of runs (rasp tp train --seeds), every member's accuracies and the member shown
(the one validation selects, or --member SEED).
Nothing is fetched from the network: styles, drawings and script are inline.

examples:
  rasp report examples/reverse.rasp --chars hello -o reverse.html
  rasp report examples/sort.rasp --input "d b c a b" -o sort.html
  rasp report runs/hist -o hist.html                  # a TP run: lifted, with its test split
  rasp report runs/hists -o hists.html                # a population: the selected member
  rasp report runs/hists --member 2 -o member2.html   # ... or member 2, beside every member
  rasp report hist --input "0 3 3 1" -o hist-model.html   # rasp compile --backend torch -o hist
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp report``."""
    parser = add_command(
        subparsers,
        "report",
        report_command,
        summary="write an HTML report: program, graph, values, heatmaps, training",
        description="Write one self-contained HTML page about a program, a Transformer "
        "Programs run folder or a compiled model, on the given inputs.",
        epilog=EPILOG,
    )
    parser.add_argument("artifact", metavar="FILE.rasp|RUN_DIR|MODEL", help="what to report on")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT.html")
    add_input_options(parser)
    add_member_option(parser)
    add_header_options(parser)


def report_command(args: argparse.Namespace) -> int:
    """Open the artifact, collect the page's content and write it."""
    from rasp_ir.reporting.collect import collect
    from rasp_ir.reporting.page import render_page
    from rasp_ir.reporting.sources import open_artifact

    opened = open_artifact(args.artifact, header_overrides(args), args.member)
    report(opened.checked.warnings)
    inputs = inputs_from_args(args, opened.checked.program.header, args.artifact)
    labelled = opened.view.labelled
    if not inputs and labelled is not None:
        inputs = [list(tokens) for tokens in labelled.inputs[:DEFAULT_SHOWN]]
    page = render_page(collect(opened, inputs))
    try:
        write_text_atomically(Path(args.output), page)
    except OSError as error:
        raise RaspError.single(
            "file", f"cannot write {args.output}: {error.strerror or error}"
        ) from None
    err(f"wrote {args.output} ({len(inputs)} inputs)")
    return 0
