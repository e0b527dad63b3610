"""``rasp fuzz``: a seed and a time budget in, random programs run by every backend (and the
naive evaluator, and the program rewritten with macros and imports) against the interpreter;
each disagreement shrunk and written as a ready-to-paste ``.rasp`` file; exit 1 on any.
``--replay FILE`` runs the checks on one program instead."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.cli.common import add_command, load_checked
from rasp_ir.cli.output import out
from rasp_ir.cli.verify_cmd import describe
from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.cases import Finding, examine
from rasp_ir.fuzz.checks import check_names, load_check
from rasp_ir.fuzz.findings import replay_inputs, write_finding
from rasp_ir.fuzz.runner import Budget, FuzzReport, fuzz
from rasp_ir.registry import Backend, unsupported
from rasp_ir.syntax import HeaderOverrides

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
Each case is a random well-typed program (every node kind, BOS, causal, annotations, tables)
and every input up to its max_len (or 256 random ones). Checks: every installed backend, plus
'naive' (the independent naive evaluator) and 'macros' (the program rewritten with def macros
and an import, parsed back); each runs the programs it supports. A disagreement or a crash is
shrunk (fewer bindings, a simpler header, a shorter input) and written to DIR as
CHECK-seedS-caseI.rasp, with the input, both results and the command that reproduces it.
Exit code 1 when anything was found. The same seed gives the same cases.

examples:
  rasp fuzz --seconds 60                          # the release check: exit 0, nothing found
  rasp fuzz --seconds 20 --backends python,naive --seed 7 -o findings
  rasp fuzz --replay fuzz-findings/torch-seed0-case77.rasp --backends torch
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp fuzz``."""
    parser = add_command(
        subparsers,
        "fuzz",
        fuzz_command,
        summary="differential fuzzing: random programs, every backend vs the interpreter",
        description="Run random programs on every backend and compare with the interpreter.",
        epilog=EPILOG,
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget (default 20)")
    parser.add_argument("--cases", type=int, metavar="N", help="stop after N cases")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cases (default 0)")
    parser.add_argument(
        "--backends",
        metavar="A,B",
        help="checks to run, comma-separated (default: every installed backend, naive, macros)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("fuzz-findings"),
        metavar="DIR",
        help="where findings are written (default fuzz-findings)",
    )
    parser.add_argument(
        "--shrink-seconds", type=float, default=30.0, help="time to shrink each finding (30)"
    )
    parser.add_argument("--replay", metavar="FILE", help="run the checks on this program only")


def fuzz_command(args: argparse.Namespace) -> int:
    """Fuzz (or replay one file) and print what was run and found."""
    budget = _budget(args)
    checks = _checks(args.backends)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backends warn about the random programs' oddities
        if args.replay is not None:
            return _replay(args.replay, checks)
        return _fuzz(args, checks, budget)


def _budget(args: argparse.Namespace) -> Budget:
    for name, value in (("--seconds", args.seconds), ("--shrink-seconds", args.shrink_seconds)):
        if value <= 0:
            raise RaspError.single("usage", f"{name} must be positive, not {value}")
    if args.cases is not None and args.cases < 1:
        raise RaspError.single("usage", f"--cases must be at least 1, not {args.cases}")
    return Budget(seconds=args.seconds, cases=args.cases, shrink_seconds=args.shrink_seconds)


def _checks(names: str | None) -> list[Backend]:
    available = check_names()
    chosen = available if names is None else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in available]
    if unknown or not chosen:
        raise RaspError.single(
            "usage",
            f"no check named {', '.join(map(repr, unknown))}" if unknown else "no checks given",
            hint=f"checks: {', '.join(available)}",
        )
    return [load_check(name) for name in chosen]


def _fuzz(args: argparse.Namespace, checks: list[Backend], budget: Budget) -> int:
    def found(index: int, finding: Finding) -> None:
        path = write_finding(args.output, args.seed, index, finding)
        out(f"case {index}: the {finding.check} check {_verb(finding)}; shrunk -> {path}")

    report = fuzz(args.seed, checks, budget, found)
    ran = ", ".join(f"{c.name} {report.ran[c.name]}{_skipped(report, c.name)}" for c in checks)
    out(f"seed {args.seed}: {report.cases} programs; run by {ran}")
    out(f"{len(report.findings)} findings" + (f" in {args.output}" if report.findings else ""))
    return 1 if report.findings else 0


def _skipped(report: FuzzReport, name: str) -> str:
    """`` (N unsupported, M refused)`` for a check that did not run every program."""
    parts = [
        f"{count} {what}"
        for count, what in (
            (report.unsupported[name], "unsupported"),
            (report.refused[name], "refused"),
        )
        if count
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _verb(finding: Finding) -> str:
    return "crashed" if finding.mismatch is None else "disagrees with the interpreter"


def _replay(path: str, checks: list[Backend]) -> int:
    program = load_checked(path, HeaderOverrides()).program
    inputs = [tuple(t) for t in replay_inputs(program)]
    failed = 0
    for check in checks:
        if unsupported(check, program):
            out(f"{check.name}: does not support this program")
            continue
        try:
            finding = examine(program, check, inputs)
        except RaspError as error:
            out(f"{check.name}: refuses this program ({error.diagnostics[0].message})")
            continue
        if finding is None:
            out(f"{check.name}: agrees with the interpreter on {len(inputs)} inputs")
            continue
        failed += 1
        out(f"{check.name}: {_verb(finding)}")
        if finding.mismatch is not None:
            out(describe(finding.mismatch))
        else:
            out(f"  {finding.crash}")
    return 1 if failed else 0
