"""The torch backend under ``rasp fuzz``: a seeded run of its own, and the disagreements the
fuzzer found on main, each as the shrunk program it wrote.

The findings are strict xfails: each fails today (the test proves the bug) and turns into an
unexpected pass, failing the suite, once the backend is fixed; then drop its mark. Issue 18's
select_closest + %bos + two-argument predicate bug is fixed separately and not repeated here.
"""

from __future__ import annotations

import warnings

import pytest

from rasp_ir.backends.torch import BACKEND
from rasp_ir.check import load_program
from rasp_ir.fuzz.runner import Budget, fuzz
from rasp_ir.verify import verify

# Shrunk by rasp fuzz (seeds 0, 1 and 2) from random programs.
CLOSEST_SUM = """\
%vocab {"ab"}
%max_len 3
m_0 = select_closest(length, length, ==);
h_2 = aggregate(m_0, length, default=0, reduce=sum);
output h_2;
"""
NUMERIC_DEFAULT_NONE = """\
%vocab chars "z"
%max_len 1
s_1 = select(indices, indices, true);
m_3 : num = 0;
v2_5 : num = aggregate(s_1, m_3, default=none, reduce=max);
output v2_5;
"""
MEAN_OF_NONE = """\
%vocab {9}
%max_len 1
v2_0 = select_closest(indices, indices, ==);
a_2 = none;
s_3 = aggregate(v2_0, a_2);
output s_3;
"""
EMPTY_INPUT_WITH_BOS = """\
%vocab chars "z"
%max_len 1
%bos "<s>"
sel_0 = select(indices, length, ==);
m_1 = aggregate(sel_0, indices, default=0);
x_3 = select(m_1, length, true);
m_5 = aggregate(x_3, length);
output m_5;
"""


@pytest.mark.xfail(strict=True, reason="issue 18 (rasp fuzz): torch sums over select_closest")
def test_a_sum_over_select_closest_sums_the_one_selected_value() -> None:
    _agrees(CLOSEST_SUM)


@pytest.mark.xfail(strict=True, reason="issue 18 (rasp fuzz): torch crashes, float(None)")
def test_a_numerical_aggregate_with_default_none_runs() -> None:
    _agrees(NUMERIC_DEFAULT_NONE)


@pytest.mark.xfail(strict=True, reason="issue 18 (rasp fuzz): torch crashes, IndexError")
def test_an_aggregate_of_the_constant_none_compiles() -> None:
    _agrees(MEAN_OF_NONE)


@pytest.mark.xfail(strict=True, reason="issue 18 (rasp fuzz): torch gives null, BOS only")
def test_a_select_on_a_default_over_the_bos_position_alone_keeps_its_value() -> None:
    _agrees(EMPTY_INPUT_WITH_BOS)


def _agrees(text: str) -> None:
    program = load_program(text=text).program
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = verify(program, BACKEND, exhaustive_max_len=program.header.max_len)
    assert report.ok, report.mismatches[:3]


def test_a_seeded_fuzz_run_finds_nothing() -> None:
    """Cases 0-39 of seed 0: every one torch supports agrees with the interpreter. (Case 77
    of seed 0 is the first to hit a bug above.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = fuzz(0, [BACKEND], Budget(seconds=120, cases=40, shrink_seconds=5))
    assert report.cases == 40 and report.ran["torch"] > 30
    assert report.findings == []
