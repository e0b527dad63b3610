"""The relaxed model's two hot operations against torch's own, in the same run: the softmax over
a short last axis (forward and backward) and drawing standard Gumbel noise, nanoseconds per
entry on tensors of a sort training step's shapes, one torch thread by default.

    .venv/bin/python benchmarks/tp_relaxation.py [--rows 32768] [--widths 2 8 16 64]

Per width: ``torch.softmax(x, -1)`` against ``relaxation.whole_tensor_softmax`` and against
``relaxation.softmax_last``, which the model calls and which picks the faster of the two (a
forward and the backward of a random upstream gradient each), and ``-log(exponential_)``
against ``relaxation.gumbel_noise``; medians of ``--repeats`` timings. ``uptime``'s load is recorded
beside the figures, with torch's CPU capability (the float vector width decides where torch's
softmax is the faster: ``relaxation.torch_softmax_from``).

Two more tables back ``softmax_last``'s other choices. The fixed cost: both softmaxes on small
tensors (rows of ``--small-width``), microseconds per forward and backward, where the
whole-tensor form's extra operations outweigh its per-entry saving
(``relaxation.WHOLE_TENSOR_FROM_ENTRIES``). And whole training steps (sort at Table 1's
configuration: one model, and a population of ``--members``; batch ``--batch`` each, as
``tp_population.py`` takes them) with the model's softmax by ``softmax_last`` as it chooses,
by torch's everywhere, and by the whole-tensor form for every row shorter than 16 (AVX-512's
vector width) whatever the tensor's size; alternated, medians of ``--step-repeats`` steps.

Prints a Markdown table and writes benchmarks/results/tp_relaxation.{json,md}.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from benchmarks.tp_population import population_step, single_step  # noqa: E402
from rasp_ir.frontends.transformer_programs import model as model_module  # noqa: E402
from rasp_ir.frontends.transformer_programs import relaxation  # noqa: E402
from rasp_ir.frontends.transformer_programs.relaxation import (  # noqa: E402
    gumbel_noise,
    softmax_last,
    whole_tensor_softmax,
)
from rasp_ir.frontends.transformer_programs.tasks import make_data  # noqa: E402


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=32_768, help="rows (a step has 512 x 8 x 8)")
    parser.add_argument("--widths", nargs="+", type=int, default=[2, 4, 8, 10, 12, 15, 16, 64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--small-width", type=int, default=4)
    parser.add_argument(
        "--small-rows", nargs="+", type=int, default=[64, 256, 1024, 2048, 4096, 16384]
    )
    parser.add_argument("--members", type=int, default=4, help="population members")
    parser.add_argument("--batch", type=int, default=512, help="each model's batch")
    parser.add_argument("--step-repeats", type=int, default=15)
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``work`` over ``repeats`` runs after one warm-up."""
    work()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def ns_per_entry(work: Callable[[], object], entries: int, repeats: int) -> float:
    """Median nanoseconds per entry of ``work`` over ``repeats`` runs after one warm-up."""
    return 1e9 * median_seconds(work, repeats) / entries


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


def fixed_cost(width: int, rows: int, repeats: int) -> dict[str, float]:
    """Microseconds of one forward and backward of each softmax on ``rows`` x ``width``."""
    x = torch.randn(rows, width, requires_grad=True)
    upstream = torch.randn(rows, width)
    works = {
        "torch_softmax_us": lambda: torch.autograd.grad(torch.softmax(x, dim=-1), x, upstream),
        "whole_tensor_us": lambda: torch.autograd.grad(whole_tensor_softmax(x), x, upstream),
    }
    return {
        "rows": rows,
        "entries": rows * width,
        **{name: 1e6 * median_seconds(work, repeats) for name, work in works.items()},
    }


def _torch_everywhere() -> AbstractContextManager[object]:
    return mock.patch.object(model_module, "softmax_last", lambda x: torch.softmax(x, dim=-1))


@contextmanager
def _whole_tensor_below_16() -> Iterator[None]:
    with (
        mock.patch.object(relaxation, "TORCH_SOFTMAX_FROM", 16),
        mock.patch.object(relaxation, "WHOLE_TENSOR_FROM_ENTRIES", 0),
    ):
        yield


# The model's softmax in each measured form: softmax_last as it chooses, torch's everywhere, and
# the whole-tensor form for every row shorter than 16 (AVX-512's vector width) at any size.
POLICIES: dict[str, Callable[[], AbstractContextManager[object]]] = {
    "softmax_last": nullcontext,
    "torch_everywhere": _torch_everywhere,
    "whole_tensor_below_16": _whole_tensor_below_16,
}


def training_steps(members: int, batch: int, repeats: int) -> list[dict[str, Any]]:
    """Median seconds of one model's and a population's training step under each of
    :data:`POLICIES`, alternated after one warm-up step of each."""
    data = make_data("sort", 20_000, 0)
    steps = {
        "one model": single_step(data, batch),
        f"population of {members}": population_step(data, batch, members)[1],
    }
    rows = []
    for name, step in steps.items():
        times: dict[str, list[float]] = {policy: [] for policy in POLICIES}
        for index in range(repeats + 1):
            for policy, form in POLICIES.items():
                with form():
                    began = time.perf_counter()
                    step()
                    if index:  # the first round warms up
                        times[policy].append(time.perf_counter() - began)
        rows.append({"step": name, **{p: statistics.median(t) for p, t in times.items()}})
    return rows


def _fixed_cost_table(width: int, rows: list[dict[str, float]]) -> str:
    lines = [
        f"| rows of {width} | entries | torch.softmax fwd+bwd us | whole_tensor_softmax us |",
        "|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['rows']:.0f} | {row['entries']:.0f} | {row['torch_softmax_us']:.0f} "
            f"| {row['whole_tensor_us']:.0f} |"
        )
    return "\n".join(lines)


def _steps_table(batch: int, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"| step (sort, batch {batch}) | softmax_last s | torch's everywhere s | whole-tensor "
        "below 16, any size s |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['step']} | {row['softmax_last']:.4f} | {row['torch_everywhere']:.4f} "
            f"| {row['whole_tensor_below_16']:.4f} |"
        )
    return "\n".join(lines)


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
        small = [fixed_cost(args.small_width, n, args.repeats) for n in args.small_rows]
        steps = training_steps(args.members, args.batch, args.step_repeats)
        after = uptime()
    finally:
        torch.set_num_threads(threads)
    note = (
        f"Nanoseconds per entry, {args.rows} rows, medians of {args.repeats}, "
        f"{args.threads} torch thread(s); ratios: torch's time over softmax_last's and over "
        "gumbel_noise's. Then the fixed cost (microseconds per forward and backward, medians of "
        f"{args.repeats}) and whole training steps (forward, backward, Adam; seconds, medians of "
        f"{args.step_repeats} alternated steps). Torch's CPU capability: "
        f"{torch.backends.cpu.get_cpu_capability()} (softmax_last takes torch's softmax from "
        f"{relaxation.TORCH_SOFTMAX_FROM} entries a row and below "
        f"{relaxation.WHOLE_TENSOR_FROM_ENTRIES} entries a tensor)."
    )
    table = "\n\n".join(
        [_table(rows), _fixed_cost_table(args.small_width, small), _steps_table(args.batch, steps)]
    )
    publish(
        args,
        "tp_relaxation",
        "Transformer Programs: the relaxed model's softmax and noise against torch's",
        table,
        note,
        command,
        (before, after),
        {
            "rows": rows,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "fixed_cost": small,
            "training_steps": steps,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
