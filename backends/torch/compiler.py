"""A program in, a compiled transformer (or one ``unsupported`` diagnostic per construct) out.

The driver: check the program, merge common subexpressions and drop dead code, plan the
residual layout, heads and MLPs (:mod:`.lower`, :mod:`.plan`), then set the weights
(:mod:`.build`).
"""

from __future__ import annotations

import time
import warnings

from rasp_ir import ir
from rasp_ir.backends.torch.build import build_model
from rasp_ir.backends.torch.lower import _Problems, plan_program
from rasp_ir.backends.torch.model import CompiledTransformer
from rasp_ir.backends.torch.plan import Plan, unsupported_error
from rasp_ir.check import check_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.optimize import optimize


def plan(program: ir.Program) -> Plan:
    """The compile plan of ``program``; :class:`RaspError` for errors and unsupported constructs."""
    checked = check_program(program)
    if checked.errors:
        raise RaspError(checked.diagnostics)
    program = optimize(program)
    value_sets = dict(checked.value_sets.sets)
    try:
        return plan_program(program, value_sets)
    except _Problems as problems:
        raise unsupported_error(problems.problems) from None


def compile_program(program: ir.Program) -> CompiledTransformer:
    """Compile ``program`` to a transformer whose outputs equal the interpreter's."""
    started = time.perf_counter()
    notes = causal_warnings(program)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    model = build_model(plan(program), notes)
    model.info.report["compile_seconds"] = time.perf_counter() - started
    return model


def causal_warnings(program: ir.Program) -> tuple[str, ...]:
    """Under ``%causal``, reading ``length`` sees the prefix length (tracr issue #19)."""
    diagnostics = check_program(program).warnings
    return tuple(d.message for d in diagnostics if d.code == "causal-length")
