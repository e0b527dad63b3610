"""The relaxed model's two hot operations against torch's own, in the same run: the softmax over
a short last axis (forward and backward) and drawing standard Gumbel noise, nanoseconds per
entry on tensors of a sort training step's shapes, one torch thread by default.

    .venv/bin/python benchmarks/tp_relaxation.py [--rows 32768] [--widths 2 8 16 64]

Per width: ``torch.softmax(x, -1)`` against ``relaxation.whole_tensor_softmax`` and against
``relaxation.softmax_last``, which the model calls and which picks the faster of the two (a
forward and the backward of a random upstream gradient each), and ``-log(exponential_)``
against ``relaxation.gumbel_noise``; medians of ``--repeats`` timings. ``uptime``'s load is recorded
beside the figures.

Prints a Markdown table and writes benchmarks/results/tp_relaxation.{json,md}.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.frontends.transformer_programs.relaxation import (  # noqa: E402
    gumbel_noise,
    softmax_last,
    whole_tensor_softmax,
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=32_768, help="rows (a step has 512 x 8 x 8)")
    parser.add_argument("--widths", nargs="+", type=int, default=[2, 4, 8, 10, 12, 15, 16, 64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def ns_per_entry(work: Callable[[], object], entries: int, repeats: int) -> float:
    """Median nanoseconds per entry of ``work`` over ``repeats`` runs after one warm-up."""
    work()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return 1e9 * statistics.median(times) / entries


def measure(rows: int, width: int, repeats: int) -> dict[str, float]:
    """One width: both softmaxes (forward + backward) and both noise draws, ns per entry."""
    x = torch.randn(rows, width, requires_grad=True)
    upstream = torch.randn(rows, width)
    entries = rows * width

    def backward_of(softmax: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], object]:
        return lambda: torch.autograd.grad(softmax(x), x, upstream)

    like = x.detach()
    return {
        "width": width,
        "torch_softmax_ns": ns_per_entry(
            backward_of(lambda t: torch.softmax(t, dim=-1)), entries, repeats
        ),
        "whole_tensor_ns": ns_per_entry(backward_of(whole_tensor_softmax), entries, repeats),
        "softmax_last_ns": ns_per_entry(backward_of(softmax_last), entries, repeats),
        "exponential_ns": ns_per_entry(
            lambda: -torch.empty_like(like).exponential_().log(), entries, repeats
        ),
        "gumbel_noise_ns": ns_per_entry(lambda: gumbel_noise(like), entries, repeats),
    }


def _table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| width | torch.softmax fwd+bwd ns | whole_tensor_softmax ns | softmax_last ns | ratio "
        "| -log(exponential_) ns | gumbel_noise ns | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['width']:.0f} | {row['torch_softmax_ns']:.1f} | {row['whole_tensor_ns']:.1f} "
            f"| {row['softmax_last_ns']:.1f} "
            f"| {row['torch_softmax_ns'] / row['softmax_last_ns']:.1f}x "
            f"| {row['exponential_ns']:.1f} | {row['gumbel_noise_ns']:.1f} "
            f"| {row['exponential_ns'] / row['gumbel_noise_ns']:.1f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_relaxation.py", *(argv or sys.argv[1:])])
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        before = uptime()
        rows = [measure(args.rows, width, args.repeats) for width in args.widths]
        after = uptime()
    finally:
        torch.set_num_threads(threads)
    note = (
        f"Nanoseconds per entry, {args.rows} rows, medians of {args.repeats}, "
        f"{args.threads} torch thread(s); ratios: torch's time over softmax_last's and over "
        "gumbel_noise's."
    )
    publish(
        args,
        "tp_relaxation",
        "Transformer Programs: the relaxed model's softmax and noise against torch's",
        _table(rows),
        note,
        command,
        (before, after),
        {"rows": rows},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
