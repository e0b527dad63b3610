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
from benchmarks.tp_runs import commit, lift_certified, processes  # noqa: E402
from rasp_ir.api import RaspError, write_text_atomically  # noqa: E402
from rasp_ir.frontends.transformer_programs.config import (  # noqa: E402
    PAPER_ARCHITECTURES,
    PAPER_GRID,
    Architecture,
    TrainConfig,
    paper_epochs,
)
from rasp_ir.frontends.transformer_programs.population_folder import parse_seeds  # noqa: E402
from rasp_ir.frontends.transformer_programs.recipes import RECIPE_NAMES  # noqa: E402
from rasp_ir.frontends.transformer_programs.tasks import RASP_TASKS  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import (  # noqa: E402
    default_architecture,
    default_train_config,
    train,
)

PAPER_DATASET_SIZE = TrainConfig().dataset_size


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


def _architecture(row: dict[str, Any]) -> str:
    keys = ("n_layers", "n_heads_cat", "n_heads_num", "n_cat_mlps", "n_num_mlps")
    return "/".join(str(row["architecture"][k]) for k in keys)


def _agreement(row: dict[str, Any]) -> str:
    if row.get("agreement") is None:
        return "lift failed"
    return f"{row['agreement']:.0%} ({row['positions_compared']})"


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    """One invocation's table."""
    lines = [
        f"Command: `{command}`",
        "",
        "| task | seed | L/Hc/Hn/Mc/Mn | epochs | train/val/test | test acc (ours) | paper "
        "| lifted agreement (positions) | program lines | s/epoch | lift s |",
        "|---|---:|---|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        sizes = "/".join(str(r["sizes"][s]) for s in ("train", "val", "test"))
        lines.append(
            f"| {r['task']} | {r['seed']} | {_architecture(r)} | {r['epochs']} | {sizes} "
            f"| {100 * r['test_accuracy']:.2f} | {100 * r['paper_accuracy']:.2f} "
            f"| {_agreement(r)} | {r['program_lines']} | {r['seconds_per_epoch']:.2f} "
            f"| {r['lift_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _at_paper_schedule(row: dict[str, Any]) -> bool:
    """Whether a run had the paper's epochs and data set size (early runs did not record the
    size: they used the default)."""
    size = row.get("dataset_size", PAPER_DATASET_SIZE)
    return bool(row["epochs"] == paper_epochs(row["task"]) and size == PAPER_DATASET_SIZE)


def _paper_recipe(row: dict[str, Any]) -> bool:
    """The paper's schedule and no gradient clipping (not recorded by early runs: none)."""
    return _at_paper_schedule(row) and row.get("clip_grad_norm") is None


def paper_protocol(runs: list[dict[str, Any]], grid: bool = False) -> list[dict[str, Any]]:
    """Per task, the paper's selection over every recorded run with the paper's recipe
    (schedule, default dataset size, no gradient clipping) at the task's Table 1 configuration,
    or with ``grid`` also at every configuration of the paper's grid: the run with the best
    validation accuracy (ties: Table 1's configuration, then the lower seed). Each entry keeps
    every eligible run for context."""
    by_task: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for run in runs:
        for row in run["rows"]:
            task = row["task"]
            arch = Architecture(**row["architecture"])
            eligible = {default_architecture(task), *(PAPER_GRID if grid else ())}
            if arch in eligible and _paper_recipe(row):
                by_task.setdefault(task, {})[(arch.label(), row["seed"])] = row
    summary = []
    for task in RASP_TASKS:
        if task not in by_task:
            continue
        table1 = default_architecture(task).label()
        order = sorted(
            by_task[task].items(),
            key=lambda item: (item[0][0] != table1, item[0][1], item[0][0]),
        )
        eligible_rows = [row for _, row in order]
        summary.append(
            {
                "task": task,
                "best": max(eligible_rows, key=lambda r: r["val_accuracy"]),
                "runs": eligible_rows,
                "all_agree": all(r.get("agreement") == 1.0 for r in eligible_rows),
            }
        )
    return summary


def _label(row: dict[str, Any]) -> str:
    return Architecture(**row["architecture"]).label()


def _table1_section(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| task | seeds run | best seed (by val) | val | test (ours) | paper | ours - paper "
        "| target | test of every seed | lifted agreement, all seeds |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for entry in paper_protocol(runs):
        best = entry["best"]
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        seeds = " ".join(str(r["seed"]) for r in entry["runs"])
        every = ", ".join(f"{100 * r['test_accuracy']:.2f}" for r in entry["runs"])
        lines.append(
            f"| {entry['task']} | {seeds} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {_target(entry['task'], gap)} "
            f"| {every} "
            f"| {_agreement_cell(entry['all_agree'])} |"
        )
    return lines


def _grid_section(runs: list[dict[str, Any]]) -> list[str]:
    """The paper's full model selection, or nothing while every run is at Table 1's
    configuration (the table above already says it all)."""
    entries = paper_protocol(runs, grid=True)
    table1 = {task: arch.label() for task, arch in PAPER_ARCHITECTURES.items()}
    if all(_label(r) == table1[e["task"]] for e in entries for r in e["runs"]):
        return []
    lines = [
        "",
        "## The paper's model selection over its grid",
        "",
        "The paper chose each task's configuration by validation accuracy over a grid "
        "(layers 2, 3 x heads 4, 8 x MLPs 2, 4 per layer, 5 seeds each); Table 1 lists the "
        "chosen ones. Here: the best validation accuracy over every run at the paper's schedule, "
        "at Table 1's configuration (first) and at the grid's.",
        "",
        "| task | runs: L/H/M x seeds | selected L/H/M | seed | val | test (ours) | paper "
        "| ours - paper | target | best test of each L/H/M | lifted agreement, all runs |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for entry in entries:
        best = entry["best"]
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        by_label: dict[str, list[float]] = {}
        for row in entry["runs"]:
            by_label.setdefault(_label(row), []).append(row["test_accuracy"])
        counts = ", ".join(f"{label} x{len(tests)}" for label, tests in by_label.items())
        tops = ", ".join(f"{label}: {100 * max(tests):.2f}" for label, tests in by_label.items())
        lines.append(
            f"| {entry['task']} | {counts} | {_label(best)} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {_target(entry['task'], gap)} "
            f"| {tops} | {_agreement_cell(entry['all_agree'])} |"
        )
    return lines


def _best_epoch_section(runs: list[dict[str, Any]]) -> list[str]:
    """Beyond the paper: per task, the selection of the Table 1 protocol made over the runs'
    best-validation epochs instead of their final models (runs recorded before best epochs
    were kept are left out; nothing while there are none)."""
    entries = []
    for entry in paper_protocol(runs):
        kept = [row for row in entry["runs"] if "best_epoch" in row]
        if kept:
            entries.append((entry["task"], kept))
    if not entries:
        return []
    lines = [
        "",
        "## Beyond the paper: the best-validation epoch",
        "",
        "The paper reports each run's final model; the targets above are judged on those. "
        "Every run also keeps the epoch whose argmax model had the best validation accuracy "
        "(`RUN_DIR/best`). Here, per task at Table 1's configuration and the paper's schedule, "
        "the run whose best epoch has the highest validation accuracy, and that epoch's test "
        "accuracy. It selects on validation data only, but it is not the paper's protocol. "
        "Only runs recorded since best epochs were kept are counted.",
        "",
        "| task | seeds | selected seed | epoch | val | test (ours) | paper | ours - paper "
        "| final model's test, same seed | best-epoch test of every seed "
        "| lifted agreement, all best epochs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for task, kept in entries:
        best = max(kept, key=lambda r: r["best_val_accuracy"])
        gap = 100 * (best["best_test_accuracy"] - best["paper_accuracy"])
        seeds = " ".join(str(r["seed"]) for r in kept)
        every = ", ".join(f"{100 * r['best_test_accuracy']:.2f}" for r in kept)
        agree = all(r.get("best_agreement") == 1.0 for r in kept)
        lines.append(
            f"| {task} | {seeds} | {best['seed']} | {best['best_epoch']} "
            f"| {100 * best['best_val_accuracy']:.2f} | {100 * best['best_test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} "
            f"| {100 * best['test_accuracy']:.2f} | {every} | {_agreement_cell(agree)} |"
        )
    return lines


def _clipped_section(runs: list[dict[str, Any]]) -> list[str]:
    """Beyond the paper: runs that clipped their gradients (otherwise the paper's schedule, at
    Table 1's configuration), per task and clipping norm: the best validation seed, and every
    seed's test accuracy next to the same seed's without clipping."""
    paper: dict[tuple[str, int], dict[str, Any]] = {}
    clipped: dict[tuple[str, float], dict[int, dict[str, Any]]] = {}
    for run in runs:
        for row in run["rows"]:
            if Architecture(**row["architecture"]) != default_architecture(row["task"]):
                continue
            clip = row.get("clip_grad_norm")
            if _paper_recipe(row):
                paper[(row["task"], row["seed"])] = row
            elif clip is not None and _at_paper_schedule(row):
                clipped.setdefault((row["task"], clip), {})[row["seed"]] = row
    if not clipped:
        return []
    lines = [
        "",
        "## Beyond the paper: gradient clipping",
        "",
        "The paper's recipe except that each step's gradient is clipped to a global norm "
        "(`--clip-grad-norm`), at Table 1's configuration. Final models, best validation seed. "
        "In brackets: the same seed's test accuracy without clipping (the paper's recipe).",
        "",
        "| task | clip | seeds | best seed (by val) | val | test (ours) | paper | ours - paper "
        "| test of every seed (without clipping) | lifted agreement, all seeds |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    order = {task: index for index, task in enumerate(RASP_TASKS)}
    for (task, clip), by_seed in sorted(clipped.items(), key=lambda i: (order[i[0][0]], i[0][1])):
        rows = [by_seed[seed] for seed in sorted(by_seed)]
        best = max(rows, key=lambda r: r["val_accuracy"])
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        every = ", ".join(
            f"{100 * r['test_accuracy']:.2f} ({_test_of(paper.get((task, r['seed'])))})"
            for r in rows
        )
        agree = all(r.get("agreement") == 1.0 for r in rows)
        lines.append(
            f"| {task} | {clip:g} | {' '.join(str(r['seed']) for r in rows)} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {every} "
            f"| {_agreement_cell(agree)} |"
        )
    return lines


def _agreement_cell(all_agree: bool) -> str:
    return "100%" if all_agree else "NOT 100%"


def _test_of(row: dict[str, Any] | None) -> str:
    return "-" if row is None else f"{100 * row['test_accuracy']:.2f}"


def render(meta: dict[str, Any]) -> str:
    """The whole Markdown report: the paper's protocol first, then every invocation."""
    lines = [
        "# Transformer Programs: Table 1 reproduction",
        "",
        "Paper protocol: Table 1 configuration, 250 epochs, batch 512, Adam 5e-2, "
        "temperature 3 -> 0.01; per task the seed with the best **validation** accuracy; "
        "its test accuracy is reported (the paper searched a grid x 5 seeds). "
        "Agreement: the lifted program vs the argmax model at every position of the whole test "
        "split, every input up to a length (2,000 inputs) and 200 random inputs, for every seed. "
        "Runs recorded before commit 1884b98 trained without sampling the token embedding (§5 of "
        "the reference: its frozen +-10 logits pass through the sampler too, which spreads about "
        "1% of the mass at the first temperatures); they are counted as the paper's recipe, and "
        "the clipping section's pairs may compare runs from either side of that change.",
        "",
        "Target (issue 5): within one point of the paper on every task, better than the paper "
        "on most_freq.",
        "",
        *_table1_section(meta["runs"]),
        *_grid_section(meta["runs"]),
        *_best_epoch_section(meta["runs"]),
        *_clipped_section(meta["runs"]),
    ]
    lines += ["", "## Every invocation", ""]
    for run in meta["runs"]:
        details = ", ".join(
            f"{key} {run[key]}"
            for key in (
                "date",
                "commit",
                "machine",
                "torch",
                "processes",
                "load_before",
                "load_after",
            )
            if key in run
        )
        if details:
            lines += [details, ""]
        lines += [markdown(run["rows"], run["command"])]
    return "\n".join(lines)


def _target(task: str, gap: float) -> str:
    """Whether the gap (ours - paper, points) meets the target: better on most_freq, else
    within one point."""
    if task == "most_freq":
        return "met (better)" if gap > 0 else "NOT met (needs better)"
    return "met" if gap >= -1 else "NOT met"


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


if __name__ == "__main__":
    sys.exit(main())
