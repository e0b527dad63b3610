"""``rasp mips tasks`` and ``rasp mips data``: the task list and seeded task data as JSON lines.

:func:`register_task_commands` adds both to the sub-parsers of ``rasp mips``; nothing heavy is
imported.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from rasp_ir.api import Subparsers, add_command, out

from .tasks import ANCHOR_SEED, TASKS, get_task


def register_task_commands(commands: Subparsers) -> None:
    """Add the ``tasks`` and ``data`` subcommands to ``commands``."""
    add_command(
        commands,
        "tasks",
        tasks_command,
        summary="list the 62 MIPS tasks",
        description="List every task of the MIPS paper, one line each: name, input alphabet, "
        "length T, output range, training steps and train/test split.",
        epilog="Alphabets and ranges are inclusive; 'pairs of' means two numbers per step.",
    )
    parser = add_command(
        commands,
        "data",
        data_command,
        summary="print seeded sequences of a task as JSON lines",
        description='Print N sequences of TASK, one JSON object per line: {"x": [...], '
        '"y": [...]}, with two-number steps as 2-element lists.',
        epilog="The sequences are the first N of the stream that splits into the task's "
        "train and test data\nfor the same seed. Previous_Equals_Current drops repeated "
        "sequences, so it may print fewer than N.\nexample:\n  rasp mips data Div_3 --n 5 "
        "--seed 1",
    )
    parser.add_argument("task", metavar="TASK", help="a paper task name (see `rasp mips tasks`)")
    parser.add_argument("--n", type=_count, default=10, metavar="N", help="sequences (10)")
    parser.add_argument(
        "--seed", type=_count, default=ANCHOR_SEED, metavar="S", help=f"seed ({ANCHOR_SEED})"
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def tasks_command(args: argparse.Namespace) -> int:
    """Print one summary line per task, in the order of the paper's table."""
    for task in TASKS.values():
        out(task.summary())
    return 0


def data_command(args: argparse.Namespace) -> int:
    """Print ``args.n`` sequences of ``args.task`` generated from ``args.seed``."""
    task = get_task(args.task)
    x, y = task.generate(args.n, np.random.default_rng(args.seed))
    for inputs, outputs in zip(x.tolist(), y.tolist(), strict=True):
        out(json.dumps({"x": inputs, "y": outputs}))
    return 0
