"""``rasp mips solve`` and ``rasp mips suite``: one task, or many, through the whole pipeline
(search, extract, verify, lift, compile); folders of artifacts and a result per task out.

:func:`register_solve_commands` adds both to the sub-parsers of ``rasp mips``; torch is
imported only when a command runs.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.api import RaspError, Subparsers, add_command, out

from .search_cmds import add_search_options
from .task_spec import Task
from .tasks import TASKS, get_task
from .train_cmds import training_settings

if TYPE_CHECKING:
    from .solve import SolveSettings

SOLVE_EPILOG = """\
Stages: search (an architecture with a seed perfect on the whole test split), extract (a
Moore machine, by behaviour classes or geometric clusters), verify (the machine against the
task's targets on every test sequence, exhaustively on short inputs, on random 2T and 4T
inputs, and against the RNN: machine.verify.json), lift (program.rasp at T, program-4T.rasp
at 4T, each certified), compile (model.safetensors with the torch backend, program.py with
the python backend). A task is solved when its machine verifies. DIR/result.json records every
stage, or the stage that failed and why. Rerunning resumes the search.
examples:
  rasp mips solve Parity_All -o solved/parity --budget 300
  rasp mips solve Add_Mod_3 -o solved/add3 --steps 5000 --seeds 8
"""

SUITE_EPILOG = """\
Runs `rasp mips solve` for every task (or --tasks) into DIR/TASK and writes DIR/summary.md.
Resumable: tasks with a DIR/TASK/result.json are skipped. Under torchrun each process takes
every WORLD_SIZE-th task, one thread each:
  torchrun --nproc-per-node 2 -m rasp_ir.cli.main mips suite -o suite
examples:
  rasp mips suite -o suite --budget 600
  rasp mips suite -o suite --tasks Parity_All,Bitwise_Xor --steps 3000
"""


def _add_compile_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compile-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="the most the transformer's compile and check may take; then the task is solved "
        "but its compile stage fails (600)",
    )


def register_solve_commands(commands: Subparsers) -> None:
    """Add ``solve`` and ``suite`` to ``commands``."""
    solve = add_command(
        commands,
        "solve",
        solve_command,
        summary="a task through the whole pipeline: RNN, machine, program, transformer",
        description="Find an RNN that learns TASK, extract and verify its Moore machine, lift "
        "it into RASP and compile it into a transformer and into Python.",
        epilog=SOLVE_EPILOG,
    )
    solve.add_argument("task", metavar="TASK", help="a paper task name (see `rasp mips tasks`)")
    solve.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    add_search_options(solve)
    _add_compile_timeout(solve)
    suite = add_command(
        commands,
        "suite",
        suite_command,
        summary="solve every task (resumable; one task per process under torchrun)",
        description="Run `rasp mips solve` for each task and write a summary table.",
        epilog=SUITE_EPILOG,
    )
    suite.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    suite.add_argument(
        "--tasks", metavar="NAMES", help="comma-separated task names (default: all 62)"
    )
    add_search_options(suite)
    _add_compile_timeout(suite)


def solve_settings(args: argparse.Namespace, task: Task) -> SolveSettings:
    """The pipeline settings the shared options ask for, for ``task``."""
    from .solve import SolveSettings

    return SolveSettings(
        train=training_settings(args, task),
        strategy=args.strategy,
        budget_s=args.budget,
        seeds=tuple(range(args.seeds)),
        device=args.device,
        progress=not args.quiet,
        compile_timeout_s=args.compile_timeout,
    )


def solve_command(args: argparse.Namespace) -> int:
    """Solve one task; print each stage's outcome; exit 1 unless the task is solved."""
    from .solve import solve

    task = get_task(args.task)
    result = solve(task, args.output, solve_settings(args, task))
    for stage, seconds in result.seconds.items():
        out(f"{stage:11s} {seconds:8.1f} s")
    if not result.solved:
        raise RaspError.single(
            "mips-solve",
            f"{task.name} not solved: {result.failed_stage} failed: {result.reason}",
            hint=f"{args.output / 'result.json'} records what each stage found",
        )
    machine = result.facts["machine"]
    size = machine.get("states", machine.get("state_dim"))
    tail = "" if result.failed_stage is None else f"; {result.failed_stage} failed: {result.reason}"
    out(f"{task.name}: solved, {machine['kind']} machine of size {size}{tail}")
    out(f"results: {args.output}")
    return 0


def suite_command(args: argparse.Namespace) -> int:
    """Run the suite (this process's share under torchrun); rank 0 writes the summary."""
    from .suite import collect, distributed_rank, run_suite, write_summary

    names = [n.strip() for n in args.tasks.split(",")] if args.tasks else list(TASKS)
    for name in names:
        get_task(name)
    rank, world = distributed_rank()
    if world > 1:
        import torch.distributed as dist

        from rasp_ir.backends.torch.process_group import join_gloo_group

        join_gloo_group()
    run_suite(names, args.output, functools.partial(solve_settings, args), rank, world, out)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        results = collect(names, args.output)
        path = write_summary(results, args.output)
        solved = sum(1 for r in results if r["solved"])
        out(f"{solved} of {len(results)} tasks solved; summary: {path}")
    return 0
