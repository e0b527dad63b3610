"""The fuzzing loop: a seed, checks and a budget in, a :class:`FuzzReport` out (cases run,
programs each check ran or could not run, findings shrunk to their smallest failing form)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.cases import Case, Finding, examine, make_case
from rasp_ir.fuzz.shrink import shrink
from rasp_ir.registry import Backend, unsupported


@dataclass(frozen=True)
class Budget:
    """When to stop: after ``seconds`` (None: no limit) or ``cases`` cases (None: no limit),
    whichever comes first; each finding is shrunk for at most ``shrink_seconds``, and after
    ``max_findings`` distinct findings the run stops."""

    seconds: float | None = 20.0
    cases: int | None = None
    shrink_seconds: float = 30.0
    max_findings: int = 10

    def exhausted(self, cases: int, seconds: float, findings: int) -> bool:
        """Whether a run that has made ``cases`` cases in ``seconds`` and found ``findings``
        distinct bugs stops here."""
        return (
            (self.cases is not None and cases >= self.cases)
            or (self.seconds is not None and seconds >= self.seconds)
            or findings >= self.max_findings
        )


@dataclass
class FuzzReport:
    """What a run did: cases generated; per check, programs run, programs it does not
    support (by its features) and programs it refused while lowering (a limit); the distinct
    findings (shrunk), each with the case that found it."""

    seed: int
    cases: int = 0
    ran: Counter[str] = field(default_factory=Counter)
    unsupported: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[int, Finding]] = field(default_factory=list)


def fuzz(
    seed: int,
    checks: Sequence[Backend],
    budget: Budget,
    on_finding: Callable[[int, Finding], None] | None = None,
) -> FuzzReport:
    """Generate cases ``0, 1, ...`` of ``seed`` and run every check that supports each
    program; shrink each disagreement and hand it to ``on_finding`` (with its case number)
    unless one of the same :func:`signature` was found before."""
    report = FuzzReport(seed)
    began = time.monotonic()
    seen: set[tuple[object, ...]] = set()
    for index in count():
        if budget.exhausted(index, time.monotonic() - began, len(report.findings)):
            break
        case = make_case(seed, index)
        report.cases += 1
        for check in checks:
            found = _run_check(case, check, report)
            if found is None:
                continue
            small = shrink(found, check, budget.shrink_seconds)
            if signature(small) in seen:
                continue
            seen.add(signature(small))
            report.findings.append((index, small))
            if on_finding is not None:
                on_finding(index, small)
    return report


def _run_check(case: Case, check: Backend, report: FuzzReport) -> Finding | None:
    """``check`` on ``case``, counted in ``report``; the finding if it failed."""
    if unsupported(check, case.program):
        report.unsupported[check.name] += 1
        return None
    try:
        found = examine(case.program, check, case.inputs)
    except RaspError:
        report.refused[check.name] += 1
        return None
    report.ran[check.name] += 1
    return found


def signature(finding: Finding) -> tuple[object, ...]:
    """What tells two shrunk findings apart as (probably) different bugs: the check, the kind
    of failure, BOS and causal, and the node kinds (with reductions and predicate forms)."""
    header = finding.program.header
    shape = tuple(_node_shape(b.node) for b in finding.program.bindings)
    return (finding.check, finding.failure, header.bos is not None, header.causal, shape)


def _node_shape(node: ir.Node) -> tuple[str, ...]:
    if isinstance(node, ir.Aggregate):
        return ("aggregate", node.reduce)
    if isinstance(node, (ir.Select, ir.SelectClosest)):
        predicate = node.predicate
        form = "fn" if isinstance(predicate, ir.Lambda) else "comparison"
        return (ir.kind_name(node), form)
    return (ir.kind_name(node),)
