"""Exhaustive verification throughput: inputs per second of each way to evaluate a program over
its whole input space, against the interpreter as ``rasp verify`` fed it before (token lists in
batches of 2048, values out), measured in the same run.

    .venv/bin/python benchmarks/verify_throughput.py [--program sort --vocab-size 5 --max-len 8]
    .venv/bin/python benchmarks/verify_throughput.py --device cuda   # on a GPU: the kernels

Program: examples/PROGRAM.rasp over the first ``--vocab-size`` tokens of its vocabulary, every
input of length 0..``--max-len`` (sort, 5, 8: 488,281 inputs). Ways:

- ``interpreter, lists``: token lists in batches of 2048, ``interpret(...).outputs()`` (the
  baseline);
- ``interpreter, codes``: the interpreter as a space runner (slices of 32,768, codes out);
- ``python`` and ``torch`` backends: their batch runners on token lists, timed on the
  ``--subset`` longest inputs and given as a rate (they take minutes on the whole space);
- ``triton, lists``: the triton backend's batch runner on token lists;
- ``triton, space``: its space runner, inputs enumerated on the device, codes out (the path of
  ``rasp verify --backend triton --exhaustive``);
- ``verify triton`` and ``verify triton --against triton``: whole ``verify()`` calls.

Every way is checked against the interpreter first (subsets: on the subset). Medians over
``--repeats`` of wall-clock and of process CPU time, each with its ratio to the baseline. The
load average (``uptime``) and the device (``torch.cuda.get_device_name()`` on CUDA) are
recorded beside the figures. Writes benchmarks/results/NAME.{json,md}, NAME being
``verify_throughput`` on a CPU and ``verify_throughput_cuda`` on a GPU.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, load_1min, machine, write_results  # noqa: E402
from rasp_ir.api import (  # noqa: E402
    BatchRunner,
    HeaderOverrides,
    InterpreterSpace,
    Value,
    exhaustive_inputs,
    input_count,
    interpret,
    load_program,
    verify,
)
from rasp_ir.backends.python import BACKEND as PYTHON  # noqa: E402
from rasp_ir.backends.torch import BACKEND as TORCH  # noqa: E402
from rasp_ir.backends.triton import TritonBackend  # noqa: E402

LIST_BATCH = 2048


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--program", default="sort", help="examples/PROGRAM.rasp")
    parser.add_argument("--vocab-size", type=int, default=5)
    parser.add_argument("--max-len", type=int, default=8)
    parser.add_argument("--subset", type=int, default=20_000, help="inputs for python, torch")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median counts")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if min(args.vocab_size, args.subset, args.repeats, args.threads) < 1 or args.max_len < 0:
        parser.error("sizes and counts must be positive")
    return args


def _median_seconds(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and process CPU seconds of ``work`` (CPU time is what a shared
    machine stretches least: with one torch thread it is the work itself)."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        work()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _in_batches(run: BatchRunner, inputs: list[list[Value]]) -> None:
    source = iter(inputs)
    while batch := list(islice(source, LIST_BATCH)):
        run(batch)


def measure(args: argparse.Namespace) -> tuple[dict[str, object], list[dict[str, object]]]:
    path = ROOT / "examples" / f"{args.program}.rasp"
    declared = load_program(path).program
    vocab = declared.header.vocab[: args.vocab_size]
    program = load_program(path, overrides=HeaderOverrides(vocab, args.max_len)).program
    count = input_count(len(vocab), args.max_len)
    everything = list(exhaustive_inputs(program, args.max_len))
    subset = everything[-args.subset :]
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    triton = TritonBackend(device)
    plan = triton.lower(program)
    space = triton.space_runner(program, plan)
    triton_lists = triton.runner(program, plan)
    python_run = PYTHON.runner(program, PYTHON.lower(program))
    torch_run = TORCH.runner(program, TORCH.lower(program))

    def whole_space() -> None:
        for start in range(0, count, space.batch_size):
            space(start, min(count, start + space.batch_size))

    def codes_interpreter() -> None:
        reference = InterpreterSpace(program)
        for start in range(0, count, reference.batch_size):
            reference(start, min(count, start + reference.batch_size))

    for name, run in (("python", python_run), ("torch", torch_run), ("triton", triton_lists)):
        if run(subset) != interpret(program, subset).outputs():
            raise AssertionError(f"the {name} backend disagrees with the interpreter")
    if not verify(program, triton, exhaustive_max_len=args.max_len).ok:
        raise AssertionError("the triton backend disagrees with the interpreter")
    ways: list[tuple[str, int, Callable[[], object]]] = [
        (
            "interpreter, lists",
            count,
            lambda: _in_batches(lambda b: interpret(program, b).outputs(), everything),
        ),
        ("interpreter, codes", count, codes_interpreter),
        ("python backend, lists", len(subset), lambda: _in_batches(python_run, subset)),
        ("torch backend, lists", len(subset), lambda: _in_batches(torch_run, subset)),
        ("triton backend, lists", count, lambda: _in_batches(triton_lists, everything)),
        ("triton backend, space", count, whole_space),
        (
            "verify triton (against the interpreter)",
            count,
            lambda: verify(program, triton, exhaustive_max_len=args.max_len),
        ),
        (
            "verify triton --against triton",
            count,
            lambda: verify(program, triton, exhaustive_max_len=args.max_len, against=triton),
        ),
    ]
    rows = []
    for name, inputs, work in ways:
        load_before = load_1min()
        seconds, cpu_seconds = _median_seconds(work, args.repeats)
        rows.append(
            {
                "way": name,
                "inputs": inputs,
                "seconds": seconds,
                "rate": inputs / seconds,
                "cpu_seconds": cpu_seconds,
                "cpu_rate": inputs / max(cpu_seconds, 1e-9),
                "load": f"{load_before} -> {load_1min()}",
            }
        )
    baseline, cpu_baseline = float(rows[0]["rate"]), float(rows[0]["cpu_rate"])  # type: ignore[arg-type]
    for row in rows:
        row["ratio"] = float(row["rate"]) / baseline  # type: ignore[arg-type]
        row["cpu_ratio"] = float(row["cpu_rate"]) / cpu_baseline  # type: ignore[arg-type]
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU (torch reference ops)"
    settings = {
        "program": args.program,
        "vocab": [str(v) for v in vocab],
        "max_len": args.max_len,
        "inputs": count,
        "device": name,
        "torch_threads": args.threads,
        "repeats": args.repeats,
    }
    return settings, rows


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    settings, rows = measure(args)
    lines = [
        "| way | inputs timed | seconds | inputs/s | vs interpreter, lists | CPU seconds "
        "| CPU vs interpreter | load (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['way']} | {r['inputs']:,} | {r['seconds']:.3f} | {r['rate']:,.0f} "
            f"| {r['ratio']:.2f}x | {r['cpu_seconds']:.3f} | {r['cpu_ratio']:.2f}x | {r['load']} |"
        )
    command = "python benchmarks/verify_throughput.py " + shlex.join(argv or sys.argv[1:])
    where = f"{machine()}, torch {torch.__version__}, {settings['device']}"
    vocab_names = [str(v) for v in settings["vocab"]]  # type: ignore[attr-defined]
    note = (
        f"{settings['program']} over {settings['inputs']:,} inputs (vocab "
        f"{','.join(vocab_names)}, lengths 0..{settings['max_len']}); medians of "
        f"{args.repeats}; {args.threads} torch thread(s). `{command.strip()}` on {where}, "
        f"{datetime.date.today()}. Seconds are wall-clock, CPU seconds the process's CPU time "
        "(the work itself with one thread; a loaded machine stretches it least). The load "
        "column is the 1-minute load average before and after each row: other jobs shared the "
        "machine when it was high."
    )
    table = "\n".join(lines)
    print(table + "\n\n" + note)
    stem = "verify_throughput" + ("_cuda" if "CPU" not in str(settings["device"]) else "")
    payload = {"command": command.strip(), "machine": where, "settings": settings, "rows": rows}
    markdown = "# Exhaustive verification throughput\n\n" + table + "\n\n" + note
    write_results(args.results, stem, payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
