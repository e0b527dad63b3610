"""The triton backend's own behaviour: every reduction and selector shape equal to the
interpreter, rejected inputs, the input space it enumerates, and what it refuses."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.api import (
    InterpreterSpace,
    RaspError,
    exhaustive_inputs,
    input_count,
    interpret,
    load_program,
    verify,
)
from rasp_ir.backends.triton import BACKEND, TritonBackend, plan, space
from rasp_ir.kernels.program_exec import use_kernels

REDUCTIONS = """\
%vocab {0, 1, 2, 3}
%max_len 5
%causal
prefix = select(indices, indices, <=);
number : num = map(fn(x) -> x, tokens);
total = aggregate(prefix, number, reduce=sum, default=0);
mean : num = aggregate(prefix, number, default=0);
high = aggregate(select(tokens, tokens, !=), tokens, reduce=max, default=-1);
low = aggregate(not select(tokens, 2, >), indices, reduce=min, default=9);
pick = aggregate(select_closest(tokens, tokens, ==), indices);
width = selector_width(prefix and not select(tokens, tokens, ==));
output total, mean, high, low, pick, width;
"""
BOS = """\
%vocab {"a", "b", "c"}
%max_len 4
%bos "<s>"
nearest = select_closest(tokens, tokens, fn(k, q) -> k != q and k != "<s>");
copied = aggregate(nearest, tokens);
position : num = map(fn(i) -> i, indices);
share : num = aggregate(select(tokens, "a", ==), position, default=0);
output copied, share;
"""
CAT_MEAN = """\
%vocab {"a", "b"}
%max_len 3
same = aggregate(select(tokens, tokens, ==), indices);
output same;
"""
UNDEFINED = """\
%vocab {0, 1}
%max_len 3
maybe = map(fn(x) -> 1 if x == 1 else none, tokens);
seen = selector_width(select(maybe, maybe, ==));
output seen;
"""


GATHERS = """\
%vocab {0, 1, 2}
%max_len 5
back = select(indices, indices - 1, ==);
number : num = map(fn(x) -> x, tokens);
previous = aggregate(back, tokens, default=7);
total = aggregate(back, number, reduce=sum, default=0);
third = aggregate(select(indices, 2, ==), tokens, reduce=min, default=9);
width = selector_width(back);
output previous, total, third, width;
"""


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_selectors_of_one_key_by_position_are_gathers(causal: bool) -> None:
    text = GATHERS.replace("%max_len 5", "%max_len 5\n%causal" if causal else "%max_len 5")
    program = load_program("p.rasp", text=text).program
    steps = [s for s in BACKEND.lower(program).steps if isinstance(s, plan.ReduceStep)]
    assert all(s.key_positions is not None for s in steps)
    report = verify(program, BACKEND, exhaustive_max_len=5, samples=100)
    assert (report.mismatch_count, report.errors) == (0, 0)
    sort = load_program(Path(__file__).parents[3] / "examples" / "sort.rasp").program
    assert all(
        s.key_positions is None for s in BACKEND.lower(sort).steps if isinstance(s, plan.ReduceStep)
    )


@pytest.mark.parametrize("table_limit", [plan.NUMBER_TABLE_LIMIT, 0], ids=["table", "search"])
@pytest.mark.parametrize("text", [REDUCTIONS, BOS], ids=["reductions", "bos"])
def test_every_reduction_equals_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, text: str, table_limit: int
) -> None:
    # Exact numerical results come from a (count, total) table, or past its limit a search.
    monkeypatch.setattr(plan, "NUMBER_TABLE_LIMIT", table_limit)
    program = load_program("p.rasp", text=text).program
    steps = BACKEND.lower(program).steps
    tables = [s.numbers.table for s in steps if isinstance(s, plan.ReduceStep) and s.numbers]
    assert tables and all((table is not None) == (table_limit > 0) for table in tables)
    report = verify(program, BACKEND, exhaustive_max_len=program.header.max_len, samples=200)
    assert (report.mismatch_count, report.errors) == (0, 0)
    assert report.checked == input_count(len(program.header.vocab), program.header.max_len) + 200


@pytest.mark.parametrize("text", [CAT_MEAN, UNDEFINED], ids=["cat-mean", "undefined-select"])
def test_inputs_the_interpreter_rejects_are_rejected(text: str) -> None:
    program = load_program("p.rasp", text=text).program
    everything = list(exhaustive_inputs(program, 3))
    rejected = 0
    for tokens in everything:
        try:
            interpret(program, [tokens])
        except RaspError:
            rejected += 1
    assert rejected > 0
    report = verify(program, BACKEND, exhaustive_max_len=3)
    assert (report.checked, report.errors, report.mismatch_count) == (len(everything), rejected, 0)


def test_the_batch_runner_names_the_rejected_input() -> None:
    program = load_program("p.rasp", text=CAT_MEAN).program
    run = BACKEND.runner(program, BACKEND.lower(program))
    assert run([["a", "b"]]) == {"same": [[0, 1]]}
    with pytest.raises(RaspError) as error:
        run([["a", "b"], ["a", "b", "a"]])
    assert error.value.diagnostics[0].message == (
        'example 1 ["a", "b", "a"]: categorical aggregate \'same\' averages distinct values '
        "in this input"
    )
    with pytest.raises(RaspError, match="outside the vocabulary"):
        run([["z"]])
    with pytest.raises(RaspError, match="more than max_len 3"):
        run([["a"] * 4])


def test_tokens_are_matched_as_values_not_as_python_objects() -> None:
    text = (
        "%vocab {0, 1, 2}\n%max_len 3\nw = selector_width(select(tokens, tokens, ==));\noutput w;\n"
    )
    program = load_program("p.rasp", text=text).program
    run = BACKEND.runner(program, BACKEND.lower(program))
    assert run([[Fraction(2), 1, 2], [0]]) == {"w": [[2, 1, 2], [1]]}
    for outside in (True, 3, "0"):
        with pytest.raises(RaspError, match="outside the vocabulary"):
            run([[0], [outside]])


@pytest.mark.parametrize("cycle_limit", [9, space.CYCLE_LIMIT], ids=["computed", "tabulated"])
def test_the_space_runner_enumerates_inputs_in_order_with_bos(
    monkeypatch: pytest.MonkeyPatch, cycle_limit: int
) -> None:
    monkeypatch.setattr(space, "CYCLE_LIMIT", cycle_limit)  # 9: two positions from the table
    program = load_program("p.rasp", text=BOS).program
    runner = BACKEND.space_runner(program, BACKEND.lower(program))
    sets = BACKEND.lower(program).value_sets["tokens"]
    decoded = []
    for length, first, count in runner.parts(0, input_count(3, 4)):
        tokens = runner.tokens(length, first, count)
        assert tokens.shape == (length + 1, count)
        assert set(tokens[0].tolist()) == {sets.index("<s>")}
        decoded += [[sets[c] for c in column[1:]] for column in tokens.t().tolist()]
    assert decoded == list(exhaustive_inputs(program, 4))


@pytest.mark.parametrize("cycle_limit", [4, space.CYCLE_LIMIT], ids=["computed", "tabulated"])
def test_slices_across_lengths_equal_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, cycle_limit: int
) -> None:
    monkeypatch.setattr(space, "CYCLE_LIMIT", cycle_limit)
    program = load_program("p.rasp", text=REDUCTIONS).program
    runner = BACKEND.space_runner(program, BACKEND.lower(program))
    reference = InterpreterSpace(program)
    for start, stop in [(0, 1), (3, 90), (90, 1365), (700, 701), (1364, 1365)]:
        want, have = reference(start, stop), runner(start, stop)
        np.testing.assert_array_equal(have.lengths, want.lengths)
        np.testing.assert_array_equal(have.errors, want.errors)
        assert have.codes.keys() == want.codes.keys()
        inside = np.arange(have.codes["low"].shape[1])[None, :] < want.lengths[:, None]
        for name, codes in want.codes.items():
            assert have.codes[name].shape == codes.shape
            np.testing.assert_array_equal(have.codes[name][inside], codes[inside], err_msg=name)


def test_maps_too_large_and_selectors_too_wide_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    program = load_program("p.rasp", text=REDUCTIONS).program
    monkeypatch.setattr(plan, "LEAF_LIMIT", 1)
    with pytest.raises(RaspError) as error:
        BACKEND.lower(program)
    assert error.value.diagnostics[0].message == (
        "selector 'width__and' combines 2 selects, more than the triton backend combines (1)"
    )
    monkeypatch.setattr(plan, "TABLE_LIMIT", 3)
    text = (
        '%vocab {"a", "b"}\n%max_len 2\nx = map(fn(a, b) -> a == b, tokens, indices);\noutput x;\n'
    )
    with pytest.raises(RaspError, match="map 'x' has 4 input combinations, more than the triton"):
        BACKEND.lower(load_program("p.rasp", text=text).program)


def test_the_kernels_run_only_on_cuda_unless_asked_for() -> None:
    assert not use_kernels(torch.device("cpu"), "auto")
    assert use_kernels(torch.device("cpu"), "triton")
    assert not use_kernels(torch.device("cuda"), "torch")
    assert use_kernels(torch.device("cuda"), "auto")
    assert TritonBackend().impl == "auto"
