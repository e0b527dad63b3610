"""verify(): any backend against the interpreter, every position, types and errors included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rasp_ir import ir
from rasp_ir.backends.python import BACKEND
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import BatchRunner, Outputs
from rasp_ir.verify import Mismatch, exhaustive_inputs, sampled_inputs, verify

SORT = """\
%vocab {"a", "b", "c"}
%max_len 4
before = select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <));
sort = aggregate(select(selector_width(before), indices, ==), tokens);
flag = tokens == "a";
output sort, flag;
"""


class Wrapped:
    """The python backend with its outputs passed through ``corrupt``."""

    name = "corrupted"
    description = "python, corrupted"
    features = BACKEND.features

    def __init__(self, corrupt: Callable[[list[list[Any]], Outputs], object]) -> None:
        self.corrupt = corrupt

    def lower(self, program: ir.Program) -> str:
        return BACKEND.lower(program)

    def runner(self, program: ir.Program, artifact: Any) -> BatchRunner:
        run = BACKEND.runner(program, artifact)

        def corrupted(inputs: Any) -> Outputs:
            outputs = run(inputs)
            self.corrupt(inputs, outputs)
            return outputs

        return corrupted


@pytest.fixture
def sort() -> ir.Program:
    return load_program("sort.rasp", text=SORT).program


def test_the_python_backend_agrees_everywhere(sort: ir.Program) -> None:
    report = verify(sort, BACKEND, exhaustive_max_len=4, samples=50)
    assert (report.checked, report.mismatch_count, report.mismatches) == (121 + 50, 0, [])
    assert report.ok


def test_a_wrong_value_is_listed_with_input_output_expected_and_got(sort: ir.Program) -> None:
    def corrupt(inputs: list[list[Any]], outputs: Outputs) -> None:
        for b, tokens in enumerate(inputs):
            if tokens == ["c", "a"]:
                outputs["sort"][b] = ["c", "a"]

    report = verify(sort, Wrapped(corrupt), exhaustive_max_len=2)
    assert report.mismatches == [Mismatch(("c", "a"), "sort", ["a", "c"], ["c", "a"])]
    assert (report.checked, report.mismatch_count, report.ok) == (13, 1, False)


def test_true_is_not_1_and_undefined_is_not_a_value(sort: ir.Program) -> None:
    def corrupt(inputs: list[list[Any]], outputs: Outputs) -> None:
        outputs["flag"] = [[1 if v is True else v for v in row] for row in outputs["flag"]]
        outputs["sort"] = [[None, *row[1:]] if row else row for row in outputs["sort"]]

    report = verify(sort, Wrapped(corrupt), exhaustive_max_len=1)
    assert [(m.input, m.output) for m in report.mismatches] == [
        (("a",), "sort"),
        (("b",), "sort"),
        (("c",), "sort"),
        (("a",), "flag"),
    ]
    assert report.mismatches[3] == Mismatch(("a",), "flag", [True], [1])


def test_an_input_only_one_side_rejects_is_a_mismatch(sort: ir.Program) -> None:
    def corrupt(inputs: list[list[Any]], outputs: Outputs) -> None:
        if ["b", "b"] in inputs:
            raise ValueError("boom")

    report = verify(sort, Wrapped(corrupt), exhaustive_max_len=2)
    assert report.checked == 13
    assert report.mismatches == [
        Mismatch(("b", "b"), "", ["b", "b", False, False], "ValueError: boom")
    ]


def test_missing_outputs_are_mismatches(sort: ir.Program) -> None:
    report = verify(sort, Wrapped(lambda inputs, outputs: outputs.pop("flag")), samples=3)
    assert [m.got for m in report.mismatches] == ["missing"] * 3


def test_inputs_exhaustive_and_sampled(sort: ir.Program) -> None:
    assert list(exhaustive_inputs(sort, 1)) == [[], ["a"], ["b"], ["c"]]
    samples = sampled_inputs(sort, 5, seed=7)
    assert samples == sampled_inputs(sort, 5, seed=7) != sampled_inputs(sort, 5, seed=8)
    assert all(len(s) == 4 for s in samples)


def test_too_many_inputs_are_refused() -> None:
    program = load_program(
        "big.rasp",
        text='%vocab chars "abcdefghijklmnopqrstuvwxyz"\n%max_len 6\nn = length;\noutput n;\n',
    ).program
    with pytest.raises(RaspError, match="more than 2000000") as error:
        verify(program, BACKEND, exhaustive_max_len=6)
    assert "--vocab" in error.value.diagnostics[0].hint
    assert verify(program, BACKEND, exhaustive_max_len=4).checked == 475255


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs exhaustive_max_len or samples"),
        ({"exhaustive_max_len": 5}, "outside 0..max_len 4"),
    ],
)
def test_bad_options(sort: ir.Program, options: dict[str, Any], message: str) -> None:
    with pytest.raises(RaspError, match=message):
        verify(sort, BACKEND, **options)
