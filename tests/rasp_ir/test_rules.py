"""Rule tables: a binding whose op kind has no rule is an error naming the op and who lowers it."""

from __future__ import annotations

import pytest

from rasp_ir.api import RaspError, ir, load_program, rule_for

PROGRAM = "%vocab {1, 2}\n%max_len 3\nw = selector_width(select(tokens, tokens, ==));\noutput w;\n"


def test_a_rule_is_found_by_the_bindings_op_kind() -> None:
    program = load_program("t.rasp", text=PROGRAM).program
    rules = {ir.Select: "select rule", ir.SelectorWidth: "width rule"}
    assert [rule_for(rules, b, "the test backend") for b in program.bindings] == [
        "select rule",
        "width rule",
    ]


def test_a_missing_rule_names_the_op_the_binding_and_the_backend() -> None:
    program = load_program("t.rasp", text=PROGRAM).program
    with pytest.raises(RaspError) as missing:
        rule_for({ir.Select: "select rule"}, program.binding("w"), "the test backend")
    diagnostic = missing.value.diagnostics[0]
    assert diagnostic.message == (
        "the test backend has no rule for selector_width (SelectorWidth), used by w"
    )
    assert diagnostic.span is not None and diagnostic.span.line == 3
    assert "add a rule for ir.SelectorWidth" in diagnostic.hint
