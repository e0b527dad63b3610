"""Error attribution: the wrong cells of labelled examples and the units on their paths."""

from __future__ import annotations

import pytest

from rasp_ir.check import check_program
from rasp_ir.reporting.attribution import attribute_errors, format_attribution
from rasp_ir.reporting.cone import Unit
from rasp_ir.reporting.view import LabelledExamples
from rasp_ir.syntax import parse_program
from rasp_ir.values import Value

# The task wants 1 exactly at "a"; the program's table also says 1 for "b": a bug in one row.
PROGRAM = """\
%vocab {"a", "b", "c"}
%max_len 4
%bos "<s>"
flag = lookup(tokens, {"a": 1, "b": 1, "c": 0}, default=0);
seen = select(flag, flag, ==);
same = selector_width(seen);
output flag;
"""


def labelled(inputs: list[str]) -> LabelledExamples:
    expected: list[tuple[Value, ...]] = [
        (None, *(1 if t == "a" else 0 for t in text)) for text in inputs
    ]
    return LabelledExamples(
        "test split", "flag", tuple(tuple(text) for text in inputs), tuple(expected)
    )


def test_the_wrong_row_of_a_table_is_blamed_for_every_error() -> None:
    checked = check_program(parse_program(PROGRAM, "<test>"))
    result = attribute_errors(checked, labelled(["ab", "cc", "bba", "a"]))
    assert result.scored == 8
    assert [(w.example, w.position, w.expected, w.got) for w in result.wrong] == [
        (0, 2, 0, 1),
        (2, 1, 0, 1),
        (2, 2, 0, 1),
    ]
    assert result.wrong[0].tokens == ("<s>", "a", "b")
    top = result.units[0]
    assert top.unit == Unit("embedding", "flag", "embedding", ("b",))
    assert (top.errors, top.cells, top.error_rate) == (3, 3, 1.0)
    assert len(result.units) == 1
    assert result.accuracy == pytest.approx(5 / 8)
    text = format_attribution(result)
    assert text.splitlines()[0] == (
        "test split: 4 inputs, 8 scored positions of flag, 3 wrong (accuracy 62.50%)"
    )
    assert '  input 0 ["<s>" "a" "b"] position 2: wants 0, got 1' in text
    assert text.splitlines()[-1] == '  embedding flag("b")  3/3  (100.0% wrong)'


def test_no_errors_means_nothing_to_attribute() -> None:
    checked = check_program(parse_program(PROGRAM, "<test>"))
    result = attribute_errors(checked, labelled(["a", "cc"]))
    assert result.wrong == () and result.units == ()
    assert format_attribution(result).endswith("no errors: nothing to attribute")


def test_labels_that_do_not_fit_the_program_are_a_bug_of_the_caller() -> None:
    checked = check_program(parse_program(PROGRAM, "<test>"))
    bad = LabelledExamples("t", "flag", (("a",),), ((None,),))
    with pytest.raises(ValueError, match="one expected value per position"):
        attribute_errors(checked, bad)
    with pytest.raises(ValueError, match="not an output"):
        attribute_errors(checked, LabelledExamples("t", "same", (), ()))
