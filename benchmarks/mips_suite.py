"""MIPS suite: every task (or ``--tasks``) through ``rasp mips solve`` (search, extract,
verify, lift, compile), with the anchor's results beside ours.

    .venv/bin/python benchmarks/mips_suite.py [--tasks Parity_All Bitwise_Xor]
        [--work runs/mips-suite] [--budget 600] [--steps 5000] [--seeds 4] [--batch-size 256]
        [--threads 1]

or, in parallel, ``torchrun --nproc-per-node 2 -m rasp_ir.cli.main mips suite -o
runs/mips-suite ...`` with the same settings, then this script on the same ``--work`` folder to
collect the finished results into the table.

The suite is resumable (tasks with a result in ``--work`` are not run again, interrupted
searches resume), so the same command continues an interrupted run. Per task: solved (a machine
verified on every test sequence, exhaustively on short inputs, at 2T and 4T, and against the
RNN), the machine's kind and size, the lift's construction, the RNN architecture, seconds
(all stages, including earlier sessions of a resumed run) and the stage that failed; then the
anchor's columns (reference §13.2/§14, ``benchmarks/data/mips_anchor.json``): its GPT-4 result,
the strict re-scoring, and the inferred MIPS result (MIPS 32/62, GPT-4 30/62, strict 20/62).
Prints the table and writes benchmarks/results/mips_suite.{json,md} with the settings, the
command, the torch thread count, wall time and the ``uptime`` load before and after.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.frontends.mips.solve import SolveSettings  # noqa: E402
from rasp_ir.frontends.mips.suite import run_suite, summary_row  # noqa: E402
from rasp_ir.frontends.mips.task_spec import Task  # noqa: E402
from rasp_ir.frontends.mips.tasks import TASKS  # noqa: E402
from rasp_ir.frontends.mips.train import TrainSettings  # noqa: E402

ANCHOR = ROOT / "benchmarks" / "data" / "mips_anchor.json"
ANCHOR_TOTALS = {"mips": 32, "gpt4": 30, "gpt4_strict": 20}
COLUMNS = (
    ("task", "task"),
    ("solved", "solved"),
    ("machine", "machine"),
    ("construction", "construction"),
    ("transformer", "transformer"),
    ("rnn", "RNN"),
    ("seconds", "s"),
    ("failed", "failed at"),
    ("gpt4", "GPT-4"),
    ("gpt4_strict", "GPT-4 strict"),
    ("mips_inferred", "MIPS (inferred)"),
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "mips-suite")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per task (600)")
    parser.add_argument("--steps", type=int, help="training steps per trial (the task's)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dataset-size", type=int, default=100_000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--polish-steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--context",
        default="",
        help="how the --work folder was made (earlier runs), for the report",
    )
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace, task: Task) -> SolveSettings:
    train = TrainSettings(
        steps=args.steps or task.steps,
        batch_size=args.batch_size,
        dataset_size=args.dataset_size,
        eval_every=args.eval_every,
        polish_steps=args.polish_steps,
    )
    return SolveSettings(train=train, budget_s=args.budget, seeds=tuple(range(args.seeds)))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) the suite; the report with every task's row and the settings."""
    torch.set_num_threads(args.threads)
    load_before = uptime()
    started = time.perf_counter()
    results = run_suite(args.tasks, args.work, lambda task: _settings(args, task), report=print)
    anchor = json.loads(ANCHOR.read_text(encoding="utf-8"))["tasks"]
    rows = [summary_row(r) | anchor[r["task"]] for r in results]
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/mips_suite.py", *sys.argv[1:]]),
        "machine": machine(),
        "torch": torch.__version__,
        "threads": args.threads,
        "settings": {
            "budget_s": args.budget,
            "steps": args.steps or "the task's",
            "seeds": args.seeds,
            "batch_size": args.batch_size,
            "dataset_size": args.dataset_size,
            "eval_every": args.eval_every,
            "polish_steps": args.polish_steps,
        },
        "context": args.context,
        "wall_seconds_this_run": round(time.perf_counter() - started, 1),
        "task_seconds_total": round(sum(r["seconds"]["total"] for r in results), 1),
        "load_before": load_before,
        "load_after": uptime(),
        "rows": rows,
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown: totals against the anchor, then one row per task."""
    rows = report["rows"]
    solved = sum(1 for r in rows if r["solved"] == "yes")
    anchor_mips = sum(1 for r in rows if r["mips_inferred"] == "yes")
    anchor_gpt4 = sum(1 for r in rows if r["gpt4"] == "yes")
    lines = [
        "# MIPS suite: every task through search, extract, verify, lift, compile",
        "",
        f"`{report['command']}`; {report['date']}; {report['machine']}; torch "
        f"{report['torch']}, {report['threads']} thread(s); settings {report['settings']}.",
        *([f"How the results were made: {report['context']}"] if report["context"] else []),
        "",
        f"**{solved} of {len(rows)} tasks solved** (verified machine). On these tasks the anchor "
        f"has {anchor_mips} MIPS successes for certain (plus some of the '?'), GPT-4 "
        f"{anchor_gpt4}; on all 62: MIPS {ANCHOR_TOTALS['mips']}, GPT-4 "
        f"{ANCHOR_TOTALS['gpt4']}, GPT-4 strict {ANCHOR_TOTALS['gpt4_strict']}.",
        f"Task seconds (all sessions of the run): {report['task_seconds_total']}; wall seconds "
        f"of this invocation: {report['wall_seconds_this_run']}.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(row[key]) for key, _ in COLUMNS) + " |")
    lines += [
        "",
        f"Load before: `{report['load_before']}`  ",
        f"Load after: `{report['load_after']}`",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, write the results."""
    args = _arguments(argv)
    report = measure(args)
    text = table(report)
    print(text)
    write_results(args.results, "mips_suite", report, text)


if __name__ == "__main__":
    main()
