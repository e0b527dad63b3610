"""The machine subcommands of ``rasp mips``: an argparse sub-parsers object in, ``lift`` added
to it (``lift MACHINE.json -o PROGRAM.rasp [--max-len N] [--construction C]``).

Building the parser imports nothing heavy (no torch).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rasp_ir.api import Subparsers, add_command, add_lift_options, lift_options, write_lifted

from . import FRONTEND
from .lift import AFFINE_CONSTRUCTIONS, CONSTRUCTIONS

LIFT_EPILOG = """\
The certificate (PROGRAM.certificate.json unless --certificate) lists the inputs on which
program and machine were compared; lifting fails (exit 1) unless they agree at every position.
Without --construction the cheapest construction that applies is used: windows (definite
machines, 1 attention layer), counts (commutative machines, 1 layer) or doubling (any machine,
ceil(log2(max_len)) layers). Integer-affine machines ("kind": "affine") are lifted by
prefix_sums when A is the identity and by affine_windows when A is nilpotent (1 layer each).
The same as: rasp lift --frontend mips MACHINE.json -o PROGRAM.rasp [--set construction=C]

examples:
  rasp mips lift examples/machines/parity.json -o parity.rasp
  rasp mips lift examples/machines/window3.json -o w3.rasp --max-len 16 --construction doubling
  rasp mips lift examples/machines/sum_all.json -o sum_all.rasp --max-len 100
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
        "length and on random inputs.",
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
    add_lift_options(parser)


def lift_command(args: argparse.Namespace) -> int:
    """Lift with the ``mips`` frontend; write the program and its certificate."""
    settings = [("construction", args.construction)] if args.construction else []
    lifted = FRONTEND.lift(args.machine, lift_options(args, settings))
    write_lifted(lifted, args.output, args.certificate)
    return 0
