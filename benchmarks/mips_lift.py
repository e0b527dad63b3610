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
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasp_ir.api import (  # noqa: E402
    LiftOptions,
    RaspError,
    check_program,
    ir,
    load_backend,
    verify,
)
from rasp_ir.backends.torch.compiler import plan  # noqa: E402
from rasp_ir.frontends.mips import FRONTEND  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
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
    return parser.parse_args(argv)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()


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
    load_before = _uptime()
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
        "load_after": _uptime(),
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
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


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the table, write the results."""
    args = _arguments(argv)
    report = measure(args)
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "mips_lift.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "mips_lift.md").write_text(text)


if __name__ == "__main__":
    main()
