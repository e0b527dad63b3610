"""MIPS training speed: S seeds of one GeneralRNN trained together as one batched population
versus the same seeds trained one after another, on CPU.

    .venv/bin/python benchmarks/mips_training_speed.py [--seeds 8] [--steps 300] [--threads 1]

Both ways call ``train_rnn`` (same task, architecture, settings and seeds; data generation, the
final whole-test-split evaluation and saving included), so the ratio is what a user sees. Also
reported: each way's whole-test-split accuracy per seed, the largest weight difference between
a seed trained in the population and alone (they differ only by floating-point summation
order, a difference that training amplifies over hundreds of steps), the torch thread count
and the ``uptime`` load averages before and after (the machine may be shared). Prints a
Markdown table and writes benchmarks/results/mips_training_speed.{json,md}.

Batching removes per-step Python and dispatch overhead, so it pays most for small batches and
models; once one thread is busy with arithmetic (large batches) the batched matrix products
gain nothing on a CPU.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.frontends.mips import checkpoint  # noqa: E402
from rasp_ir.frontends.mips.rnn import RNNConfig  # noqa: E402
from rasp_ir.frontends.mips.tasks import Task, get_task  # noqa: E402
from rasp_ir.frontends.mips.train import TrainResult, TrainSettings, train_rnn  # noqa: E402


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="Parity_All")
    parser.add_argument("--hidden", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024, 4096])
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def _largest_difference(together: TrainResult, alone: list[TrainResult]) -> float:
    largest = 0.0
    for seed, single in zip(together.seeds, alone, strict=True):
        a = checkpoint.load(seed.checkpoint)[0].state_dict()
        b = checkpoint.load(single.seeds[0].checkpoint)[0].state_dict()
        largest = max(largest, *(float((a[k] - b[k]).abs().max()) for k in a))
    return largest


def _compare(
    task: Task, config: RNNConfig, settings: TrainSettings, seeds: list[int], folder: Path
) -> dict[str, Any]:
    start = time.perf_counter()
    together = train_rnn(task, folder / "pop", config, settings, False, seeds=seeds)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    alone = [train_rnn(task, folder / f"s{s}", config, settings, False, seeds=[s]) for s in seeds]
    sequential = time.perf_counter() - start
    return {
        "batch_size": settings.batch_size,
        "batched_s": batched,
        "sequential_s": sequential,
        "speedup": sequential / batched,
        "batched_accuracy": [s.test_accuracy for s in together.seeds],
        "sequential_accuracy": [r.seeds[0].test_accuracy for r in alone],
        "largest_weight_difference": _largest_difference(together, alone),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Time both ways at every batch size (after one untimed warm-up run); the report."""
    torch.set_num_threads(args.threads)
    task = get_task(args.task)
    config = RNNConfig(task.alphabet.width, task.outputs.width, args.hidden)
    seeds = list(range(args.seeds))
    load_before = uptime()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        warm_up = TrainSettings(steps=5, batch_size=16, dataset_size=100)
        train_rnn(task, Path(folder) / "warm-up", config, warm_up, False, seeds=[0, 1])
        for batch_size in args.batch_sizes:
            settings = TrainSettings(
                steps=args.steps, batch_size=batch_size, lr=args.lr, dataset_size=args.dataset_size
            )
            rows.append(_compare(task, config, settings, seeds, Path(folder) / str(batch_size)))
    return {
        "task": args.task,
        "config": config.to_json(),
        "steps": args.steps,
        "lr": args.lr,
        "dataset_size": args.dataset_size,
        "seeds": len(seeds),
        "rows": rows,
        "torch_threads": torch.get_num_threads(),
        "load_before": load_before,
        "load_after": uptime(),
        "torch": torch.__version__,
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    s = report["seeds"]
    lines = [
        f"# MIPS training speed: {s} seeds batched vs sequential (CPU)",
        "",
        f"{report['task']}, hidden {report['config']['hidden_dim']} (MLPs of depth 2, width "
        f"16), {report['steps']} steps, {report['dataset_size']} sequences; torch "
        f"{report['torch']}, {report['torch_threads']} thread(s), {report['date']}. Times are "
        "whole `train_rnn` calls (data, training, whole-test-split evaluation, saving).",
        "",
        "| batch | batched s | sequential s | speed-up | batched whole-test accuracy (min..max) | "
        "largest weight difference |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    for row in report["rows"]:
        accuracy = row["batched_accuracy"]
        lines.append(
            f"| {row['batch_size']} | {row['batched_s']:.2f} | {row['sequential_s']:.2f} | "
            f"{row['speedup']:.2f}x | {min(accuracy):.4f}..{max(accuracy):.4f} | "
            f"{row['largest_weight_difference']:.1e} |"
        )
    lines += [
        "",
        f"Load before: `{report['load_before']}`  ",
        f"Load after: `{report['load_after']}`",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, write the results."""
    args = _arguments(argv)
    report = measure(args)
    text = table(report)
    print(text)
    write_results(args.results, "mips_training_speed", report, text)


if __name__ == "__main__":
    main()
