"""``rasp mips search``: a task, a strategy and a time budget in; trial run folders,
``search.json`` and one line per trial on stdout out.

:func:`register_search_commands` adds the command to the sub-parsers of ``rasp mips``; torch
is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rasp_ir.api import Subparsers, add_command, out

from .tasks import get_task
from .train_cmds import add_training_options, positive, training_settings

EPILOG = """\
Strategies:
  ladder   a short fixed list of architectures, stopping at the first success (fast)
  paper    the reference's search: a geometric sweep over the mixed-radix architecture codes
           (output depth, hidden depth, D, output width, hidden width), then a binary search
           below the first success; it assumes success is monotone in the code
An architecture succeeds when one of its --seeds seeds is right on the whole test split;
training stops there. Each trial is recorded in DIR/search.json as it ends: rerunning the same
command resumes the search. --budget is checked before each trial starts.
examples:
  rasp mips search Parity_All -o runs/parity-search --budget 600 --steps 3000 --batch-size 256
  rasp mips search Sum_Last2 -o runs/sum2-search --strategy paper --budget 3600
"""


def register_search_commands(commands: Subparsers) -> None:
    """Add the ``search`` subcommand to ``commands``."""
    parser = add_command(
        commands,
        "search",
        search_command,
        summary="find an architecture that learns a task perfectly",
        description="Train architectures on TASK until one learns it perfectly, by a ladder "
        "or by the reference's smallest-architecture search, within a time budget.",
        epilog=EPILOG,
    )
    parser.add_argument("task", metavar="TASK", help="a paper task name (see `rasp mips tasks`)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    add_search_options(parser)


def add_search_options(parser: argparse.ArgumentParser) -> None:
    """The options ``search`` and ``solve`` share: strategy, budget, seeds, training."""
    group = parser.add_argument_group("search")
    group.add_argument("--strategy", choices=("ladder", "paper"), default="ladder")
    group.add_argument("--budget", type=float, default=3600.0, metavar="SECONDS", help="(3600)")
    group.add_argument("--seeds", type=positive, default=4, metavar="K", help="seeds (4)")
    group.add_argument("--quiet", action="store_true", help="no progress bars")
    add_training_options(parser.add_argument_group("training"), batch_size=256, polish=1000)


def search_command(args: argparse.Namespace) -> int:
    """Run the search; print every trial, the architecture found and the assumption."""
    from .search import search

    task = get_task(args.task)
    outcome = search(
        task,
        args.output,
        strategy=args.strategy,
        settings=training_settings(args, task),
        seeds=range(args.seeds),
        budget_s=args.budget,
        device=args.device,
        progress=not args.quiet,
    )
    for trial in outcome.trials:
        verdict = "perfect" if trial.success else f"best {max(trial.accuracies):.6f}"
        out(
            f"{trial.architecture.describe():45s} {verdict:14s} {trial.steps:6d} steps "
            f"{trial.seconds:7.1f} s"
        )
    ending = "done" if outcome.complete else "stopped by the budget"
    if outcome.smallest is None:
        out(f"no architecture learned {task.name} ({ending}, {outcome.seconds:.0f} s)")
    else:
        out(
            f"found: {outcome.smallest.architecture.describe()} ({ending}, "
            f"{outcome.seconds:.0f} s) -> {args.output / outcome.smallest.run_dir}"
        )
    out(f"assumption: {outcome.assumption}")
    out(f"record: {args.output / 'search.json'}")
    return 0 if outcome.smallest is not None else 1
