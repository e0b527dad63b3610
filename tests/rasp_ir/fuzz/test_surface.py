"""Programs rewritten with def macros and an import parse back to programs with the same
outputs."""

from __future__ import annotations

from pathlib import Path

from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.choices import SeededChooser
from rasp_ir.fuzz.programs import program
from rasp_ir.fuzz.surface import LIBRARY, surface
from rasp_ir.interpreter import interpret
from rasp_ir.ir import Program
from rasp_ir.syntax import parse_file
from rasp_ir.values import Value
from rasp_ir.verify import exhaustive_inputs


def test_rewritten_programs_use_macros_and_imports_and_compute_the_same(tmp_path: Path) -> None:
    macros = imports = 0
    for seed in range(30):
        drawn = program(SeededChooser(seed), annotate=False)
        rewritten = surface(drawn)
        macros += "def m_" in rewritten.main + rewritten.library
        imports += bool(rewritten.library)
        folder = tmp_path / str(seed)
        folder.mkdir()
        parsed = parse_file(rewritten.write(folder))
        assert (folder / LIBRARY).exists() == bool(rewritten.library)
        inputs = list(exhaustive_inputs(drawn, min(drawn.header.max_len, 2)))
        assert _outcome(parsed, inputs) == _outcome(drawn, inputs), rewritten.main
    assert macros > 10 and imports > 10


def test_the_rewriting_is_a_function_of_the_program() -> None:
    drawn = program(SeededChooser(3))
    assert surface(drawn) == surface(drawn)


def _outcome(drawn: Program, inputs: list[list[Value]]) -> str:
    """The outputs on ``inputs`` (or the kind of error), as text that tells True from 1."""
    try:
        return repr(interpret(drawn, inputs).outputs())
    except RaspError as error:
        return error.diagnostics[0].code
