"""Categorical attention, forward + backward: the fused Triton kernel against the torch
reference, eager and under ``torch.compile``, at the Transformer Programs paper's shapes.

    .venv/bin/python benchmarks/kernels.py                      # CUDA: all three ways
    .venv/bin/python benchmarks/kernels.py --batch 64 --n 8 16 --k 8 16 --heads 2   # a CPU

Shapes: every combination of ``--n`` (positions), ``--k`` (values per variable) and
``--heads`` at ``--batch`` (defaults: the paper's batch 512, N 8/16/64, k 8/16/64, heads 2/8).
One step is a forward pass with fresh Gumbel noise and a backward pass of a random upstream
gradient into query, key, value and predicate. The fused kernel runs only on CUDA (the Triton
interpreter is a correctness tool, not a speed) and is checked against the reference on every
shape before it is timed. Medians of ``--repeats`` steps after ``--warmup``; the 1-minute load
average and the device (``torch.cuda.get_device_name()`` on CUDA) are recorded. Writes
benchmarks/results/NAME.{json,md}, NAME being ``kernels`` on a CPU and ``kernels_cuda`` on a GPU.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from itertools import product
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, load_1min, machine, write_results  # noqa: E402
from rasp_ir.kernels.categorical_attention import (  # noqa: E402
    categorical_attention,
    categorical_attention_reference,
)

TAU = 0.5
Inputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
Attention = Callable[..., torch.Tensor]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--n", type=int, nargs="+", default=[8, 16, 64])
    parser.add_argument("--k", type=int, nargs="+", default=[8, 16, 64])
    parser.add_argument("--heads", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on a CPU")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    sizes = [args.batch, *args.n, *args.k, *args.heads, args.repeats, args.threads]
    if min(sizes) < 1 or args.warmup < 0:
        parser.error("sizes and counts must be positive")
    return args


def _inputs(
    batch: int, heads: int, n: int, k: int, device: torch.device
) -> tuple[Inputs, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Differentiable query/key/value/predicate (distributions, as the model feeds them) and the
    mask (causal, one padded example), bias and upstream gradient."""
    generator = torch.Generator().manual_seed(n * 1000 + k * 10 + heads)

    def distribution(*shape: int) -> torch.Tensor:
        logits = torch.randn(*shape, generator=generator)
        return torch.softmax(logits, -1).to(device).requires_grad_()

    tensors = (
        distribution(batch, heads, n, k),
        distribution(batch, heads, n, k),
        distribution(batch, heads, n, k),
        distribution(heads, k, k),
    )
    lengths = torch.full((batch,), n)
    lengths[-1] = max(1, n // 2)
    valid = torch.arange(n)[None, :] < lengths[:, None]
    mask = (valid[:, :, None] & valid[:, None, :] & torch.ones(n, n, dtype=torch.bool).tril()).to(
        device
    )
    bias = torch.randn(n, n, generator=generator).to(device)
    upstream = torch.randn(batch, heads, n, k, generator=generator).to(device)
    return tensors, (mask, bias, upstream)


def _step(
    attention: Attention, tensors: Inputs, extra: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    mask, bias, upstream = extra
    query = tensors[0]
    gumbel = torch.empty((*query.shape[:-1], query.shape[2]), device=query.device)
    noise = -gumbel.exponential_().log()
    out = attention(*tensors, mask, bias, TAU, noise)
    return (out, *torch.autograd.grad(out, tensors, upstream))


def _median_ms(work: Callable[[], object], repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        work()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _fused(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    predicate: torch.Tensor,
    mask: torch.Tensor,
    bias: torch.Tensor,
    tau: float,
    noise: torch.Tensor,
) -> torch.Tensor:
    return categorical_attention(
        query, key, value, predicate, mask, bias, tau, noise, impl="triton"
    )


def _check_fused(tensors: Inputs, mask: torch.Tensor, bias: torch.Tensor) -> None:
    """The kernel's outputs and gradients equal the reference's on the same noise."""
    noise = torch.zeros((*tensors[0].shape[:-1], tensors[0].shape[2]), device=mask.device)
    noise.exponential_().log_().neg_()
    reference = categorical_attention_reference(*tensors, mask, bias, TAU, noise)
    fused = _fused(*tensors, mask, bias, TAU, noise)
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-5)
    want = torch.autograd.grad(reference.sum(), tensors)
    got = torch.autograd.grad(fused.sum(), tensors)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-3, atol=1e-4)


def measure(args: argparse.Namespace, device: torch.device) -> list[dict[str, object]]:
    compiled = None if args.no_compile else torch.compile(categorical_attention_reference)
    return [
        _measure_shape(args, device, n, k, heads, compiled)
        for n, k, heads in product(args.n, args.k, args.heads)
    ]


def _measure_shape(
    args: argparse.Namespace,
    device: torch.device,
    n: int,
    k: int,
    heads: int,
    compiled: Attention | None,
) -> dict[str, object]:
    """One row: milliseconds per step of each way at one shape."""
    tensors, extra = _inputs(args.batch, heads, n, k, device)
    row: dict[str, object] = {"batch": args.batch, "n": n, "k": k, "heads": heads}
    row["load"] = load_1min()
    ways: list[tuple[str, Attention]] = [("eager_ms", categorical_attention_reference)]
    if compiled is not None:
        ways.append(("compiled_ms", compiled))
    if device.type == "cuda":
        _check_fused(tensors, extra[0], extra[1])
        ways.append(("fused_ms", _fused))
    for name, attention in ways:
        warmup = max(args.warmup, 1) if name == "compiled_ms" else args.warmup
        row[name] = _median_ms(partial(_step, attention, tensors, extra), args.repeats, warmup)
    return row


def _cell(row: dict[str, object], name: str) -> str:
    value = row.get(name)
    return f"{value:.3f}" if isinstance(value, float) else "n/a"


def _ratio(row: dict[str, object], top: str, bottom: str) -> str:
    a, b = row.get(top), row.get(bottom)
    return f"{a / b:.2f}x" if isinstance(a, float) and isinstance(b, float) else "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    rows = measure(args, device)
    lines = [
        "| batch | N | k | heads | eager ms | compiled ms | fused ms | fused vs compiled "
        "| fused vs eager | load (1 min) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['batch']} | {r['n']} | {r['k']} | {r['heads']} | {_cell(r, 'eager_ms')} "
            f"| {_cell(r, 'compiled_ms')} | {_cell(r, 'fused_ms')} "
            f"| {_ratio(r, 'compiled_ms', 'fused_ms')} | {_ratio(r, 'eager_ms', 'fused_ms')} "
            f"| {r['load']} |"
        )
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU (no fused kernel)"
    command = "python benchmarks/kernels.py " + shlex.join(argv or sys.argv[1:])
    where = f"{machine()}, torch {torch.__version__}, {name}"
    note = (
        f"Milliseconds per forward + backward step (median of {args.repeats}); ratios = "
        f"reference time / fused time. `{command.strip()}` on {where}, "
        f"{datetime.date.today()}. The load column is the 1-minute load average when the row "
        "started: other jobs shared the machine when it was high."
    )
    table = "\n".join(lines)
    print(table + "\n\n" + note)
    stem = "kernels_cuda" if device.type == "cuda" else "kernels"
    markdown = "# Categorical attention: fused kernel vs torch reference\n\n"
    payload = {"command": command.strip(), "machine": where, "device": name, "rows": rows}
    write_results(args.results, stem, payload, markdown + table + "\n\n" + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
