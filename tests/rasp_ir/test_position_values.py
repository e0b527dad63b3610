"""Position-only values kept per width: which bindings they are, that every later batch (full,
padded, one input, empty) still gets exactly the naive evaluator's values, and that what is
kept cannot be changed by a caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import Executable
from rasp_ir.naive import NaiveEvalError, evaluate_naive
from rasp_ir.position_values import position_only_names
from rasp_ir.syntax import parse_file
from rasp_ir.values import Value, value_key
from tests.strategies import program_inputs, programs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_position_only_bindings_of_the_examples() -> None:
    reverse = parse_file(EXAMPLES / "reverse.rasp")
    assert position_only_names(reverse) == {"indices", "length", "opp", "flip"}
    sort = parse_file(EXAMPLES / "sort.rasp")
    kept = position_only_names(sort) - {"indices", "length"}
    assert [sort.binding(name).node for name in sorted(kept)] == [
        ir.Select("indices", "indices", ir.Comparison("<"))
    ]


def test_a_kept_value_is_read_only_and_shared_by_later_calls() -> None:
    executable = Executable(parse_file(EXAMPLES / "reverse.rasp"))
    first = executable([list("hello")])
    second = executable([list("world")])
    assert second.values("reverse") == [list("dlrow")]
    assert first.selector("flip") is not second.selector("flip")
    kept = second.selector("flip")
    assert not kept.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        kept[0, 0, 0] = True
    assert executable([list("abc")]).values("reverse") == [list("cba")]


def test_a_padded_batch_after_full_ones_is_masked_again() -> None:
    executable = Executable(parse_file(EXAMPLES / "reverse.rasp"))
    assert executable([list("abc"), list("xyz")]).values("reverse") == [list("cba"), list("zyx")]
    padded = executable([list("abc"), list("x")])
    assert padded.values("reverse") == [list("cba"), list("x")]
    assert not padded.selector("flip")[1, :, 1:].any()
    assert executable([list("abc"), list("xyz")]).values("reverse") == [list("cba"), list("zyx")]


def _naive(program: ir.Program, tokens: list[Value]) -> dict[str, list[Value]] | str:
    try:
        return evaluate_naive(program, tokens)
    except NaiveEvalError as error:
        return error.code


def _check_batch(executable: Executable, inputs: list[list[Value]]) -> None:
    """The executable on ``inputs`` equals the naive evaluator, errors included."""
    program = executable.program
    expected = [_naive(program, tokens) for tokens in inputs]
    try:
        evaluation = executable(inputs)
    except RaspError as error:
        codes = {d.code for d in error.diagnostics}
        assert any(isinstance(e, str) and e in codes for e in expected), (codes, expected)
        return
    assert not any(isinstance(e, str) for e in expected), expected
    names = [*ir.PRIMITIVES, *(b.name for b in program.bindings if b.encoding is not None)]
    for name in names:
        for got, want in zip(evaluation.values(name), expected, strict=True):
            assert isinstance(want, dict)
            assert [value_key(v) for v in got] == [value_key(v) for v in want[name]], name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_executable_on_many_batches_equals_the_naive_evaluator(data: st.DataObject) -> None:
    program: ir.Program = data.draw(programs())
    inputs = data.draw(program_inputs(program))
    try:
        executable = Executable(program)
    except RaspError:
        return
    longest = max(len(tokens) for tokens in inputs)
    full = [tokens for tokens in inputs if len(tokens) == longest]
    for batch in (full, inputs, *([tokens] for tokens in inputs), [], full * 3):
        _check_batch(executable, batch)
    assert np.array_equal(executable([]).lengths, np.zeros(0, dtype=np.int64))
