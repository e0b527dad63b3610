"""The paths every user hits, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/everyday_paths.py [--batch-inputs 500000 --repeats 3]

Four tables (programs from examples/, ``max_len`` overridden to ``--length``):

* **one input per call**: ``Executable(program)`` built once, then called on one input, against
  ``interpret()`` (which prepares the program on every call) and against the naive per-input
  evaluator of ``rasp_ir/naive.py`` (a stand-in for tracr's ``rasp.evaluate``);
* **rasp run --batch**: the whole command in a fresh process (start, imports, parsing, reading,
  evaluating, printing to /dev/null) on ``--batch-inputs`` random inputs, against the
  interpreter alone in-process on the same inputs and the naive evaluator;
* **compiled torch model**: ``CompiledTransformer.run`` (encode, forward, decode) on batches of
  ``--torch-batch`` inputs, one thread and torch's default, against the interpreter on the same
  batch and the model's unpruned ``forward`` (the path before this benchmark existed); beside
  them, on one thread, the forward plan alone on the encoded batch (what a jitted model's
  figure measures), where ``run()``'s time goes (encoding, the plan, the rest: reading, the
  mean checks and decoding), the plan under ``torch.compile`` after its warm-up (and the
  warm-up's seconds; ``--no-torch-compile`` leaves it out), and tracr's jitted models as
  measured earlier on this machine kind (not rerun here);
* **rasp verify --backend torch --exhaustive**: the whole command in a fresh process, against
  the interpreter alone on the same inputs.

Times are medians of ``--repeats`` runs (wall clock, and CPU time beside it for the hub's paths
and the one-thread torch rows: on a shared machine the CPU time is what the program costs); the
load average (``/proc/loadavg``) is recorded beside each table, since a loaded machine slows
everything.
Commands run as an installed ``rasp`` does, from bytecode caches (kept in a temporary folder,
written by one untimed run), whatever ``PYTHONDONTWRITEBYTECODE`` says. Writes
benchmarks/results/everyday_paths.{json,md}; sections left out with ``--sections`` keep their
previous results there (each with its own date and load).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, load_averages, machine, write_results  # noqa: E402
from rasp_ir.interpreter import Executable, interpret  # noqa: E402
from rasp_ir.ir import Program  # noqa: E402
from rasp_ir.naive import evaluate_naive  # noqa: E402
from rasp_ir.syntax import HeaderOverrides, parse_file  # noqa: E402
from rasp_ir.values import Value  # noqa: E402
from rasp_ir.verify import exhaustive_inputs, input_count  # noqa: E402

if TYPE_CHECKING:
    import torch

    from rasp_ir.backends.torch.fast_forward import ForwardPlan

PROGRAMS = ("sort", "hist", "reverse")
TORCH_PROGRAMS = ("sort", "sort_unique", "hist", "reverse")
# tracr's jitted compiled models at batch 1,000, length 8, measured earlier on this machine kind
# (issue 17): the targets of the compiled-model table, not measured by this script.
TRACR_JITTED = {"sort_unique": 355_000, "hist": 788_000, "reverse": 128_000}
NAME = "everyday_paths"
SECTIONS = ("one_input", "batch_run", "torch_models", "verify")
PYCACHE = Path(tempfile.gettempdir()) / "rasp-ir-benchmark-pycache"
Inputs = list[list[Value]]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--length", type=int, default=8, help="tokens per input (= max_len)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median counts")
    parser.add_argument("--calls", type=int, default=2000, help="one-input calls per timing")
    parser.add_argument("--naive-inputs", type=int, default=1000, help="inputs timed naively")
    parser.add_argument("--batch-inputs", type=int, default=500_000, help="inputs of rasp run")
    parser.add_argument("--torch-batch", type=int, default=1000, help="inputs per model call")
    parser.add_argument(
        "--no-torch-compile",
        dest="torch_compile",
        action="store_false",
        help="leave out the forward plan under torch.compile (its warm-up takes seconds)",
    )
    parser.add_argument("--verify-vocab", default="a,b,c,d,e", help="--vocab of rasp verify")
    parser.add_argument("--verify-len", type=int, default=8, help="--max-len of rasp verify")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the commands")
    parser.add_argument(
        "--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="what to measure"
    )
    return parser.parse_args(argv)


def _median(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median_times(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``run`` (CPU time of this process and of the commands it
    waited for)."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu_start)
    return statistics.median(walls), statistics.median(cpus)


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _program(name: str, length: int, vocab: tuple[Value, ...] | None = None) -> Program:
    path = ROOT / "examples" / f"{name}.rasp"
    return parse_file(path, overrides=HeaderOverrides(vocab=vocab, max_len=length))


def _inputs(program: Program, count: int, seed: str) -> list[list[Value]]:
    rng = random.Random(seed)
    vocab, n = list(program.header.vocab), program.header.max_len
    return [[rng.choice(vocab) for _ in range(n)] for _ in range(count)]


def _naive_rate(program: Program, inputs: list[list[Value]], repeats: int) -> float:
    seconds = _median(lambda: [evaluate_naive(program, t) for t in inputs], repeats)
    return len(inputs) / seconds


def _one_input(args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    for name in PROGRAMS:
        program = _program(name, args.length)
        inputs = _inputs(program, args.calls, f"{args.seed}/{name}/one")
        executable = Executable(program)

        def prepared(executable: Executable = executable, inputs: Inputs = inputs) -> None:
            for tokens in inputs:
                executable([tokens]).outputs()

        def unprepared(program: Program = program, inputs: Inputs = inputs) -> None:
            for tokens in inputs[: len(inputs) // 10]:
                interpret(program, [tokens]).outputs()

        prepared_s, prepared_cpu_s = _median_times(prepared, args.repeats)
        prepared_us = prepared_s / len(inputs) * 1e6
        unprepared_us = _median(unprepared, args.repeats) / (len(inputs) // 10) * 1e6
        naive_us = 1e6 / _naive_rate(program, inputs[: args.naive_inputs], args.repeats)
        rows.append(
            {
                "program": name,
                "executable_us": prepared_us,
                "executable_cpu_us": prepared_cpu_s / len(inputs) * 1e6,
                "interpret_us": unprepared_us,
                "naive_us": naive_us,
                "vs_interpret": unprepared_us / prepared_us,
                "vs_naive": naive_us / prepared_us,
            }
        )
    return rows


def _batch_run(args: argparse.Namespace, folder: Path) -> list[dict[str, object]]:
    rows = []
    for name in PROGRAMS:
        program = _program(name, args.length)
        inputs = _inputs(program, args.batch_inputs, f"{args.seed}/{name}/batch")
        batch = folder / f"{name}.jsonl"
        batch.write_text("".join(json.dumps(t) + "\n" for t in inputs), encoding="utf-8")
        path = f"examples/{name}.rasp"  # the commands run in the repository root
        command = [args.python, "-m", "rasp_ir.cli.main", "run", path, "--batch", str(batch)]
        if args.length != 8:
            command += ["--max-len", str(args.length)]
        _quietly(command)  # writes the bytecode caches
        seconds, cpu_seconds = _median_times(partial(_quietly, command), args.repeats)
        interpreter_s = _median(partial(_outputs, Executable(program), inputs), args.repeats)
        naive = _naive_rate(program, inputs[: args.naive_inputs], args.repeats)
        rate = len(inputs) / seconds
        rows.append(
            {
                "program": name,
                "inputs": len(inputs),
                "command_seconds": seconds,
                "command_inputs_per_s": rate,
                "command_cpu_seconds": cpu_seconds,
                "command_inputs_per_cpu_s": len(inputs) / cpu_seconds,
                "interpreter_inputs_per_s": len(inputs) / interpreter_s,
                "naive_inputs_per_s": naive,
                "vs_naive": rate / naive,
                "of_interpreter": rate / (len(inputs) / interpreter_s),
            }
        )
    return rows


def _outputs(executable: Executable, inputs: Inputs) -> None:
    executable(inputs).outputs()


def _quietly(command: list[str]) -> None:
    """Run ``command`` in the repository root, output discarded, with bytecode caches kept in
    :data:`PYCACHE` (as an installed rasp has them)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        command,
        check=True,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _torch_models(args: argparse.Namespace) -> list[dict[str, object]]:
    import torch

    from rasp_ir.backends.torch import BACKEND
    from rasp_ir.backends.torch.fast_forward import final_residual

    default_threads = torch.get_num_threads()
    rows = []
    for name in TORCH_PROGRAMS:
        program = _program(name, args.length)
        model = BACKEND.lower(program)
        inputs = _inputs(program, args.torch_batch, f"{args.seed}/{name}/torch")
        expected = Executable(program)(inputs).outputs()
        if model.run(inputs).outputs != expected:
            raise AssertionError(f"{name}: the compiled model disagrees with the interpreter")
        rates, cpu_rates = {}, {}
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            seconds, cpu_seconds = _median_times(partial(model.run, inputs), args.repeats)
            rates[threads], cpu_rates[threads] = len(inputs) / seconds, len(inputs) / cpu_seconds
        torch.set_num_threads(1)
        run_cpu_s = len(inputs) / cpu_rates[1]
        encode_cpu_s = _median_times(partial(model.encode, inputs), args.repeats)[1]
        ids, lengths = model.encode(inputs)
        with torch.inference_mode():
            unpruned_s = _median(partial(model.forward, ids, lengths), args.repeats)
            plan = model.forward_plan()
            timed_plan = partial(final_residual, plan, ids, lengths)
            plan_s, plan_cpu_s = _median_times(timed_plan, args.repeats)
            compiled = (
                _compiled_plan(plan, ids, lengths, args.repeats) if args.torch_compile else {}
            )
        torch.set_num_threads(default_threads)
        interpreter_s = _median(partial(_outputs, Executable(program), inputs), args.repeats)
        best = max(rates.values())
        rows.append(
            {
                "program": name,
                "layers": model.config.n_layers,
                "d_model": model.config.d_model,
                "d_mlp": model.config.d_mlp,
                "run_inputs_per_s_1_thread": rates[1],
                "run_inputs_per_s_default_threads": rates[default_threads],
                "default_threads": default_threads,
                "unpruned_forward_inputs_per_s_1_thread": len(inputs) / unpruned_s,
                "plan_forward_inputs_per_s_1_thread": len(inputs) / plan_s,
                "run_inputs_per_cpu_s_1_thread": cpu_rates[1],
                "plan_forward_inputs_per_cpu_s_1_thread": len(inputs) / plan_cpu_s,
                "run_cpu_ms_1_thread": run_cpu_s * 1e3,
                "encode_cpu_ms": encode_cpu_s * 1e3,
                "plan_cpu_ms": plan_cpu_s * 1e3,
                "rest_cpu_ms": (run_cpu_s - encode_cpu_s - plan_cpu_s) * 1e3,
                **compiled,
                "tracr_jitted_inputs_per_s": TRACR_JITTED.get(name),
                "interpreter_inputs_per_s": len(inputs) / interpreter_s,
                "of_interpreter": best / (len(inputs) / interpreter_s),
            }
        )
    return rows


def _compiled_plan(
    plan: ForwardPlan, ids: torch.Tensor, lengths: torch.Tensor, repeats: int
) -> dict[str, object]:
    """The forward plan under ``torch.compile`` (one thread, inference mode): the first call's
    seconds (compilation) and the inputs per second after it; checked against the plan."""
    import torch

    from rasp_ir.backends.torch.fast_forward import final_residual

    torch._dynamo.reset()  # each program compiles afresh, not on the last one's cache
    compiled = torch.compile(final_residual, dynamic=False)
    start = time.perf_counter()
    residual = compiled(plan, ids, lengths)
    warm_up_s = time.perf_counter() - start
    if not torch.allclose(residual, final_residual(plan, ids, lengths), atol=1e-5):
        raise AssertionError("the compiled plan disagrees with the plan")
    seconds, cpu_seconds = _median_times(partial(compiled, plan, ids, lengths), repeats)
    return {
        "compiled_plan_inputs_per_s_1_thread": len(ids) / seconds,
        "compiled_plan_inputs_per_cpu_s_1_thread": len(ids) / cpu_seconds,
        "compile_warm_up_s": warm_up_s,
    }


def _verify(args: argparse.Namespace) -> dict[str, object]:
    command = [
        args.python, "-m", "rasp_ir.cli.main", "verify", "examples/sort.rasp", "--backend", "torch",
        "--exhaustive", "--max-len", str(args.verify_len), "--vocab", args.verify_vocab,
    ]  # fmt: skip
    vocab = tuple(args.verify_vocab.split(","))
    program = _program("sort", args.verify_len, vocab)
    count = input_count(len(vocab), args.verify_len)
    seconds = _median(partial(_quietly, command), 1)
    executable = Executable(program)

    def interpreter_only() -> None:
        source = exhaustive_inputs(program, args.verify_len)
        while batch := list(islice(source, 1 << 15)):
            executable(batch).outputs()

    interpreter_s = _median(interpreter_only, 1)
    return {
        "command": shlex.join(["rasp", *command[3:]]),
        "inputs": count,
        "command_seconds": seconds,
        "command_inputs_per_s": count / seconds,
        "interpreter_inputs_per_s": count / interpreter_s,
        "of_interpreter": interpreter_s / seconds,
    }


def _tables(report: dict[str, object]) -> list[str]:
    lines: list[str] = []
    one = report.get("one_input")
    if isinstance(one, dict):
        lines += [
            f"## One input per call ({_when(one)})",
            "",
            "| program | Executable call | (CPU) | interpret() | naive | vs interpret() "
            "| vs naive |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['program']} | {row['executable_us']:,.0f} us "
            f"| {row['executable_cpu_us']:,.0f} us "
            f"| {row['interpret_us']:,.0f} us | {row['naive_us']:,.0f} us "
            f"| {row['vs_interpret']:.1f}x | {row['vs_naive']:.1f}x |"
            for row in one["rows"]
        ]
        lines.append("")
    batch = report.get("batch_run")
    if isinstance(batch, dict):
        lines += [
            f"## rasp run --batch, whole command ({_when(batch)})",
            "",
            "| program | inputs | seconds | inputs/s | CPU seconds | inputs per CPU s "
            "| interpreter inputs/s | naive inputs/s | vs naive | of interpreter |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['program']} | {row['inputs']:,} | {row['command_seconds']:.2f} "
            f"| {row['command_inputs_per_s']:,.0f} | {row['command_cpu_seconds']:.2f} "
            f"| {row['command_inputs_per_cpu_s']:,.0f} | {row['interpreter_inputs_per_s']:,.0f} "
            f"| {row['naive_inputs_per_s']:,.0f} | {row['vs_naive']:.1f}x "
            f"| {row['of_interpreter']:.2f} |"
            for row in batch["rows"]
        ]
        lines.append("")
    models = report.get("torch_models")
    if isinstance(models, dict):
        lines += [
            f"## Compiled torch model, run() on batches ({_when(models)})",
            "",
            "| program | layers | d_model | d_mlp | 1 thread inputs/s | (per CPU s) "
            "| default threads inputs/s | unpruned forward (1 thread) inputs/s | plan forward "
            "only (1 thread) inputs/s | (per CPU s) | plan under torch.compile (1 thread) "
            "inputs/s | (per CPU s) | tracr jitted (earlier) inputs/s | of tracr | (per CPU s) "
            "| interpreter inputs/s | of interpreter |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['program']} | {row['layers']} | {row['d_model']} | {row['d_mlp']} "
            f"| {row['run_inputs_per_s_1_thread']:,.0f} "
            f"| {_rate(row.get('run_inputs_per_cpu_s_1_thread'))} "
            f"| {row['run_inputs_per_s_default_threads']:,.0f} ({row['default_threads']}) "
            f"| {row['unpruned_forward_inputs_per_s_1_thread']:,.0f} "
            f"| {_rate(row.get('plan_forward_inputs_per_s_1_thread'))} "
            f"| {_rate(row.get('plan_forward_inputs_per_cpu_s_1_thread'))} "
            f"| {_rate(row.get('compiled_plan_inputs_per_s_1_thread'))} "
            f"| {_rate(row.get('compiled_plan_inputs_per_cpu_s_1_thread'))} "
            f"| {_rate(row.get('tracr_jitted_inputs_per_s'))} "
            f"| {_of_tracr(row, 'run_inputs_per_s_1_thread')} "
            f"| {_of_tracr(row, 'run_inputs_per_cpu_s_1_thread')} "
            f"| {row['interpreter_inputs_per_s']:,.0f} | {row['of_interpreter']:.2f} |"
            for row in models["rows"]
        ]
        lines.append("")
        lines += _run_breakdown(models["rows"])
    verify = report.get("verify")
    if isinstance(verify, dict):
        lines += [
            f"## rasp verify, whole command ({_when(verify)})",
            "",
            f"`{verify['command']}`: {verify['inputs']:,} inputs in "
            f"{verify['command_seconds']:.1f} s, {verify['command_inputs_per_s']:,.0f} inputs/s; "
            f"the interpreter alone {verify['interpreter_inputs_per_s']:,.0f} inputs/s (the "
            f"command runs at {verify['of_interpreter']:.2f} of it).",
            "",
        ]
    return lines


def _of_tracr(row: dict[str, object], key: str) -> str:
    """The rate ``key`` as a multiple of tracr's jitted model, where there are both."""
    tracr, rate = row.get("tracr_jitted_inputs_per_s"), row.get(key)
    if not isinstance(tracr, (int, float)) or not isinstance(rate, (int, float)):
        return "-"
    return f"{rate / tracr:.2f}x"


def _run_breakdown(rows: list[dict[str, object]]) -> list[str]:
    """Where one ``run()`` call's CPU time goes (one thread; each part timed on its own, the
    rest is reading the outputs, the mean checks and decoding), and the warm-up of
    torch.compile."""
    timed = [row for row in rows if "encode_cpu_ms" in row]
    if not timed:
        return []
    lines = [
        "One `run()` call on one thread, by part, in CPU milliseconds (medians, each part timed "
        "on its own; the rest is reading the outputs' directions, the mean checks and "
        "decoding), and the wall seconds of `torch.compile`'s first call on the plan:",
        "",
        "| program | run() ms | encode ms | plan forward ms | rest ms | torch.compile warm-up s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in timed:
        warm_up = row.get("compile_warm_up_s")
        shown = f"{warm_up:.1f}" if isinstance(warm_up, float) else "-"
        lines.append(
            f"| {row['program']} | {row['run_cpu_ms_1_thread']:.2f} | {row['encode_cpu_ms']:.2f} "
            f"| {row['plan_cpu_ms']:.2f} | {row['rest_cpu_ms']:.2f} | {shown} |"
        )
    return [*lines, ""]


def _when(section: dict[str, object]) -> str:
    """The load average a section was measured at, and when (older reports lack the date)."""
    date = section.get("date")
    return f"load average {section['load']}" + (f", {date}" if date else "")


def _rate(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) else "-"


def _previous(results: Path) -> dict[str, object]:
    """The sections of the last report written to ``results`` (none if there is none)."""
    path = results / f"{NAME}.json"
    if not path.exists():
        return {}
    previous = json.loads(path.read_text(encoding="utf-8"))
    return {key: previous[key] for key in SECTIONS if key in previous}


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    report: dict[str, object] = {}
    kept = {k: v for k, v in _previous(args.results).items() if k not in args.sections}
    with tempfile.TemporaryDirectory() as folder:
        sections: dict[str, Callable[[], list[dict[str, object]]]] = {
            "one_input": partial(_one_input, args),
            "batch_run": partial(_batch_run, args, Path(folder)),
            "torch_models": partial(_torch_models, args),
        }
        for key, measure in sections.items():
            if key in args.sections:
                report[key] = {"load": load_averages(), "date": _now(), "rows": measure()}
        if "verify" in args.sections:
            report["verify"] = {"load": load_averages(), "date": _now(), **_verify(args)}
    report = {
        key: report.get(key, kept.get(key)) for key in SECTIONS if key in report or key in kept
    }
    shown_argv = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", f"benchmarks/{NAME}.py", *shown_argv])
    report["environment"] = {
        "command": command,
        "date": _now(),
        "machine": machine(),
    }
    report["settings"] = {k: str(v) for k, v in vars(args).items() if k not in ("results",)}
    markdown = [
        "# Everyday paths: one-input calls, batch runs, compiled models, verification",
        "",
        f"Command: `{command}`",
        "",
        f"- date: {report['environment']['date']}",  # type: ignore[index]
        f"- machine: {machine()}; load averages (1, 5, 15 "
        "min) are quoted per table: other processes shared the machine",
        f"- programs from examples/ with max_len {args.length}; medians of {args.repeats} runs; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        "- commands run from bytecode caches (as installed); CPU seconds include the command's "
        "process",
        "",
        *_tables(report),
    ]
    text = "\n".join(markdown)
    print(text)
    write_results(args.results, NAME, report, text)
    return 0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    raise SystemExit(main())
