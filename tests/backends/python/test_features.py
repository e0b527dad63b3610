"""Programs that exercise one corner each: the emitted module equals the interpreter on every
input, errors included (an input the interpreter rejects must make the module raise too)."""

from __future__ import annotations

import pytest

from rasp_ir.backends.python import BACKEND
from rasp_ir.check import load_program
from rasp_ir.verify import input_count, verify
from tests.backends.python.programs import FEATURES


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_every_input_matches_the_interpreter(name: str) -> None:
    program = load_program(f"{name}.rasp", text=FEATURES[name]).program
    report = verify(program, BACKEND, exhaustive_max_len=program.header.max_len)
    assert report.mismatches == []
    assert report.checked == input_count(len(program.header.vocab), program.header.max_len)


@pytest.mark.parametrize(("name", "errors"), [("undefined", 105), ("undefined_select", 14)])
def test_runtime_errors_are_raised_on_the_same_inputs(name: str, errors: int) -> None:
    program = load_program(f"{name}.rasp", text=FEATURES[name]).program
    report = verify(program, BACKEND, exhaustive_max_len=program.header.max_len)
    assert report.ok
    assert report.errors == errors


def test_ties_go_to_the_left_key() -> None:
    program = load_program("t.rasp", text=FEATURES["closest_ties"]).program
    run = BACKEND.runner(program, BACKEND.lower(program))
    assert run([["a", "b", "a"], ["b", "b"]]) == {"where": [[1, 0, 1], [None, None]]}
