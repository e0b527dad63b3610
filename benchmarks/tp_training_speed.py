"""Training speed of a Transformer Program: seconds per epoch and peak memory on Sort (Table 1
configuration: 3 layers, 4+4 heads, 2+2 MLPs, k = N = 8), batch size and training sampler
swept; the categorical-attention core timed on its own (its relaxed ``gumbel_soft`` form, whatever
the sampler).

    .venv/bin/python benchmarks/tp_training_speed.py [--batch-sizes 64 512] [--steps 20]
        [--samplers gumbel_soft gumbel_hard] [--name NAME]

Per batch size, in a fresh subprocess (so peak memory is that configuration's): ``--steps``
optimiser steps (forward, backward, Adam) after ``--warmup`` steps; s/epoch = median step time x
steps per epoch of the real training split (11,441 examples). Peak memory is the process's peak
resident set on CPU (``ru_maxrss``; includes the interpreter and torch) or
``torch.cuda.max_memory_allocated`` on a GPU. The core row times ``categorical_attention``
forward + backward for the 4 categorical heads of one layer at that batch size. Then the whole
``rasp tp train sort --epochs E`` (``--run-epochs``, default 1) in a fresh process: its wall time
and peak resident memory, which the final evaluation and the saves reach after training
(against the original code's ~650 MiB that issue 16 measured).

Each sampler's step time is also given as a ratio to the first sampler's at the same batch
size. Prints a Markdown table and writes benchmarks/results/NAME.{json,md} (NAME:
``tp_training_speed``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import multiprocessing
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.cli.main import main as cli_main  # noqa: E402
from rasp_ir.frontends.transformer_programs.config import (  # noqa: E402
    PAPER_ARCHITECTURES,
    TRAINING_SAMPLERS,
)
from rasp_ir.frontends.transformer_programs.model import (  # noqa: E402
    SampleMode,
    TransformerProgram,
    categorical_attention,
    position_bias,
    token_loss,
)
from rasp_ir.frontends.transformer_programs.tasks import make_data  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import model_config  # noqa: E402


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 128, 256, 512, 1024])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per batch size")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    parser.add_argument(
        "--samplers",
        nargs="+",
        choices=TRAINING_SAMPLERS,
        default=["gumbel_soft"],
        help="training samplers to time; each row's ratio is against the first's at its batch",
    )
    parser.add_argument("--name", default="tp_training_speed", help="results file name")
    parser.add_argument(
        "--run-epochs",
        type=int,
        default=1,
        help="epochs of the whole `rasp tp train sort` run whose peak memory is measured (0: none)",
    )
    return parser.parse_args(argv)


# The original code's peak resident memory training sort on a CPU, as issue 16 measured it.
ORIGINAL_PEAK_MIB = 650


def _peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    batch_size: int, steps: int, warmup: int, dataset_size: int, threads: int, sampler: str
) -> dict[str, Any]:
    """One batch size and training sampler: model step time, s/epoch, peak memory, and the
    attention core's time."""
    torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = make_data("sort", dataset_size, 0)
    torch.manual_seed(0)
    model = TransformerProgram(model_config("sort", data, PAPER_ARCHITECTURES["sort"])).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    x = torch.from_numpy(data.train.x).to(device)
    y = torch.from_numpy(data.train.y).to(device)
    model.set_sampling(tau=1.0, mode=cast(SampleMode, sampler))
    times = []
    for step in range(warmup + steps):
        index = torch.randint(0, len(x), (batch_size,), device=device)
        began = time.perf_counter()
        loss = token_loss(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= warmup:
            times.append(time.perf_counter() - began)
    step_time = statistics.median(times)
    steps_per_epoch = -(-len(x) // batch_size)
    core = time_core(batch_size, model.config.n_heads_cat, model.config.d_var, device, steps)
    return {
        "batch_size": batch_size,
        "sampler": sampler,
        "device": str(device),
        "step_seconds": step_time,
        "steps_per_epoch": steps_per_epoch,
        "seconds_per_epoch": step_time * steps_per_epoch,
        "core_seconds_per_step": core,
        "core_share": core * model.config.n_layers / step_time,
        "peak_memory_mib": _peak_memory_mib(device),
    }


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Give every row ``step_ratio``: its step time over that of the first row of its batch
    size (the first sampler's)."""
    first: dict[int, float] = {}
    for row in rows:
        baseline = first.setdefault(row["batch_size"], row["step_seconds"])
        row["step_ratio"] = row["step_seconds"] / baseline


def time_core(batch: int, heads: int, k: int, device: torch.device, steps: int) -> float:
    """Median forward + backward time of one layer's categorical-attention core."""
    n = k

    def tensor() -> torch.Tensor:
        return torch.softmax(torch.randn(batch, heads, n, k, device=device), -1).requires_grad_()

    predicate = torch.softmax(torch.randn(heads, k, k, device=device), -1).requires_grad_()
    mask = torch.ones(batch, n, n, dtype=torch.bool, device=device)
    bias = position_bias(n).to(device)
    times = []
    for _ in range(steps + 3):
        q, key, v = tensor(), tensor(), tensor()
        began = time.perf_counter()
        out = categorical_attention(q, key, v, predicate, mask, bias, 1.0, "gumbel_soft")
        out.sum().backward()  # type: ignore[no-untyped-call]
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    return statistics.median(times[3:])


def _worker(args: tuple[int, int, int, int, int, str], queue: Any) -> None:
    queue.put(measure(*args))


def whole_run(epochs: int, dataset_size: int, threads: int) -> dict[str, Any]:
    """``rasp tp train sort`` for ``epochs`` epochs into a temporary folder, in this process (a
    fresh one): its wall time and the process's peak resident set, which the final evaluation
    and save reach after training."""
    with tempfile.TemporaryDirectory() as folder:
        argv = ["tp", "train", "sort", "-o", str(Path(folder) / "sort"), "--quiet"]
        argv += ["--epochs", str(epochs), "--dataset-size", str(dataset_size)]
        argv += ["--threads", str(threads)]
        began = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(argv)
        seconds = time.perf_counter() - began
    if code != 0:
        raise RuntimeError(f"rasp {shlex.join(argv)} exited with {code}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"epochs": epochs, "wall_seconds": seconds, "peak_memory_mib": peak}


def _run_worker(args: tuple[int, int, int], queue: Any) -> None:
    queue.put(whole_run(*args))


def _in_fresh_process(target: Any, job: tuple[int | str, ...]) -> dict[str, Any]:
    """``target(job, queue)`` in a fresh spawned process; what it put on the queue."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(job, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_training_speed.py", *(argv or sys.argv[1:])])
    load_before = uptime()
    rows = []
    for batch_size in args.batch_sizes:
        for sampler in args.samplers:
            job = (batch_size, args.steps, args.warmup, args.dataset_size, args.threads, sampler)
            rows.append(_in_fresh_process(_worker, job))
            print(json.dumps(rows[-1]), flush=True)
    add_ratios(rows)
    run = None
    if args.run_epochs > 0:
        run = _in_fresh_process(_run_worker, (args.run_epochs, args.dataset_size, args.threads))
        print(json.dumps(run), flush=True)
    load_after = uptime()
    lines = [
        f"Command: `{command}` ({rows[0]['device']}, {args.threads} torch threads)",
        "",
        f"Load (`uptime`) before: `{load_before}`; after: `{load_after}`.",
        "",
        f"| batch | sampler | s/step | vs {args.samplers[0]} | steps/epoch | s/epoch "
        "| attention core s/step (1 layer, gumbel_soft) | core share | peak memory MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['batch_size']} | {r['sampler']} | {r['step_seconds']:.4f} "
            f"| {r['step_ratio']:.2f}x | {r['steps_per_epoch']} "
            f"| {r['seconds_per_epoch']:.2f} | {r['core_seconds_per_step']:.4f} "
            f"| {r['core_share']:.0%} | {r['peak_memory_mib']:.0f} |"
        )
    if run is not None:
        lines += [
            "",
            f"The whole `rasp tp train sort --epochs {run['epochs']}` process (training, the "
            "final evaluation of every split, the saves), in a fresh process: "
            f"{run['wall_seconds']:.1f} s, peak memory **{run['peak_memory_mib']:.0f} MiB** "
            f"(the original code's: about {ORIGINAL_PEAK_MIB} MiB, issue 16).",
        ]
    table = "\n".join(lines) + "\n"
    print(table)
    meta = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "torch": torch.__version__,
        "load_before": load_before,
        "load_after": load_after,
        "rows": rows,
        "whole_run": run,
    }
    write_results(args.results, args.name, meta, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
