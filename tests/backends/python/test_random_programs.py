"""The emitted module equals the interpreter on random programs, on every short input."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from rasp_ir.backends.python import BACKEND
from rasp_ir.diagnostics import errors_only
from rasp_ir.ir import Program
from rasp_ir.valuesets import infer_value_sets
from rasp_ir.verify import input_count, verify
from tests.strategies import programs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_match_the_interpreter(program: Program) -> None:
    assume(not errors_only(infer_value_sets(program).diagnostics))
    length = program.header.max_len
    while input_count(len(program.header.vocab), length) > 3000:
        length -= 1
    report = verify(program, BACKEND, exhaustive_max_len=length, samples=20)
    assert report.ok, report.mismatches[:3]
    assert report.checked == input_count(len(program.header.vocab), length) + 20
