"""Every task through the pipeline: task names, an output folder and :class:`SolveSettings` in;
one :func:`.solve.solve` folder per task and ``summary.json`` / ``summary.md`` out.

Resumable: a task whose ``TASK/result.json`` exists is not run again, and a task interrupted
mid-search resumes from its ``search.json``. Under ``torchrun`` (``WORLD_SIZE`` > 1) process
``RANK`` takes every ``WORLD_SIZE``-th task, the processes meet at a barrier
(``torch.distributed``, gloo), and rank 0 writes the summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rasp_ir.api import RaspError, write_text_atomically

from .json_files import write_json_atomically
from .solve import SolveSettings, solve
from .task_spec import Task
from .tasks import get_task

SUMMARY_COLUMNS = (
    "task",
    "solved",
    "machine",
    "construction",
    "transformer",
    "rnn",
    "seconds",
    "failed",
)


def process_share(tasks: Sequence[str], rank: int, world: int) -> list[str]:
    """The tasks process ``rank`` of ``world`` runs: every ``world``-th from ``rank``."""
    return list(tasks[rank::world])


def distributed_rank() -> tuple[int, int]:
    """``(rank, world size)`` from torchrun's environment; ``(0, 1)`` outside it."""
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise RaspError.single(
            "mips-suite", "RANK and WORLD_SIZE must be integers (as torchrun sets them)"
        ) from None


def run_suite(
    tasks: Sequence[str],
    out_dir: Path,
    settings_for: Callable[[Task], SolveSettings],
    rank: int = 0,
    world: int = 1,
    report: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Solve this process's share of ``tasks`` (skipping finished ones) into ``out_dir/TASK``
    with the settings ``settings_for`` gives each task; ``report`` (a function of one line)
    hears about each task. Every task's result, in the
    order of ``tasks``, as far as they exist on disk."""
    for name in tasks:
        get_task(name)
    for name in process_share(tasks, rank, world):
        if (out_dir / name / "result.json").exists():
            if report is not None:
                report(f"{name}: done before, skipped")
            continue
        task = get_task(name)
        result = solve(task, out_dir / name, settings_for(task))
        if report is not None:
            report(summary_line(result.to_json()))
    return collect(tasks, out_dir)


def collect(tasks: Sequence[str], out_dir: Path) -> list[dict[str, Any]]:
    """The ``result.json`` of every task of ``tasks`` that has one, in order."""
    results = []
    for name in tasks:
        path = out_dir / name / "result.json"
        if path.exists():
            results.append(json.loads(path.read_text(encoding="utf-8")))
    return results


def summary_line(result: dict[str, Any]) -> str:
    """One line: the task, solved or the failing stage, the machine and seconds."""
    row = summary_row(result)
    verdict = "solved" if result["solved"] else f"failed at {result['failed_stage']}"
    return f"{row['task']}: {verdict}; {row['machine']}; {row['seconds']} s"


def summary_row(result: dict[str, Any]) -> dict[str, str]:
    """The summary table's cells for one task's result."""
    machine = result.get("machine")
    if machine is None:
        shape = "-"
    elif machine["kind"] == "affine":
        shape = f"affine, dim {machine['state_dim']}"
    else:
        shape = f"{machine['states']} states"
    architecture = result.get("architecture")
    transformer = result.get("transformer")
    return {
        "task": result["task"],
        "solved": "yes" if result["solved"] else "no",
        "machine": shape,
        "construction": str(result.get("construction") or "-"),
        "transformer": _transformer_cell(transformer) if transformer else "-",
        "rnn": architecture["description"] if architecture else "-",
        "seconds": f"{result['seconds']['total']:.0f}",
        "failed": "" if result["failed_stage"] is None else str(result["failed_stage"]),
    }


def _transformer_cell(shape: dict[str, int]) -> str:
    """``2 layers x 1 heads, d_model 17, MLP 21``."""
    return (
        f"{shape['n_layers']} layers x {shape['n_heads']} heads, d_model {shape['d_model']}, "
        f"MLP {shape['d_mlp']}"
    )


def write_summary(results: Sequence[dict[str, Any]], out_dir: Path) -> Path:
    """``summary.json`` (the results) and ``summary.md`` (a table) in ``out_dir``; the table's
    path."""
    write_json_atomically(out_dir / "summary.json", list(results))
    solved = sum(1 for r in results if r["solved"])
    lines = [
        f"{solved} of {len(results)} tasks solved (a verified machine)",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    for result in results:
        row = summary_row(result)
        lines.append("| " + " | ".join(row[c] for c in SUMMARY_COLUMNS) + " |")
    path = out_dir / "summary.md"
    write_text_atomically(path, "\n".join(lines) + "\n")
    return path
