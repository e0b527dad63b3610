"""Expression resolution cases beyond the golden files."""

import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax import parse_program

HEADER = '%vocab {"a", "b"}\n%max_len 8\n'


def test_a_def_parameter_named_like_a_builtin_cannot_be_called() -> None:
    text = HEADER + "def f(max) { return max(1, 2); }\nx = f(tokens);\noutput x;\n"
    with pytest.raises(RaspError) as raised:
        parse_program(text, "t.rasp")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "type"
    assert diagnostic.message == "max is a parameter of this def, not the built-in max(...)"
    assert diagnostic.span is not None
    assert diagnostic.span.location() == "t.rasp:3:21"


def test_a_def_parameter_named_like_a_builtin_is_still_a_value() -> None:
    text = HEADER + "def f(min) { return map(fn(t) -> t, min); }\nx = f(tokens);\noutput x;\n"
    program = parse_program(text, "t.rasp")
    assert [b.name for b in program.bindings] == ["x"]
