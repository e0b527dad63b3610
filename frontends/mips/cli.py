"""``rasp mips``: the MIPS tasks, their data, and hand-written or extracted state machines from
the command line.

A command plugin (entry point ``mips`` of ``rasp_ir.commands``): :func:`register` adds
``rasp mips`` and its subcommands, each group from the module that owns it. Building the parser
imports nothing heavy.
"""

from __future__ import annotations

import argparse

from rasp_ir.api import Subparsers, add_command

from .extract_cmds import register_extract_commands
from .machine_cmds import register_machine_commands
from .search_cmds import register_search_commands
from .solve_cmds import register_solve_commands
from .task_cmds import register_task_commands
from .train_cmds import register_train_commands
from .transformer_cmds import register_transformer_commands
from .verify_cmds import register_verify_commands

EPILOG = """\
examples:
  rasp mips tasks                          # the 62 tasks: alphabet, T, output range, steps
  rasp mips data Parity_All --n 3 --seed 1 # seeded sequences as JSON lines
  rasp mips train Parity_All -o runs/parity --hidden 2 --steps 300 --seeds 4   # 4 seeds at once
  rasp mips search Parity_All -o runs/parity-search --budget 600   # an architecture that learns it
  rasp mips extract runs/parity/seed-3 -o parity.json --method behaviour   # its Moore machine
  rasp mips solve Parity_All -o solved/parity   # RNN -> machine -> RASP -> transformer, verified
  rasp mips suite -o suite --budget 600         # every task, resumable (torchrun: in parallel)
  rasp mips lift examples/machines/parity.json -o parity.rasp   # a machine, lifted exactly
  rasp mips verify-transformer parity.rasp examples/machines/parity.json --task Parity_All
  rasp lift --frontend mips examples/machines/cycle4.json -o cycle4.rasp --max-len 16
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp mips`` and its subcommands."""
    parser = add_command(
        subparsers,
        "mips",
        lambda args: _usage(parser),
        summary="MIPS: the 62 sequence tasks and their state machines",
        description="The tasks of the MIPS paper (Michaud et al., 2024), their data, and Moore "
        "machines lifted exactly into RASP programs.",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="mips_command", metavar="SUBCOMMAND")
    register_task_commands(commands)
    register_train_commands(commands)
    register_search_commands(commands)
    register_extract_commands(commands)
    register_verify_commands(commands)
    register_machine_commands(commands)
    register_transformer_commands(commands)
    register_solve_commands(commands)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
