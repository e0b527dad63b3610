"""Inputs per second: the emitted Python module against the reference interpreter.

    .venv/bin/python benchmarks/python_backend.py [--inputs 2000 --single 300]

Programs: examples/{sort,hist,reverse,dyck2,shuffle_dyck2}.rasp as declared. Inputs: random
token sequences of exactly ``max_len`` tokens (seeded). "one at a time" times ``run(tokens)``
of the module and ``interpret(program, [tokens])`` (value sets inferred once, outside) on each
of the first ``--single`` inputs; "batched" times ``run_batch(inputs)`` and one
``interpret(program, inputs)`` over all ``--inputs``. Compilation and loading are not timed;
both sides must agree on every input first. Medians over ``--repeats`` runs. Prints a Markdown
table and writes benchmarks/results/python_backend.{json,md}.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.backends.python import BACKEND, load_module  # noqa: E402
from rasp_ir.check import load_program  # noqa: E402
from rasp_ir.interpreter import interpret  # noqa: E402
from rasp_ir.valuesets import infer_value_sets  # noqa: E402
from rasp_ir.verify import sampled_inputs, verify  # noqa: E402

PROGRAMS = ("sort", "hist", "reverse", "dyck2", "shuffle_dyck2")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=2000, help="inputs per batched run")
    parser.add_argument("--single", type=int, default=300, help="inputs run one at a time")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if min(args.inputs, args.single, args.repeats) < 1:
        parser.error("--inputs, --single and --repeats must be at least 1")
    return args


def _rate(count: int, work: Callable[[], object], repeats: int) -> float:
    """Inputs per second: ``count`` over the median time of ``work``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def measure(name: str, args: argparse.Namespace) -> dict[str, object]:
    program = load_program(ROOT / "examples" / f"{name}.rasp").program
    inputs = sampled_inputs(program, args.inputs, seed=args.seed)
    single = inputs[: args.single]
    report = verify(program, BACKEND, samples=args.inputs, seed=args.seed)
    if not report.ok:
        raise AssertionError(f"{name}: the module disagrees with the interpreter")
    module = load_module(BACKEND.lower(program), f"bench_{name}")
    sets = infer_value_sets(program)
    rates = {
        "module_single": _rate(len(single), lambda: [module.run(t) for t in single], args.repeats),
        "interpreter_single": _rate(
            len(single),
            lambda: [interpret(program, [t], value_sets=sets).outputs() for t in single],
            args.repeats,
        ),
        "module_batched": _rate(len(inputs), lambda: module.run_batch(inputs), args.repeats),
        "interpreter_batched": _rate(
            len(inputs), lambda: interpret(program, inputs).outputs(), args.repeats
        ),
    }
    return {"program": name, "max_len": program.header.max_len, **rates}


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    load_before = uptime()
    rows = [measure(name, args) for name in PROGRAMS]
    load_after = uptime()
    header = (
        "| program | max_len | module, one at a time | interpreter, one at a time | ratio "
        "| module, batched | interpreter, batched | ratio |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ms, is_, mb, ib = (
            float(r[k])  # type: ignore[arg-type]
            for k in (
                "module_single",
                "interpreter_single",
                "module_batched",
                "interpreter_batched",
            )
        )
        lines.append(
            f"| {r['program']} | {r['max_len']} | {ms:,.0f}/s | {is_:,.0f}/s | {ms / is_:.1f}x "
            f"| {mb:,.0f}/s | {ib:,.0f}/s | {mb / ib:.2f}x |"
        )
    command = "python benchmarks/python_backend.py " + shlex.join(argv or sys.argv[1:])
    note = f"Inputs per second (median of {args.repeats}); ratio = module / interpreter."
    title = "Python backend: emitted module vs interpreter"
    load = (load_before, load_after)
    publish(
        args, "python_backend", title, "\n".join(lines), note, command.strip(), load, {"rows": rows}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
