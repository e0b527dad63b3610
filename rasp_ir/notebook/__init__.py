"""RASP in Jupyter and IPython (the ``notebook`` extra): ``%load_ext rasp_ir`` adds the
``%%rasp`` cell magic (:mod:`rasp_ir.notebook.magic`) and shows programs and evaluations as
HTML (:mod:`rasp_ir.notebook.html`) and as the REPL's text.

The renderers are attached with IPython's formatter registration rather than methods on the
hub's classes: the IR stays free of presentation code, and nothing changes for code that
never loads the extension.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp_ir import ir
from rasp_ir.binding_text import binding_table
from rasp_ir.interpreter import Evaluation
from rasp_ir.notebook.html import evaluation_html, program_html
from rasp_ir.notebook.magic import run_cell
from rasp_ir.printer import format_program


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%rasp`` and the HTML and text forms of programs and evaluations."""

    def rasp(line: str, cell: str) -> object:
        """Check the cell as a RASP program, bind it to NAME, run it on an input if given.

        %%rasp [NAME] [--chars STRING | --tokens TOKEN ...] [--vocab V] [--max-len N]
        """
        return run_cell(line, cell, ipython.user_ns)

    ipython.register_magic_function(rasp, magic_kind="cell", magic_name="rasp")
    formatters = ipython.display_formatter.formatters
    formatters["text/html"].for_type(ir.Program, program_html)
    formatters["text/html"].for_type(Evaluation, evaluation_html)
    formatters["text/plain"].for_type(ir.Program, _pretty(format_program))
    formatters["text/plain"].for_type(Evaluation, _pretty(_evaluation_text))


def _evaluation_text(evaluation: Evaluation) -> str:
    count = len(evaluation.lengths)
    tables = [binding_table(evaluation.program, evaluation, e) for e in range(count)]
    return "\n\n".join(tables)


def _pretty(render: Callable[[Any], str]) -> Callable[[Any, Any, bool], None]:
    """An IPython text/plain printer (``(obj, p, cycle)``) writing ``render(obj)``."""

    def printer(obj: Any, p: Any, cycle: bool) -> None:
        p.text(render(obj).rstrip("\n"))

    return printer
