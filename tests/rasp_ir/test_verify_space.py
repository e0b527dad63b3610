"""Exhaustive checks on codes: the numbering of the space, the interpreter as a space runner,
mismatches and one-sided rejections found, and the limits of verify(against=...)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from rasp_ir import ir
from rasp_ir import verify as verify_module
from rasp_ir.backends.python import BACKEND as PYTHON
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.registry import BatchRunner
from rasp_ir.verify import exhaustive_inputs, input_count, verify
from rasp_ir.verify_space import CodedBatch, InterpreterSpace, space_digits, space_inputs

CAT_MEAN = """\
%vocab {"a", "b"}
%max_len 3
first_a = aggregate(select(tokens, tokens, ==), indices);
flag = tokens == "a";
output flag, first_a;
"""
SORT = """\
%vocab {"a", "b", "c"}
%max_len 4
before = select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <));
sort = aggregate(select(selector_width(before), indices, ==), tokens);
output sort;
"""


def test_the_space_is_numbered_as_exhaustive_inputs_orders_it() -> None:
    program = load_program("sort.rasp", text=SORT).program
    everything = list(exhaustive_inputs(program, 4))
    assert space_inputs(program, 0, len(everything)) == everything
    assert space_inputs(program, 37, 52) == everything[37:52]
    digits, lengths = space_digits(3, 12, 14)
    assert lengths.tolist() == [2, 3]  # 1 + 3 + 9 = 13 inputs are shorter than 3
    assert digits.tolist() == [[2, 2, 0], [0, 0, 0]]


class Space:
    """The interpreter's space runner with its codes passed through ``corrupt``."""

    def __init__(self, program: ir.Program, corrupt: Any) -> None:
        self.inner = InterpreterSpace(program)
        self.batch_size = 7  # odd on purpose: slices cut across lengths
        self.corrupt = corrupt

    def __call__(self, start: int, stop: int) -> CodedBatch:
        batch = self.inner(start, stop)
        self.corrupt(start, batch)
        return batch


class WithSpace:
    """The python backend plus a space runner (the interpreter's, corrupted)."""

    name = "spaced"
    description = "python with a space runner"
    features = PYTHON.features

    def __init__(self, corrupt: Any = None) -> None:
        self.corrupt = corrupt or (lambda start, batch: None)

    def lower(self, program: ir.Program) -> str:
        return PYTHON.lower(program)

    def runner(self, program: ir.Program, artifact: str) -> BatchRunner:
        return PYTHON.runner(program, artifact)

    def space_runner(self, program: ir.Program, artifact: str) -> Space:
        return Space(program, self.corrupt)


def test_a_space_runner_is_checked_on_codes() -> None:
    program = load_program("sort.rasp", text=SORT).program
    report = verify(program, WithSpace(), exhaustive_max_len=4)
    assert (report.checked, report.mismatch_count, report.against) == (121, 0, "interpreter")


def test_codes_that_differ_are_reported_as_values() -> None:
    program = load_program("sort.rasp", text=SORT).program
    c = InterpreterSpace(program).value_sets.sets["sort"].index("c")

    def corrupt(start: int, batch: CodedBatch) -> None:
        for k in range(len(batch.errors)):
            if start + k == 41:  # the input ["a", "a", "a", "b"]
                batch.codes["sort"][k, 3] = c

    report = verify(program, WithSpace(corrupt), exhaustive_max_len=4)
    assert report.mismatch_count == 1
    (mismatch,) = report.mismatches
    assert mismatch.input == tuple(list(exhaustive_inputs(program, 4))[41])
    assert (mismatch.output, mismatch.expected) == ("sort", ["a", "a", "a", "b"])
    assert mismatch.got == ["a", "a", "a", "c"]


def test_rejections_on_both_sides_agree_and_one_sided_ones_are_mismatches() -> None:
    program = load_program("m.rasp", text=CAT_MEAN).program
    everything = list(exhaustive_inputs(program, 3))
    rejected = []
    for tokens in everything:
        try:
            interpret(program, [tokens])
        except RaspError:
            rejected.append(tokens)
    report = verify(program, WithSpace(), exhaustive_max_len=3)
    assert (report.checked, report.errors, report.mismatch_count) == (15, len(rejected), 0)

    def accept_all(start: int, batch: CodedBatch) -> None:
        batch.errors[:] = False

    report = verify(program, WithSpace(accept_all), exhaustive_max_len=3)
    assert report.mismatch_count == len(rejected)
    assert all(m.output == "" and isinstance(m.expected, str) for m in report.mismatches)
    assert "averages distinct values" in str(report.mismatches[0].expected)


def test_against_a_backend_compares_with_it_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    program = load_program("sort.rasp", text=SORT).program
    report = verify(program, PYTHON, samples=30, against=WithSpace())
    assert (report.checked, report.mismatch_count, report.against) == (30, 0, "spaced")

    def corrupt(start: int, batch: CodedBatch) -> None:
        batch.codes["sort"][:, 0] = 0  # code 0 is none

    report = verify(program, WithSpace(corrupt), exhaustive_max_len=2, against=WithSpace())
    assert (report.checked, report.mismatch_count) == (13, 12)  # every non-empty input
    assert report.mismatches[-1].expected == ["c", "c"]
    assert report.mismatches[-1].got == [None, "c"]


def test_two_space_runners_may_check_spaces_too_large_for_the_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = load_program("sort.rasp", text=SORT).program
    monkeypatch.setattr(verify_module, "MAX_INPUTS", 100)
    with pytest.raises(RaspError, match="121 inputs up to length 4 over 3 tokens, more than 100"):
        verify(program, WithSpace(), exhaustive_max_len=4)
    with pytest.raises(RaspError, match="more than 100"):
        verify(program, PYTHON, exhaustive_max_len=4, against=WithSpace())
    report = verify(program, WithSpace(), exhaustive_max_len=4, against=WithSpace())
    assert report.checked == input_count(3, 4) == 121


def test_the_interpreter_space_pads_ragged_slices() -> None:
    program = load_program("sort.rasp", text=SORT).program
    batch = InterpreterSpace(program)(0, 5)
    assert batch.lengths.tolist() == [0, 1, 1, 1, 2]
    assert batch.codes["sort"].shape == (5, 2)
    assert not batch.errors.any()
    bos = replace(program, header=replace(program.header, bos="<s>"))
    assert InterpreterSpace(bos)(0, 2).lengths.tolist() == [1, 2]
    assert np.array_equal(InterpreterSpace(program)(4, 5).codes["sort"], batch.codes["sort"][4:])
