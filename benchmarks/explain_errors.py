"""Error attribution speed: ``rasp explain RUN_DIR --errors`` (every scored cell's unit set,
sub-cones shared within an example, no step text) against the plain way (one described cone per
scored cell, then its units), on the test split of a Transformer Programs run.

    .venv/bin/python benchmarks/explain_errors.py [--task sort] [--epochs 2] [--repeats 3]

Trains the run first (the paper's architecture for the task, a few epochs, so that it still
makes errors to attribute), lifts it once, then times both ways ``--repeats`` times each (CPU
seconds of this process, medians) and checks they blame the same units with the same counts.
Quotes the ``uptime`` load before and after (the machine may be shared). Prints a Markdown
table and writes benchmarks/results/explain_errors.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, uptime, write_results  # noqa: E402
from rasp_ir.check import CheckResult  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import (  # noqa: E402
    default_architecture,
    default_train_config,
    train,
)
from rasp_ir.interpreter import interpret  # noqa: E402
from rasp_ir.reporting.attribution import Attribution, attribute_errors  # noqa: E402
from rasp_ir.reporting.cone import Cell, ConeBuilder, Unit  # noqa: E402
from rasp_ir.reporting.sources import open_artifact  # noqa: E402
from rasp_ir.reporting.view import LabelledExamples  # noqa: E402


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="sort")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dataset-size", type=int, default=None, help="the task's default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def plain_blame(checked: CheckResult, labelled: LabelledExamples) -> dict[Unit, tuple[int, int]]:
    """For each unit on the path of a wrong cell: (wrong cells, scored cells) through it, from
    one described cone per scored cell."""
    program = checked.program
    evaluation = interpret(program, labelled.inputs, value_sets=checked.value_sets)
    builder = ConeBuilder(evaluation, checked.allocation)
    got = evaluation.values(labelled.output)
    errors: Counter[Unit] = Counter()
    cells: Counter[Unit] = Counter()
    for example, want in enumerate(labelled.expected):
        for position, expected in enumerate(want):
            if expected is None:
                continue
            units = builder.cone(example, Cell(labelled.output, position)).units()
            cells.update(units)
            if got[example][position] != expected:
                errors.update(units)
    return {unit: (count, cells[unit]) for unit, count in errors.items()}


def _seconds(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        began = time.process_time()
        result = work()
        times.append(time.process_time() - began)
    return statistics.median(times), result


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Train, lift once, time both ways; the report."""
    torch.set_num_threads(1)
    load_before = uptime()
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / args.task
        settings = default_train_config(
            args.task, epochs=args.epochs, dataset_size=args.dataset_size
        )
        train(args.task, run_dir, default_architecture(args.task), settings, progress=False)
        opened = open_artifact(str(run_dir))
    labelled = opened.view.labelled
    assert labelled is not None
    plain, plain_units = _seconds(lambda: plain_blame(opened.checked, labelled), args.repeats)
    shared, result = _seconds(lambda: attribute_errors(opened.checked, labelled), args.repeats)
    assert isinstance(result, Attribution)
    same = {b.unit: (b.errors, b.cells) for b in result.units} == plain_units
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "task": args.task,
        "epochs": args.epochs,
        "bindings": len(opened.checked.program.bindings),
        "test_inputs": len(labelled.inputs),
        "scored": result.scored,
        "wrong": len(result.wrong),
        "repeats": args.repeats,
        "plain_seconds": plain,
        "shared_seconds": shared,
        "speedup": plain / shared if shared else None,
        "same_blame": same,
        "load_before": load_before,
        "load_after": uptime(),
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    return "\n".join(
        [
            f"# Error attribution speed: {report['task']} after {report['epochs']} epochs",
            "",
            f"{report['test_inputs']} test inputs, {report['scored']} scored cells, "
            f"{report['wrong']} wrong; a lifted program of {report['bindings']} bindings. "
            f"CPU seconds, median of {report['repeats']}.",
            "",
            "| way | CPU seconds (median) | ratio |",
            "|---|---|---|",
            f"| a described cone per scored cell (baseline) | {report['plain_seconds']:.2f} "
            "| 1.00 |",
            f"| rasp explain --errors (every scored cell) | {report['shared_seconds']:.2f} | "
            f"{report['shared_seconds'] / report['plain_seconds']:.2f} |",
            "",
            f"Same units blamed with the same counts: {report['same_blame']}.",
            f"Load before: `{report['load_before']}`; after: `{report['load_after']}` "
            "(a shared machine: other work ran beside this).",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, write the JSON and Markdown reports."""
    args = _arguments(argv)
    report = measure(args)
    text = table(report)
    print(text)
    write_results(args.results, "explain_errors", report, text)


if __name__ == "__main__":
    main()
