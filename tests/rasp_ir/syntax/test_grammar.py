"""Programs generated from the grammar itself: whatever the parser accepts, checking it ends in
a program or in diagnostics, never in another exception (the grammar-level fuzz test)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark

from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax.parser_tables import build_ir_parser


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(build_ir_parser()))  # the grammar's rules: stored tables do not keep them
def test_grammar_generated_programs_never_raise_anything_but_rasp_error(text: str) -> None:
    try:
        load_program(text=text)
    except RaspError as error:
        assert error.diagnostics
