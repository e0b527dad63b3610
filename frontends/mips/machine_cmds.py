"""The machine subcommands of ``rasp mips``: an argparse sub-parsers object in, ``lift`` added
to it (``lift MACHINE.json -o PROGRAM.rasp [--max-len N] [--construction C] [--run RUN_DIR
[--sequences N]]``).

Building the parser imports nothing heavy (no torch; ``--run`` imports it when it runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rasp_ir.api import Subparsers, add_command, add_lift_options, lift_options, write_lifted

from . import FRONTEND
from .command_defaults import AFFINE_CONSTRUCTIONS, CONSTRUCTIONS, SPLIT_SEQUENCES

LIFT_EPILOG = """\
The certificate (PROGRAM.certificate.json unless --certificate) lists the inputs on which
program and machine were compared; lifting fails (exit 1) unless they agree at every position.
With --run the certificate also compares the program with the RNN's rounded outputs on its
task's test split (group rnn_split: N sequences generated with --seed, as 'rasp mips verify'
draws them), and lifting fails on any disagreement there too.
Without --construction the cheapest construction that applies is used: windows (definite
machines, 1 attention layer), counts (commutative machines, 1 layer), prefix_max (a running
maximum or minimum of a key of the input, as Max_Seen and Min_Seen: 1 layer), doubling (any
machine, ceil(log2(max_len)) layers) or quotient_doubling (any machine, doubling over the
quotient that decides the next output, as an adder's carry: at most as many layers).
Integer-affine machines ("kind": "affine") are lifted by prefix_sums when A is the identity and
by affine_windows when A is nilpotent (1 layer each), and by polynomial_sums when A is
unipotent ((A - I)^k = 0, as Newton_Freebody: k layers at most), and by periodic_sums when A
has finite order (A^p = I, as Newton_Spring: p sums in 1 layer). A readout with abs terms
(Abs_Diff) is lifted by affine_windows.
The same as: rasp lift --frontend mips MACHINE.json -o PROGRAM.rasp [--set construction=C]

examples:
  rasp mips lift examples/machines/parity.json -o parity.rasp
  rasp mips lift examples/machines/window3.json -o w3.rasp --max-len 16 --construction doubling
  rasp mips lift examples/machines/sum_all.json -o sum_all.rasp --max-len 100
  rasp mips lift parity.json -o parity.rasp --max-len 40 --run runs/parity
"""


def register_machine_commands(commands: Subparsers) -> None:
    """Add ``lift`` to ``commands``."""
    parser = add_command(
        commands,
        "lift",
        lift_command,
        summary="lift a Moore machine (JSON) into an exact program with a certificate",
        description="Write a RASP program whose output at each position is the machine's "
        "output after the inputs so far, checked against the machine on every input up to a "
        "length and on random inputs (and against an RNN run on its test split).",
        epilog=LIFT_EPILOG,
    )
    parser.add_argument("machine", type=Path, metavar="MACHINE.json")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="PROGRAM.rasp")
    parser.add_argument(
        "--construction",
        choices=(*CONSTRUCTIONS, *AFFINE_CONSTRUCTIONS),
        help="force a construction (default: the cheapest that applies)",
    )
    parser.add_argument("--certificate", type=Path, metavar="FILE")
    parser.add_argument(
        "--run",
        type=Path,
        metavar="RUN_DIR",
        help="also compare the program with this trained RNN on its task's test split",
    )
    parser.add_argument(
        "--sequences",
        type=int,
        default=SPLIT_SEQUENCES,
        metavar="N",
        help=f"with --run: sequences generated before the train/test split (default: "
        f"{SPLIT_SEQUENCES})",
    )
    add_lift_options(parser)


def lift_command(args: argparse.Namespace) -> int:
    """Lift with the ``mips`` frontend; write the program and its certificate."""
    settings = [("construction", args.construction)] if args.construction else []
    options = lift_options(args, settings)
    if args.run is None:
        lifted = FRONTEND.lift(args.machine, options)
    else:
        from .lift import lift_file
        from .run_files import load_run

        run = load_run(args.run)
        lifted = lift_file(args.machine, options, run, args.sequences, f"RNN {args.run}")
    write_lifted(lifted, args.output, args.certificate)
    return 0
