"""Certified lifting speed: wall and CPU seconds of ``rasp tp lift`` on a sort run (Table 1
configuration), each in a fresh process as a user runs it, against the same process doing
nothing but start (``rasp --version``), measured in the same run.

    .venv/bin/python benchmarks/tp_lift_speed.py [--run RUN_DIR] [--epochs 30] [--repeats 5]
        [--baseline OTHER_CHECKOUT]

Without ``--run``, a sort run of ``--epochs`` epochs (20,000 examples, seed 0) is trained first
into a temporary folder (not timed). Each repetition lifts the run with its certificate into a
temporary file; the table gives the median wall and CPU seconds (the child's user + system
time) of the lift and of the bare start, the lift's share beyond the start, the program's lines
and the certificate's agreement. Target (issue 16): under 3 s. ``uptime``'s load is recorded
beside the figures; torch runs on ``--threads`` threads (``OMP_NUM_THREADS``). With
``--baseline``, another checkout's lift of the same run alternates with this one's, so that a
change is measured under the same load (this machine's speed drifts by tens of percent within
an hour): the table adds its medians and the ratio.

Prints a Markdown table and writes benchmarks/results/tp_lift_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, checkout_label, publish, uptime  # noqa: E402

RASP = [sys.executable, "-m", "rasp_ir.cli.main"]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="a trained run folder (default: train a sort run)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the run trained first")
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (OMP_NUM_THREADS)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--baseline",
        help="another checkout of rasp-ir (e.g. `git worktree add /tmp/base REV`) whose lift is "
        "timed in the same run, alternating with this one's",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def timed(argv: Sequence[str], threads: int, root: Path = ROOT) -> tuple[float, float, str]:
    """Run ``rasp ARGV`` of the checkout ``root`` in a fresh process: its wall and CPU seconds
    and its standard output (a failure raises, with its standard error)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [*RASP, *argv], env=env, cwd=root, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"rasp {shlex.join(argv)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def measure(
    run: Path, repeats: int, threads: int, folder: Path, baseline: Path | None = None
) -> dict[str, Any]:
    """Median wall and CPU seconds of ``rasp --version`` and of ``rasp tp lift RUN``; the
    lifted program's lines and its certificate's agreement. With a ``baseline`` checkout, its
    lift too, each of its repetitions right after one of this checkout's (the same load)."""
    starts = [timed(["--version"], threads) for _ in range(repeats)]
    checkouts = {"lift": ROOT, **({"baseline": baseline} if baseline is not None else {})}
    times: dict[str, list[tuple[float, float, str]]] = {name: [] for name in checkouts}
    for index in range(repeats):
        for name, root in checkouts.items():
            out = folder / f"{name}-{index}.rasp"
            times[name].append(timed(["tp", "lift", str(run), "-o", str(out)], threads, root))
    row: dict[str, Any] = {
        "start_wall": statistics.median(wall for wall, _, _ in starts),
        "start_cpu": statistics.median(cpu for _, cpu, _ in starts),
    }
    for name in checkouts:
        out = folder / f"{name}-{repeats - 1}.rasp"
        certificate = json.loads(out.with_suffix(".certificate.json").read_text())
        prefix = "" if name == "lift" else "baseline_"
        row.update(
            {
                f"{name}_wall": statistics.median(wall for wall, _, _ in times[name]),
                f"{name}_cpu": statistics.median(cpu for _, cpu, _ in times[name]),
                f"{prefix}program_lines": len(out.read_text().splitlines()),
                f"{prefix}agreement": certificate["agreement"],
            }
        )
    return row


def _table(row: dict[str, Any], baseline: str | None = None) -> str:
    lines = [
        "| command | wall s (median) | CPU s (median) | beyond the start (wall) | vs baseline |",
        "|---|---:|---:|---:|---:|",
        f"| `rasp --version` (the start) | {row['start_wall']:.2f} | {row['start_cpu']:.2f} "
        "| - | - |",
    ]
    ratio = f"{row['baseline_wall'] / row['lift_wall']:.2f}x" if baseline else "-"
    lines.append(
        f"| `rasp tp lift` | {row['lift_wall']:.2f} | {row['lift_cpu']:.2f} "
        f"| {row['lift_wall'] - row['start_wall']:.2f} | {ratio} |"
    )
    if baseline:
        lines.append(
            f"| `rasp tp lift`, baseline ({baseline}) | {row['baseline_wall']:.2f} "
            f"| {row['baseline_cpu']:.2f} | {row['baseline_wall'] - row['start_wall']:.2f} "
            "| 1.00x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_lift_speed.py", *(argv or sys.argv[1:])])
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.run is not None:
            run, what = Path(args.run), f"the run {args.run}"
        else:
            run, what = folder / "sort", f"a sort run of {args.epochs} epochs"
            train = ["tp", "train", "sort", "-o", str(run), "--quiet", "--epochs", str(args.epochs)]
            timed([*train, "--dataset-size", str(args.dataset_size)], args.threads)
        before = uptime()
        other = Path(args.baseline) if args.baseline is not None else None
        row = measure(run.resolve(), args.repeats, args.threads, folder, other)
        after = uptime()
    baseline = checkout_label(other) if other is not None else None
    note = (
        f"`rasp tp lift` of {what} ({row['program_lines']} program lines, certificate "
        f"agreement {row['agreement']:.0%}), {args.repeats} fresh processes each, "
        f"{args.threads} torch thread(s); the target (issue 16) is under 3 s."
    )
    if baseline:
        note += (
            " The baseline's lift alternated with this checkout's "
            f"({row['baseline_program_lines']} program lines, agreement "
            f"{row['baseline_agreement']:.0%}); 'vs baseline' is its median wall time over "
            "this checkout's."
        )
    publish(
        args,
        "tp_lift_speed",
        "Transformer Programs: certified lifting speed",
        _table(row, baseline),
        note,
        command,
        (before, after),
        {"row": row},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
