"""Population training speed: a population of S sort models (Table 1 configuration: 3 layers,
4+4 heads, 2+2 MLPs, k = N = 8) trained as one batched model against one model, wall seconds per
epoch on the CPU, 1 torch thread by default; and where a population step spends its time.

    .venv/bin/python benchmarks/tp_population.py [--members 32] [--batch-sizes 64 512] [--steps 5]

Per batch size: ``--steps`` optimiser steps (forward, backward, Adam; Gumbel noise drawn as a
run draws it) after one warm-up step, for one model (the baseline, measured in the same run)
and for the population; s/epoch = median step time x steps per epoch of the real training
split. "one after another" is S x the single model's epoch. Target (issue 16): S = 32 members
in at most 4x the wall time of one model. The profile is torch.profiler's self CPU time by
operator over one population step at the largest batch size, and the share spent drawing the
members' noise. ``uptime``'s load is recorded beside the figures (the machine may be shared).

Beside the times, a floor: the matrix-multiplication FLOPs of one population step (torch's flop
counter; every matmul of the model, forward and backward) divided by the throughput of a large
square float32 matmul measured in the same run at the same thread count, the most this CPU's
matmuls do. No implementation of the population step takes less; where that floor alone is
above 4x the one model's epoch, the target cannot be met on this machine.

Prints a Markdown table and writes benchmarks/results/tp_population.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.frontends.transformer_programs.config import PAPER_ARCHITECTURES  # noqa: E402
from rasp_ir.frontends.transformer_programs.member_adam import MemberAdam  # noqa: E402
from rasp_ir.frontends.transformer_programs.model import (  # noqa: E402
    TransformerProgram,
    token_loss,
)
from rasp_ir.frontends.transformer_programs.population import Population  # noqa: E402
from rasp_ir.frontends.transformer_programs.tasks import TaskData, make_data  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import (  # noqa: E402
    gradient_norm,
    model_config,
    noise_seed,
    training_environment,
)

TAU = 1.0

# The side of the square matmul whose throughput is taken as this CPU's most.
PEAK_MATMUL_SIDE = 1024


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 512])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def _median_seconds(step: Callable[[], None], steps: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def single_step(data: TaskData, batch: int) -> Callable[[], None]:
    """One model's training step as ``rasp tp train`` takes it (its gradient norm recorded,
    Adam) on random batches."""
    config = model_config("sort", data, PAPER_ARCHITECTURES["sort"])
    torch.manual_seed(0)
    model = TransformerProgram(config)
    model.attention_impl = "torch"
    model.set_sampling(tau=TAU, mode="gumbel_soft")
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    x, y = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)

    def step() -> None:
        index = torch.randint(0, len(x), (batch,))
        optimizer.zero_grad()
        token_loss(model(x[index]), y[index]).backward()  # type: ignore[no-untyped-call]
        gradient_norm(model)
        optimizer.step()

    return step


def population_step(
    data: TaskData, batch: int, members: int
) -> tuple[Population, Callable[[], None]]:
    """The population's training step as ``rasp tp train --seeds`` takes it: each member its
    own batch and noise, its own gradient norm and its own Adam (:class:`MemberAdam`)."""
    config = model_config("sort", data, PAPER_ARCHITECTURES["sort"])
    seeds = list(range(members))
    population = Population(config, seeds, [noise_seed(seed) for seed in seeds])
    optimizer = MemberAdam(population.weights, members)
    x, y = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)

    def step() -> None:
        index = torch.randint(0, len(x), (members, batch))
        optimizer.zero_grad()
        population.losses(x[index], y[index], TAU, "gumbel_soft").sum().backward()  # type: ignore[no-untyped-call]
        population.gradient_norms()
        optimizer.step([5e-2] * members)

    return population, step


def matmul_flops(step: Callable[[], None]) -> int:
    """The matrix-multiplication FLOPs of one call of ``step`` (torch's flop counter)."""
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def peak_matmul_flops_per_second(repeats: int) -> float:
    """The FLOP/s of a large square float32 matmul at torch's current thread count (the median
    of ``repeats`` timings): the most this CPU's matmuls do."""
    side = PEAK_MATMUL_SIDE
    left, right = torch.randn(side, side), torch.randn(side, side)

    def multiply() -> None:
        torch.mm(left, right)

    return 2 * side**3 / _median_seconds(multiply, max(repeats, 5))


def noise_seconds(population: Population, batch: int, steps: int) -> float:
    """Median time to draw every member's noise for one step."""
    width = population.config.n_ctx

    def draw() -> None:
        population.draw_noise((batch, width))

    return _median_seconds(draw, steps)


def profile_step(step: Callable[[], None], top: int = 10) -> list[dict[str, Any]]:
    """The operators with the most self CPU time over one step."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    return [
        {
            "op": e.key,
            "calls": e.count,
            "self_cpu_s": e.self_cpu_time_total / 1e6,
            "share": e.self_cpu_time_total / total,
        }
        for e in events[:top]
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with training_environment(args.threads):  # as rasp tp train: denormals flushed
        return _measure(args, argv)


def _measure(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    command = shlex.join(["python", "benchmarks/tp_population.py", *(argv or sys.argv[1:])])
    data = make_data("sort", args.dataset_size, 0)
    load_before = uptime()
    peak = peak_matmul_flops_per_second(args.steps)
    rows = []
    for batch in args.batch_sizes:
        steps_per_epoch = -(-len(data.train) // batch)
        one_step = single_step(data, batch)
        one = _median_seconds(one_step, args.steps)
        population, step = population_step(data, batch, args.members)
        many = _median_seconds(step, args.steps)
        noise = noise_seconds(population, batch, args.steps)
        flops = matmul_flops(step)
        rows.append(
            {
                "batch_size": batch,
                "steps_per_epoch": steps_per_epoch,
                "single_epoch_s": one * steps_per_epoch,
                "population_epoch_s": many * steps_per_epoch,
                "one_after_another_s": args.members * one * steps_per_epoch,
                "ratio": many / one,
                "noise_share": noise / many,
                "single_matmul_flops": matmul_flops(one_step),
                "population_matmul_flops": flops,
                "floor_epoch_s": flops / peak * steps_per_epoch,
                "floor_ratio": flops / peak / one,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    ops = profile_step(step)
    load_after = uptime()
    lines = [
        f"Command: `{command}` ({machine()}, {args.threads} torch thread(s), {args.members} "
        "members, sort at Table 1's configuration; the machine may be shared with other jobs)",
        "",
        f"- load before (`uptime`): `{load_before}`",
        f"- load after: `{load_after}`",
        "",
        f"| batch | steps/epoch | one model s/epoch | {args.members} members s/epoch "
        "| ratio (target <= 4x) | one after another s/epoch | population vs one after another "
        "| noise drawing share | matmul GFLOP/step: one / population "
        "| floor s/epoch (ratio) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['batch_size']} | {r['steps_per_epoch']} | {r['single_epoch_s']:.2f} "
            f"| {r['population_epoch_s']:.2f} | {r['ratio']:.1f}x "
            f"| {r['one_after_another_s']:.1f} "
            f"| {r['one_after_another_s'] / r['population_epoch_s']:.2f}x "
            f"| {r['noise_share']:.0%} | {r['single_matmul_flops'] / 1e9:.3f} / "
            f"{r['population_matmul_flops'] / 1e9:.2f} "
            f"| {r['floor_epoch_s']:.1f} ({r['floor_ratio']:.1f}x) |"
        )
    lines += [
        "",
        f"Floor: the population step's matmul FLOPs at {peak / 1e9:.1f} GFLOP/s, the "
        f"throughput of a {PEAK_MATMUL_SIDE}x{PEAK_MATMUL_SIDE} float32 matmul measured in this "
        "run at the same thread count (the most this CPU's matmuls do); ratio: that floor "
        "over the one model's measured epoch. No implementation of the population step takes "
        "less than the floor.",
    ]
    lines += [
        "",
        f"Where one population step goes (batch {args.batch_sizes[-1]}, torch.profiler self CPU "
        "time):",
        "",
        "| operator | calls | self CPU s | share |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| `{op['op']}` | {op['calls']} | {op['self_cpu_s']:.3f} | {op['share']:.0%} |"
        for op in ops
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    meta = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "torch": torch.__version__,
        "threads": args.threads,
        "load_before": load_before,
        "load_after": load_after,
        "peak_matmul_flops_per_s": peak,
        "rows": rows,
        "profile": ops,
    }
    write_results(args.results, "tp_population", meta, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
