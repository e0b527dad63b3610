"""A program in, a compiled transformer (or one ``unsupported`` diagnostic per construct) out.

The driver: check the program, merge common subexpressions and drop dead code, plan the
residual layout, heads and MLPs (:mod:`.lower`, :mod:`.plan`), then set the weights
(:mod:`.build`).
"""

from __future__ import annotations

import time
import warnings
from fractions import Fraction
from itertools import pairwise

from rasp_ir.api import (
    CheckResult,
    Diagnostic,
    RaspError,
    Value,
    check_program,
    ir,
    optimize,
)
from rasp_ir.backends.torch.build import build_model
from rasp_ir.backends.torch.lower import _Problems, plan_program
from rasp_ir.backends.torch.model import CompiledTransformer
from rasp_ir.backends.torch.plan import Plan, unsupported_error


def plan(program: ir.Program, checked: CheckResult | None = None) -> Plan:
    """The compile plan of ``program`` (``checked``: its check, when already done);
    :class:`RaspError` for errors and unsupported constructs."""
    if checked is None:
        checked = check_program(program)
    if checked.errors:
        raise RaspError(checked.diagnostics)
    program = optimize(program)
    value_sets = dict(checked.value_sets.sets)
    too_close = float32_problems(program, value_sets)
    if too_close:
        raise RaspError(too_close)
    try:
        return plan_program(program, value_sets)
    except _Problems as problems:
        raise unsupported_error(problems.problems) from None


# A numerical channel is read (decoded, or thresholded by an MLP) exactly only when neighbouring
# values are further apart than float32 rounding of a mean over up to 64+1 positions can move it.
FLOAT32_SAFE_GAP = 1e-5


def float32_problems(
    program: ir.Program, value_sets: dict[str, tuple[Value, ...]]
) -> list[Diagnostic]:
    """One ``unsupported`` diagnostic per numerical s-op whose values are too close to be told
    apart in float32 (the model would be silently wrong, so it is refused)."""
    problems = []
    for binding in program.bindings:
        if binding.encoding != "num":
            continue
        numbers = sorted(
            Fraction(v) for v in value_sets[binding.name] if isinstance(v, (int, Fraction))
        )
        if len(numbers) < 2:
            continue
        gap = min(b - a for a, b in pairwise(numbers))
        scale = max(Fraction(1), abs(numbers[0]), abs(numbers[-1]))
        if gap / scale >= Fraction(FLOAT32_SAFE_GAP):
            continue
        problems.append(
            Diagnostic(
                "unsupported",
                f"the values of {binding.name} can be as close as {float(gap):.3g}, too close "
                "to be told apart in float32",
                binding.span,
                "lower --max-len, or compute it categorically (a cat map of the inputs)",
            )
        )
    return problems


def compile_program(program: ir.Program) -> CompiledTransformer:
    """Compile ``program`` to a transformer whose outputs equal the interpreter's."""
    started = time.perf_counter()
    checked = check_program(program)
    notes = causal_warnings(program, checked)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    model = build_model(plan(program, checked), notes)
    model.info.report["compile_seconds"] = time.perf_counter() - started
    return model


def causal_warnings(program: ir.Program, checked: CheckResult | None = None) -> tuple[str, ...]:
    """Under ``%causal``, reading ``length`` sees the prefix length (tracr issue #19)."""
    diagnostics = (checked or check_program(program)).warnings
    return tuple(d.message for d in diagnostics if d.code == "causal-length")
