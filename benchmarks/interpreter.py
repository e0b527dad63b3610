"""Inputs per second: the vectorised interpreter against the naive per-example evaluator.

    .venv/bin/python benchmarks/interpreter.py [--inputs 10000 --length 16 --repeats 5]

Programs: examples/{sort,hist,reverse,dyck2}.rasp with ``max_len`` overridden to ``--length``
(vocabularies as declared). Inputs: uniformly random token sequences of exactly ``--length``
tokens (seeded). The vectorised rate times one ``interpret(program, inputs).outputs()`` call over
all ``--inputs`` (value-set inference and table building included); the naive rate times
``evaluate_naive`` on each of the first ``--naive-inputs``. Both are the median over
``--repeats`` runs. Before timing, both evaluators must agree on every output of a subsample
(``--check-inputs``); the check is not timed.

Prints a Markdown table and writes benchmarks/results/interpreter.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.interpreter import interpret  # noqa: E402
from rasp_ir.ir import Program  # noqa: E402
from rasp_ir.naive import evaluate_naive  # noqa: E402
from rasp_ir.syntax import HeaderOverrides, parse_file  # noqa: E402
from rasp_ir.values import Value  # noqa: E402

PROGRAMS = ("sort", "hist", "reverse", "dyck2")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per program")
    parser.add_argument("--length", type=int, default=16, help="tokens per input (= max_len)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median counts")
    parser.add_argument(
        "--naive-inputs", type=int, default=1_000, help="inputs the naive evaluator is timed on"
    )
    parser.add_argument(
        "--check-inputs", type=int, default=200, help="inputs both evaluators must agree on"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    for name in ("inputs", "length", "repeats", "naive_inputs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    args.naive_inputs = min(args.naive_inputs, args.inputs)
    args.check_inputs = max(0, min(args.check_inputs, args.inputs))
    return args


def _tagged(values: Sequence[Value]) -> list[tuple[str, Value]]:
    """Values with their types, so that True != 1 and 1 != Fraction(1)."""
    return [(type(v).__name__, v) for v in values]


def _check_agreement(program: Program, inputs: list[list[Value]], name: str) -> None:
    vectorised = interpret(program, inputs).outputs()
    for b, tokens in enumerate(inputs):
        naive = evaluate_naive(program, tokens)
        for output in program.outputs:
            got, want = vectorised[output][b], naive[output]
            if _tagged(got) != _tagged(want):
                raise AssertionError(
                    f"{name}: evaluators disagree on {output} for input {tokens}: "
                    f"vectorised {got}, naive {want}"
                )


def _median_seconds(run: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(name: str, args: argparse.Namespace) -> dict[str, object]:
    path = ROOT / "examples" / f"{name}.rasp"
    program = parse_file(path, overrides=HeaderOverrides(max_len=args.length))
    rng = random.Random(f"{args.seed}/{name}")
    vocab = list(program.header.vocab)
    inputs = [[rng.choice(vocab) for _ in range(args.length)] for _ in range(args.inputs)]
    _check_agreement(program, inputs[: args.check_inputs], name)

    naive_inputs = inputs[: args.naive_inputs]

    def vectorised() -> None:
        interpret(program, inputs).outputs()

    def naive() -> None:
        for tokens in naive_inputs:
            evaluate_naive(program, tokens)

    vectorised_s = _median_seconds(vectorised, args.repeats)
    naive_s = _median_seconds(naive, args.repeats)
    vectorised_rate = len(inputs) / vectorised_s
    naive_rate = len(naive_inputs) / naive_s
    return {
        "program": name,
        "vocab_size": len(vocab),
        "max_len": args.length,
        "vectorised_inputs": len(inputs),
        "vectorised_seconds": vectorised_s,
        "vectorised_inputs_per_s": vectorised_rate,
        "naive_inputs": len(naive_inputs),
        "naive_seconds": naive_s,
        "naive_inputs_per_s": naive_rate,
        "ratio": vectorised_rate / naive_rate,
        "checked_inputs": args.check_inputs,
    }


def _table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| program | vectorised inputs/s | naive inputs/s | ratio |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['program']} | {row['vectorised_inputs_per_s']:,.0f} "
            f"| {row['naive_inputs_per_s']:,.0f} | {row['ratio']:,.1f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    load_before = uptime()
    rows = [_measure(name, args) for name in PROGRAMS]
    load_after = uptime()
    table = _table(rows)
    print(table)

    shown_argv = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/interpreter.py", *shown_argv])
    environment = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "numpy": np.__version__,
        "load_before": load_before,
        "load_after": load_after,
    }
    settings = {
        "inputs": args.inputs,
        "length": args.length,
        "repeats": args.repeats,
        "naive_inputs": args.naive_inputs,
        "check_inputs": args.check_inputs,
        "seed": args.seed,
    }
    report = {"environment": environment, "settings": settings, "results": rows}
    markdown = [
        "# Vectorised interpreter vs naive evaluator",
        "",
        f"Command: `{command}`",
        "",
        f"- date: {environment['date']}",
        f"- machine: {environment['machine']}, numpy {environment['numpy']}",
        f"- load before: `{load_before}`",
        f"- load after: `{load_after}`",
        f"- {args.inputs} random inputs of length {args.length} per program "
        f"(max_len overridden to {args.length}); the naive rate is measured on the first "
        f"{args.naive_inputs}; median of {args.repeats} runs; both evaluators agreed on "
        f"every output of {args.check_inputs} inputs before timing",
        "",
        table,
    ]
    write_results(args.results, "interpreter", report, "\n".join(markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
