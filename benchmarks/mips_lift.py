"""MIPS lift: every example Moore machine lifted into a RASP program and compiled to transformer
weights, with the sizes, the times and both agreements.

    .venv/bin/python benchmarks/mips_lift.py [--machines parity sum_all] [--max-len 10 40]
        [--max-d-model 1000] [--samples 200] [--threads 1]

Per machine and max_len: the construction the lift chose, attention layers
(``check_program(program).allocation.n_layers``), the compiled transformer's layers, heads
(most per layer), residual width d_model, MLP width and parameter count, lift seconds (median
of 3 lifts; each lift includes its certification), compile seconds (one ``backend.lower``),
the certificate's agreement (program vs machine) and the compiled transformer vs the program
(``rasp_ir.api.verify`` on ``--samples`` random inputs of length max_len: mismatch count).

With ``--suite DIR`` (a folder of ``rasp mips solve`` run folders, such as ``rasp mips suite``
writes) it measures every solved task's verified ``machine.json`` instead, at the task's T and at
4T: the lift certified against the machine and the task's RNN (``lift_file`` with the run),
one lift timed; the compiled transformer checked against the machine, the task and the RNN
(``verify_transformer``: the test split, random inputs of 2T and 4T, every position); beside
them the transformer the suite run recorded (or the stage it failed at). It writes
benchmarks/results/mips_lift_suite.{json,md} (``--name`` another stem):

    .venv/bin/python benchmarks/mips_lift.py --suite /work/suite-runs/mips-suite [--tasks ...]

The six tasks solved after that table (abs readouts, a finite-order A, Prev4 and the Newton
tasks whose compile was slow) are measured apart, into benchmarks/results/mips_lift_new.{json,md}:

    .venv/bin/python benchmarks/mips_lift.py --suite /tmp/mips-mipssolve/merged --name \
        mips_lift_new --tasks Prev4 Abs_Diff Diff_Abs_Values Newton_Spring Newton_Freebody \
        Newton_Gravity

Compilation is skipped, and the row says "skipped (budget)", when the planned residual width
exceeds ``--max-d-model`` (sum_all_100's one-hot sums are thousands of dimensions wide, slow to
run on a CPU); a program the torch backend refuses says "unsupported" with the reason.
Verification lowers the program once more (not timed). Prints a Markdown table and writes
benchmarks/results/mips_lift.{json,md} with the torch thread count and the ``uptime`` load
averages before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.api import (  # noqa: E402
    LiftOptions,
    RaspError,
    check_program,
    eliminate_dead_code,
    ir,
    load_backend,
    verify,
)
from rasp_ir.backends.torch.compiler import plan  # noqa: E402
from rasp_ir.frontends.mips import FRONTEND  # noqa: E402
from rasp_ir.frontends.mips.lift import lift_file, load_any  # noqa: E402
from rasp_ir.frontends.mips.run_files import load_run  # noqa: E402
from rasp_ir.frontends.mips.tasks import get_task  # noqa: E402
from rasp_ir.frontends.mips.transformer_check import verify_transformer  # noqa: E402

MACHINES = ROOT / "examples" / "machines"
LIFT_REPEATS = 3


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = sorted(p.stem for p in MACHINES.glob("*.json"))
    parser.add_argument("--machines", nargs="+", default=names, choices=names)
    parser.add_argument("--max-len", type=int, nargs="+", default=[10, 40])
    parser.add_argument(
        "--max-d-model", type=int, default=1000, help="skip compiling above this residual width"
    )
    parser.add_argument("--samples", type=int, default=200, help="inputs for compiled vs program")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--suite", type=Path, help="a folder of solve run folders")
    parser.add_argument("--tasks", nargs="+", help="with --suite: only these tasks")
    parser.add_argument(
        "--name", default="mips_lift_suite", help="with --suite: the results' file stem"
    )
    return parser.parse_args(argv)


def _lift(path: Path, max_len: int) -> tuple[Any, float]:
    """The lift and the median seconds of ``LIFT_REPEATS`` lifts."""
    seconds = []
    for _ in range(LIFT_REPEATS):
        start = time.perf_counter()
        lifted = FRONTEND.lift(path, LiftOptions(max_len=max_len))
        seconds.append(time.perf_counter() - start)
    return lifted, statistics.median(seconds)


def _compiled(program: ir.Program, max_d_model: int, samples: int) -> dict[str, Any]:
    """Sizes, compile seconds and mismatches of the torch model, or why there is none."""
    try:
        planned = len(plan(program).labels)
    except RaspError as error:
        reason = str(error).splitlines()[0].removeprefix("error: ")
        return {"status": "unsupported", "reason": reason}
    if planned > max_d_model:
        return {"status": "skipped (budget)", "planned_d_model": planned}
    backend = load_backend("torch")
    start = time.perf_counter()
    model = backend.lower(program)
    seconds = time.perf_counter() - start
    config = model.config
    checked = verify(program, backend, samples=samples)
    return {
        "status": "compiled",
        "layers": config.n_layers,
        "heads": config.n_heads,
        "d_model": config.d_model,
        "mlp_width": config.d_mlp,
        "parameters": sum(p.numel() for p in model.parameters()),
        "compile_seconds": seconds,
        "verified_inputs": checked.checked,
        "mismatches": checked.mismatch_count,
    }


def measure_one(path: Path, max_len: int, args: argparse.Namespace) -> dict[str, Any]:
    """One machine at one max_len."""
    lifted, lift_seconds = _lift(path, max_len)
    certificate = lifted.certificate
    details = json.loads(certificate.details_json)
    return {
        "machine": path.stem,
        "max_len": max_len,
        "construction": details.get("construction", "?"),
        "attention_layers": check_program(lifted.program).allocation.n_layers,
        "lift_seconds": lift_seconds,
        "certificate_agreement": certificate.agreement,
        "certificate_positions": certificate.positions_compared,
        "certificate_disagreements": certificate.disagreement_count,
        "torch": _compiled(lifted.program, args.max_d_model, args.samples),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every chosen machine at every max_len; the report."""
    torch.set_num_threads(args.threads)
    load_before = uptime()
    rows = [
        measure_one(MACHINES / f"{name}.json", max_len, args)
        for name in args.machines
        for max_len in args.max_len
    ]
    return {
        "rows": rows,
        "lift_repeats": LIFT_REPEATS,
        "samples": args.samples,
        "max_d_model": args.max_d_model,
        "torch_threads": torch.get_num_threads(),
        "load_before": load_before,
        "load_after": uptime(),
        "torch_version": torch.__version__,
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _torch_cells(compiled: dict[str, Any]) -> str:
    if compiled["status"] != "compiled":
        reason = compiled.get("reason") or f"planned d_model {compiled['planned_d_model']}"
        return f"{compiled['status']}: {reason} |" + " - |" * 6
    return (
        f"{compiled['layers']} | {compiled['heads']} | {compiled['d_model']} | "
        f"{compiled['mlp_width']} | {compiled['parameters']} | "
        f"{compiled['compile_seconds']:.2f} | "
        f"{compiled['mismatches']}/{compiled['verified_inputs']} |"
    )


def table(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        "# MIPS lift: example machines to RASP programs to transformer weights (CPU)",
        "",
        f"torch {report['torch_version']}, {report['torch_threads']} thread(s), "
        f"{report['date']}. Lift s: median of {report['lift_repeats']} lifts (certification "
        "included). Certificate: program vs machine, agreeing positions. Compiled vs program: "
        f"mismatching inputs of {report['samples']} random ones at max_len. Compilation is "
        f"skipped above a planned d_model of {report['max_d_model']}.",
        "",
        "| machine | max_len | construction | attn layers | lift s | certificate | "
        "layers | heads | d_model | MLP width | parameters | compile s | compiled vs program |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['machine']} | {row['max_len']} | {row['construction']} | "
            f"{row['attention_layers']} | {row['lift_seconds']:.3f} | "
            f"{row['certificate_agreement']:.2%} | {_torch_cells(row['torch'])}"
        )
    lines += [
        "",
        f"Load before: `{report['load_before']}`  ",
        f"Load after: `{report['load_after']}`",
        "",
    ]
    return "\n".join(lines)


def solved_tasks(suite: Path, only: Sequence[str] | None) -> list[tuple[Path, dict[str, Any]]]:
    """The run folders of ``suite`` whose task was solved (a verified ``machine.json``), with
    their ``result.json``, in task order."""
    found = []
    for result_file in sorted(suite.glob("*/result.json")):
        result = json.loads(result_file.read_text(encoding="utf-8"))
        folder = result_file.parent
        if only and folder.name not in only:
            continue
        if result.get("solved") and (folder / "machine.json").exists():
            found.append((folder, result))
    return found


def measure_task(
    folder: Path, result: dict[str, Any], max_len: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One solved task at one max_len: lift (against the machine and the RNN), compile, and the
    transformer against the machine, the task and the RNN."""
    run = load_run(folder / result["run"]) if result.get("run") else None
    start = time.perf_counter()
    lifted = lift_file(folder / "machine.json", LiftOptions(max_len=max_len), run)
    lift_seconds = time.perf_counter() - start
    details = json.loads(lifted.certificate.details_json)
    row: dict[str, Any] = {
        "task": folder.name,
        "max_len": max_len,
        "construction": details.get("construction", "?"),
        "attention_layers": check_program(lifted.program).allocation.n_layers,
        "lift_seconds": lift_seconds,
        "program_agreement": lifted.certificate.agreement,
        "program_positions": lifted.certificate.positions_compared,
        "program_vs_rnn": run is not None,
        "suite_transformer": result.get("transformer") or f"failed at {result.get('failed_stage')}",
    }
    compiled_row = _compiled_for_task(lifted.program, folder, run, args)
    return row | {"torch": compiled_row}


def _compiled_for_task(
    program: ir.Program, folder: Path, run: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """The transformer's sizes, compile seconds and its check against machine, task and RNN."""
    try:
        planned = len(plan(program).labels)
    except RaspError as error:
        return {"status": "unsupported", "reason": str(error).splitlines()[0]}
    if planned > args.max_d_model:
        return {"status": "skipped (budget)", "planned_d_model": planned}
    backend = load_backend("torch")
    live = eliminate_dead_code(program)
    start = time.perf_counter()
    model = backend.lower(live)
    seconds = time.perf_counter() - start
    machine = load_any(folder / "machine.json")
    task = run.task if run is not None else get_task(folder.name)
    rnn = run.model if run is not None else None
    runner = backend.runner(live, model)
    certificate = verify_transformer(program, machine, task, model=rnn, runner=runner)
    groups = json.loads(certificate.details_json)["groups"]
    return {
        "status": "compiled",
        "layers": model.config.n_layers,
        "heads": model.config.n_heads,
        "d_model": model.config.d_model,
        "mlp_width": model.config.d_mlp,
        "parameters": sum(p.numel() for p in model.parameters()),
        "compile_seconds": seconds,
        "positions": certificate.positions_compared,
        "disagreements": certificate.disagreement_count,
        "groups": {name: group["disagree"] for name, group in groups.items()},
    }


def measure_suite(args: argparse.Namespace) -> dict[str, Any]:
    """Every solved task of ``--suite`` at T and 4T; the report."""
    torch.set_num_threads(args.threads)
    load_before = uptime()
    rows = []
    for folder, result in solved_tasks(args.suite, args.tasks):
        length = get_task(result.get("task", folder.name)).length
        for max_len in (length, 4 * length):
            try:
                rows.append(measure_task(folder, result, max_len, args))
            except RaspError as error:  # reported as the row, and the run goes on
                reason = str(error).splitlines()[0]
                rows.append({"task": folder.name, "max_len": max_len, "failed": reason})
            print(_suite_line(rows[-1]), flush=True)
    return {
        "suite": str(args.suite),
        "rows": rows,
        "max_d_model": args.max_d_model,
        "torch_threads": torch.get_num_threads(),
        "load_before": load_before,
        "load_after": uptime(),
        "torch_version": torch.__version__,
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _shape(shape: Any) -> str:
    if isinstance(shape, dict):
        layers = f"{shape['n_layers']}x{shape['n_heads']}"
        return f"{layers}, d_model {shape['d_model']}, MLP {shape['d_mlp']}"
    return str(shape)


def _suite_line(row: dict[str, Any]) -> str:
    if "failed" in row:
        return f"| {row['task']} | {row['max_len']} | failed: {row['failed']} |" + " - |" * 11
    compiled_row = row["torch"]
    if compiled_row["status"] != "compiled":
        reason = compiled_row.get("reason") or f"planned d_model {compiled_row['planned_d_model']}"
        cells = f"{compiled_row['status']}: {reason} |" + " - |" * 6
    else:
        agree = compiled_row["positions"] - compiled_row["disagreements"]
        cells = (
            f"{compiled_row['layers']} | {compiled_row['heads']} | {compiled_row['d_model']} | "
            f"{compiled_row['mlp_width']} | {compiled_row['parameters']} | "
            f"{compiled_row['compile_seconds']:.2f} | {agree}/{compiled_row['positions']} |"
        )
    rnn = "machine + RNN" if row["program_vs_rnn"] else "machine"
    return (
        f"| {row['task']} | {row['max_len']} | {row['construction']} | {row['attention_layers']} | "
        f"{row['lift_seconds']:.2f} | {row['program_agreement']:.2%} ({rnn}) | {cells} "
        f"{_shape(row['suite_transformer'])} |"
    )


def suite_table(report: dict[str, Any]) -> str:
    """The suite report as Markdown."""
    rows = report["rows"]
    compiled_rows = [r for r in rows if "torch" in r and r["torch"]["status"] == "compiled"]
    exact = [r for r in compiled_rows if r["torch"]["disagreements"] == 0]
    tasks = sorted({r["task"] for r in rows})
    lines = [
        "# MIPS lift: every solved task's machine to a RASP program to a transformer (CPU)",
        "",
        f"Run folders: `{report['suite']}`. torch {report['torch_version']}, "
        f"{report['torch_threads']} thread(s), {report['date']}; the machine is shared with "
        "other agents (load below). Each task at its T and at 4T. Lift s: one lift, certified "
        "against the machine (every input up to a length, random ones) and the task's RNN on "
        "its test split. Transformer vs machine, task and RNN: agreeing positions of "
        "`verify_transformer` (test split vs task, machine and RNN; random 2T and 4T inputs vs "
        "task and machine). Suite run: the transformer the suite recorded before this change, or "
        "the stage it failed at.",
        "",
        f"{len(tasks)} solved tasks, {len(rows)} rows; {len(compiled_rows)} compiled, "
        f"{len(exact)} with every position agreeing.",
        "",
        "| task | max_len | construction | attn layers | lift s | program vs machine (and RNN) | "
        "layers | heads | d_model | MLP width | parameters | compile s | transformer vs "
        "machine, task, RNN | suite run (before) |",
        "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
        *(_suite_line(row) for row in rows),
        "",
        f"Load before: `{report['load_before']}`  ",
        f"Load after: `{report['load_after']}`",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, write the results."""
    args = _arguments(argv)
    if args.suite is not None:
        report = measure_suite(args)
        text = suite_table(report)
        print(text)
        write_results(args.results, args.name, report, text)
        return
    report = measure(args)
    text = table(report)
    print(text)
    write_results(args.results, "mips_lift", report, text)


if __name__ == "__main__":
    main()
