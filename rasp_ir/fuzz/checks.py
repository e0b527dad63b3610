"""What ``rasp fuzz`` compares with the interpreter: every installed backend, plus two checks
shaped like backends so that one comparison (:func:`~rasp_ir.verify.verify_inputs`) serves all:

* ``naive``: the independent naive evaluator (:mod:`rasp_ir.naive`), one input at a time;
* ``macros``: the program rewritten with ``def`` macros and an ``import``
  (:mod:`rasp_ir.fuzz.surface`), parsed back and interpreted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.surface import surface
from rasp_ir.interpreter import interpret
from rasp_ir.naive import NaiveEvalError, naive_outputs
from rasp_ir.registry import ALL_FEATURES, BACKEND_GROUP, Backend, BatchRunner, installed
from rasp_ir.registry import load_backend as load_installed_backend
from rasp_ir.syntax import parse_file
from rasp_ir.values import Value


class SurfaceSyntaxError(Exception):
    """The rewritten program did not parse: a bug in macros or imports, not in the program."""


class NaiveCheck:
    """The naive evaluator as a backend: the artifact is the program itself."""

    name = "naive"
    description = "the independent naive evaluator (rasp_ir/naive.py)"
    features = ALL_FEATURES

    def lower(self, program: ir.Program) -> ir.Program:
        """Nothing to lower."""
        return program

    def runner(self, program: ir.Program, artifact: ir.Program) -> BatchRunner:
        """Each input evaluated on its own; an evaluation error raises."""

        def run(inputs: Sequence[Sequence[Value]]) -> dict[str, list[list[Value]]]:
            outputs: dict[str, list[list[Value]]] = {name: [] for name in artifact.outputs}
            for tokens in inputs:
                try:
                    values = naive_outputs(artifact, tokens)
                except NaiveEvalError as error:
                    raise ValueError(str(error)) from None
                for name in artifact.outputs:
                    outputs[name].append(values[name])
            return outputs

        return run


class MacrosCheck:
    """Macros and imports as a backend: the artifact is the rewritten text parsed back."""

    name = "macros"
    description = "the program rewritten with def macros and an import, parsed back"
    features = ALL_FEATURES

    def lower(self, program: ir.Program) -> ir.Program:
        """The program of the rewritten text (:class:`SurfaceSyntaxError` if it is refused)."""
        with tempfile.TemporaryDirectory(prefix="rasp-fuzz-") as folder:
            main = surface(program).write(Path(folder))
            try:
                return parse_file(main)
            except RaspError as error:
                raise SurfaceSyntaxError(str(error)) from None

    def runner(self, program: ir.Program, artifact: ir.Program) -> BatchRunner:
        """The interpreter on the parsed-back program."""
        return lambda inputs: interpret(artifact, inputs).outputs()


CHECKS: dict[str, Backend] = {"naive": NaiveCheck(), "macros": MacrosCheck()}


def check_names() -> list[str]:
    """Every installed backend, then the two built-in checks."""
    return [*sorted(installed(BACKEND_GROUP)), *CHECKS]


def load_check(name: str) -> Backend:
    """The built-in check or the installed backend called ``name``."""
    return CHECKS[name] if name in CHECKS else load_installed_backend(name)
