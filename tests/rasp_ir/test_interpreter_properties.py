"""Property tests: the vectorised interpreter against the independent naive evaluator."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.naive import NaiveEvalError, evaluate_naive
from rasp_ir.values import Value, value_key
from rasp_ir.valuesets import infer_value_sets
from tests.strategies import program_inputs, programs


def typed(values: list[Value]) -> list[tuple[int, object]]:
    return [value_key(v) for v in values]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_interpreter_equals_naive_evaluator(data: st.DataObject) -> None:
    program: ir.Program = data.draw(programs())
    inputs = data.draw(program_inputs(program))
    naive: list[dict[str, list[Value]] | str] = []
    for tokens in inputs:
        try:
            naive.append(evaluate_naive(program, tokens))
        except NaiveEvalError as error:
            naive.append(error.code)
    try:
        evaluation = interpret(program, inputs)
    except RaspError as error:
        codes = {d.code for d in error.diagnostics}
        assert any(isinstance(n, str) and n in codes for n in naive), (codes, naive)
        return
    assert not any(isinstance(n, str) for n in naive), naive
    names = [*ir.PRIMITIVES, *(b.name for b in program.bindings if b.encoding is not None)]
    for name in names:
        got = evaluation.values(name)
        for index, expected in enumerate(naive):
            assert isinstance(expected, dict)
            assert typed(got[index]) == typed(expected[name]), (name, index)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_observed_value_is_in_the_inferred_set(data: st.DataObject) -> None:
    program: ir.Program = data.draw(programs())
    inputs = data.draw(program_inputs(program))
    sets = infer_value_sets(program)
    try:
        evaluation = interpret(program, inputs, value_sets=sets)
    except RaspError:
        return
    for name, values in sets.sets.items():
        allowed = {value_key(v) for v in values}
        for row in evaluation.values(name):
            assert {value_key(v) for v in row} <= allowed, name
