"""Reproduce the paper's Table 1: train each RASP task at its Table 1 configuration, lift it,
certify it, and compare the argmax model's test accuracy with the paper's.

    .venv/bin/python benchmarks/tp_reproduce.py [--tasks sort hist] [--seeds 0 1] [--epochs 250]
        [--architectures 2/4/2 3/8/4 | --grid]

Defaults: the seven RASP tasks at their Table 1 configuration, seed 0, the paper's 250 epochs
(batch 512, Adam 5e-2, temperature 3 -> 0.01, 20,000 samples de-duplicated and split 81/9/10).
``--epochs`` overrides the epochs (say so when quoting the numbers). ``--architectures`` trains
other configurations (layers/heads/MLPs per layer, split evenly between categorical and
numerical); ``--grid`` trains the paper's whole model-selection grid. Lifting is certified on
the whole test split, every input up to a length (``--exhaustive-limit`` inputs) and ``--fuzz``
random inputs; agreement must be 100% or the lift fails.

Prints a Markdown table (test accuracy ours vs paper, lifted agreement, program lines, seconds
per epoch) and adds this invocation to benchmarks/results/tp_reproduce.json, which keeps every
invocation; tp_reproduce.md is rendered from all of them: first the paper's protocol (per task,
the seed with the best validation accuracy among the runs at the Table 1 configuration and
schedule, its test accuracy against the paper's), then, once runs at other grid configurations
exist, the paper's full model selection (the best validation accuracy over the grid and Table 1
configurations), then the same selection over each run's best-validation epoch (beyond the
paper, which reports final models), then runs that clipped their gradients (beyond the paper),
then every invocation's own table. A seed run again (same task, configuration and recipe)
counts with its latest run; the earlier one stays in its invocation's table.
Under ``torchrun --nproc-per-node P`` (or across nodes) the runs are shared out between the
processes, each training its own models, and the first process records them all as one
invocation: ``torchrun --nproc-per-node 16 benchmarks/tp_reproduce.py --grid --seeds 0 1 2 3 4``.
``--render`` only re-renders the Markdown from the JSON; ``--merge FILE...`` adds the
invocations recorded in other results files (parallel runs) and re-renders.

``--protocol paper`` runs the paper's whole protocol on populations instead (every task at
every grid configuration, one population per configuration whose members are ``--seeds``,
default 0-4, with ``--recipe``; :mod:`benchmarks.tp_protocol`) and writes ``tp_protocol.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime  # noqa: E402
from benchmarks.tp_protocol import run_protocol  # noqa: E402
from benchmarks.tp_protocol_table import PROTOCOL_TASKS, paper_accuracy  # noqa: E402
from benchmarks.tp_reproduce_report import PAPER_DATASET_SIZE, markdown, render  # noqa: E402
from benchmarks.tp_runs import commit, lift_certified, processes  # noqa: E402
from rasp_ir.api import RaspError, write_text_atomically  # noqa: E402
from rasp_ir.frontends.transformer_programs.config import (  # noqa: E402
    PAPER_GRID,
    Architecture,
)
from rasp_ir.frontends.transformer_programs.population_folder import parse_seeds  # noqa: E402
from rasp_ir.frontends.transformer_programs.recipes import RECIPE_NAMES  # noqa: E402
from rasp_ir.frontends.transformer_programs.tasks import RASP_TASKS  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import (  # noqa: E402
    default_architecture,
    default_train_config,
    train,
)


def architecture_argument(text: str) -> Architecture:
    """``L/H/M`` (layers, heads and MLPs per layer) as an architecture; ``ArgumentTypeError``
    on anything else."""
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not LAYERS/HEADS/MLPS, e.g. 3/8/4")
    layers, heads, mlps = map(int, parts)
    if layers < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a model needs at least one layer")
    return Architecture.split(layers, heads, mlps)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--protocol",
        choices=["paper"],
        help="the paper's whole protocol on populations: every task at every grid "
        "configuration x the seeds, selected by validation, lifted (benchmarks/tp_protocol.py)",
    )
    parser.add_argument(
        "--recipe",
        nargs="+",
        choices=RECIPE_NAMES,
        help="with --protocol: the training recipes to run (default: paper)",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        choices=PROTOCOL_TASKS,
        help="default: the Table 1 tasks (with --protocol: and induction)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=seeds_argument,
        metavar="SEEDS",
        help="seeds, ranges or lists: 0 1 2, 0-4, 0-3,7 (default: 0; with --protocol: 0-4)",
    )
    configurations = parser.add_mutually_exclusive_group()
    configurations.add_argument(
        "--architectures",
        nargs="+",
        type=architecture_argument,
        metavar="L/H/M",
        help="train these configurations (layers/heads/MLPs per layer) instead of Table 1's",
    )
    configurations.add_argument(
        "--grid",
        action="store_true",
        help="train every configuration of the paper's grid: L 2,3 x H 4,8 x M 2,4",
    )
    parser.add_argument("--epochs", type=int, help="override the paper's 250 epochs")
    parser.add_argument(
        "--clip-grad-norm",
        type=float,
        metavar="X",
        help="beyond the paper: clip each step's gradient to global norm X (such runs are "
        "listed with their invocation, never selected by the paper's protocol)",
    )
    parser.add_argument("--dataset-size", type=int, default=PAPER_DATASET_SIZE)
    parser.add_argument("--exhaustive-limit", type=int, default=2_000)
    parser.add_argument("--fuzz", type=int, default=200)
    parser.add_argument(
        "--runs",
        type=Path,
        help="keep run folders here (default: a temp dir; with --protocol: runs/tp_protocol, "
        "where an interrupted protocol resumes)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (these models are small: 1)"
    )
    parser.add_argument(
        "--render", action="store_true", help="only re-render the Markdown from the JSON"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=[],
        metavar="JSON",
        help="add the invocations recorded in other results files (runs made in parallel, on "
        "other machines) to this one, then re-render; trains nothing",
    )
    args = parser.parse_args(argv)
    beyond = {"--grid": args.grid, "--clip-grad-norm": args.clip_grad_norm, "--merge": args.merge}
    if args.protocol and any(beyond.values()):
        given = ", ".join(name for name, value in beyond.items() if value)
        parser.error(f"--protocol trains the paper's grid with recipes: {given} does not apply")
    if args.recipe and not args.protocol:
        parser.error("--recipe goes with --protocol paper")
    seeds = [
        seed
        for group in args.seeds or [(0, 1, 2, 3, 4) if args.protocol else (0,)]
        for seed in group
    ]
    if len(set(seeds)) != len(seeds):
        parser.error(f"--seeds names a seed twice: {seeds}")
    args.seeds = seeds
    args.tasks = args.tasks or list(PROTOCOL_TASKS if args.protocol else RASP_TASKS)
    args.recipe = args.recipe or ["paper"]
    return args


def seeds_argument(text: str) -> tuple[int, ...]:
    """Seeds as ``--seeds`` of ``rasp tp train`` reads them (``3``, ``0-4``, ``0-3,7``);
    ``ArgumentTypeError`` naming the problem otherwise."""
    try:
        return parse_seeds(text)
    except RaspError as error:
        raise argparse.ArgumentTypeError(error.diagnostics[0].message) from None


def architectures(task: str, args: argparse.Namespace) -> list[Architecture]:
    """The configurations to train ``task`` at: the chosen ones, the grid, or Table 1's."""
    if args.grid:
        return list(PAPER_GRID)
    return list(args.architectures or [default_architecture(task)])


def run_one(
    task: str, arch: Architecture, seed: int, args: argparse.Namespace, runs: Path
) -> dict[str, Any]:
    """Train, lift and certify one task, configuration and seed; the table row."""
    settings = default_train_config(
        task,
        epochs=args.epochs,
        seed=seed,
        dataset_size=args.dataset_size,
        clip_grad_norm=args.clip_grad_norm,
    )
    table1 = arch == default_architecture(task)
    name = f"{task}-seed{seed}" if table1 else f"{task}-{arch.label().replace('/', '-')}-seed{seed}"
    if settings.clip_grad_norm is not None:
        name += f"-clip{settings.clip_grad_norm:g}"
    run_dir = runs / name
    began = time.perf_counter()
    result = train(task, run_dir, arch, settings, progress=False, data_parallel=False)
    row: dict[str, Any] = {
        "task": task,
        "seed": seed,
        "dataset_size": args.dataset_size,
        "architecture": vars(arch),
        "epochs": settings.epochs,
        "clip_grad_norm": settings.clip_grad_norm,
        "sizes": result.sizes,
        "test_accuracy": result.accuracy["test"],
        "val_accuracy": result.accuracy["val"],
        "paper_accuracy": paper_accuracy(task) / 100,
        "seconds_per_epoch": result.seconds_per_epoch,
        "train_seconds": time.perf_counter() - began,
    }
    began = time.perf_counter()
    limits = (args.exhaustive_limit, args.fuzz)
    row.update(lift_certified(run_dir, "model", run_dir / "program.rasp", *limits))
    row["lift_seconds"] = time.perf_counter() - began
    if result.best_accuracy is not None:
        row.update(
            best_epoch=result.best_epoch,
            best_val_accuracy=result.best_accuracy["val"],
            best_test_accuracy=result.best_accuracy["test"],
        )
        if result.best_epoch == settings.epochs:  # the final model itself
            row.update(best_agreement=row["agreement"], best_program_lines=row["program_lines"])
        else:
            lifted = lift_certified(run_dir, "best", run_dir / "program-best.rasp", *limits)
            row.update(
                best_agreement=lifted["agreement"], best_program_lines=lifted["program_lines"]
            )
    return row


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_reproduce.py", *(argv or sys.argv[1:])])
    if args.protocol:
        return run_protocol(args, command)
    results_json = args.results / "tp_reproduce.json"
    meta = json.loads(results_json.read_text()) if results_json.exists() else {"runs": []}
    args.results.mkdir(parents=True, exist_ok=True)
    if args.merge:
        known = {(run["command"], run.get("date")) for run in meta["runs"]}
        for other in args.merge:
            recorded = json.loads(other.read_text())
            for run in recorded.get("runs", [recorded]):
                if (run["command"], run.get("date")) not in known:
                    meta["runs"].append(run)
                    known.add((run["command"], run.get("date")))
        write_text_atomically(results_json, json.dumps(meta, indent=2) + "\n")
    elif not args.render:
        run = sweep(args, command)
        if run is None:
            return 0
        meta["runs"].append(run)
        write_text_atomically(results_json, json.dumps(meta, indent=2) + "\n")
    write_text_atomically(args.results / "tp_reproduce.md", render(meta))
    return 0


def sweep(args: argparse.Namespace, command: str) -> dict[str, Any] | None:
    """Train, lift and certify every (task, configuration, seed): the invocation's record.

    Under torchrun each process takes every WORLD_SIZE-th run (trained on its own, not data
    parallel) and process 0 gathers the rows, in the order one process would have made them;
    the other processes return None."""
    rank, world = processes()
    torch.set_num_threads(args.threads)
    load_before = uptime()
    jobs = [
        (task, arch, seed)
        for task in args.tasks
        for arch in architectures(task, args)
        for seed in args.seeds
    ]
    mine: list[tuple[int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs or Path(scratch)
        for index in range(rank, len(jobs), world):
            mine.append((index, run_one(*jobs[index], args, runs)))
            print(json.dumps(mine[-1][1]), flush=True)
    if world > 1:
        parts: list[Any] | None = [None] * world if rank == 0 else None
        dist.gather_object(mine, parts, dst=0)
        dist.barrier()  # no process closes its connections before process 0 holds every part
        dist.destroy_process_group()
        if parts is None:
            return None
        mine = [item for part in parts for item in part]
    rows = [row for _, row in sorted(mine, key=lambda item: item[0])]
    print(markdown(rows, command))
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "processes": world,
        "load_before": load_before,
        "load_after": uptime(),
        "rows": rows,
    }


def _main_or_error() -> int:
    """:func:`main`, with a user's error (a run folder trained with other settings, say)
    printed as the CLI prints it, exit status 1, no traceback."""
    try:
        return main()
    except RaspError as error:
        print(error.render(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(_main_or_error())
