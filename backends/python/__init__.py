"""The Python backend: a checked program in, a standalone, readable Python module out.

How a backend is built (this one, and the one in ``tests/plugin_pkg``, are the examples):

* **A rule per op kind, in one table.** :data:`emit.RULES` maps each IR node type (``Map``,
  ``Select``, ``Aggregate``, ...) to a small function that turns one binding into code, here by
  filling a jinja2 template of ``templates/``. A node type missing from the table is an error
  naming the op and the backend. A new backend copies a table and overrides what differs.
* **A feature declaration.** ``features`` is the subset of
  :data:`rasp_ir.registry.ALL_FEATURES` the backend lowers. Before lowering,
  :func:`rasp_ir.registry.require_supported` reports *every* construct of a program outside it
  at once, with its source location; ``rasp compile`` exits 1 on them.
* **An object with two entries.** ``lower(program)`` gives the artifact (here the module's
  source text); ``runner(program, artifact)`` gives a function from a batch of content-token
  lists to ``{output: [values per input]}``, which :func:`rasp_ir.verify.verify` compares with
  the reference interpreter.
* **Registration through an entry point**, exactly as a third-party plugin does it::

      [project.entry-points."rasp_ir.backends"]
      python = "rasp_ir.backends.python:BACKEND"

The emitted module imports only the standard library: ``run(tokens)`` gives
``{output name: one value per position}`` (BOS position included when the program declares
one; undefined values are ``None``, non-integer numbers ``Fraction``), ``run_batch(inputs)``
a list of those, and ``python module.py --chars hello`` prints what ``rasp run`` prints.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path, PurePath
from types import ModuleType
from typing import Any

from rasp_ir.api import (
    ALL_FEATURES,
    BatchRunner,
    Outputs,
    RaspError,
    Value,
    eliminate_dead_code,
    errors_only,
    infer_value_sets,
    ir,
    predicate_table,
    require_supported,
)

from .emit import RULES, emit_module

__all__ = ["BACKEND", "RULES", "PythonBackend", "load_module"]


class PythonBackend:
    """Programs to Python source (``lower``) and that source run on batches (``runner``)."""

    name = "python"
    description = "readable, standalone Python source (jinja2 templates, stdlib only)"
    features: frozenset[str] = ALL_FEATURES
    suffix = ".py"

    def lower(self, program: ir.Program) -> str:
        """The source text of a module computing ``program``.

        Raises :class:`RaspError` listing every unsupported construct, or the program's
        errors (value sets, predicates that fail on a reachable key and query).
        """
        require_supported(self, program)
        inferred = infer_value_sets(program)
        if errors_only(inferred.diagnostics):
            raise RaspError(errors_only(inferred.diagnostics))
        sets = inferred.sets
        for binding in program.bindings:  # predicates are checked on every reachable pair
            node = binding.node
            if isinstance(node, (ir.Select, ir.SelectClosest)):
                predicate_table(
                    node.predicate, sets[node.keys], sets[node.queries], span=binding.span
                )
        live = eliminate_dead_code(program)
        return emit_module(live, sets, source_name(program))

    def runner(self, program: ir.Program, artifact: Any) -> BatchRunner:
        """``artifact`` (source text from :meth:`lower`) loaded as a module, run on batches."""
        module = load_module(str(artifact), "rasp_emitted_" + str(abs(hash(artifact))))
        names = [n for n in dict.fromkeys(program.outputs) if not program.is_selector_name(n)]

        def run(inputs: Any) -> Outputs:
            results: list[dict[str, list[Value]]] = module.run_batch(inputs)
            return {name: [result[name] for result in results] for name in names}

        return run


def source_name(program: ir.Program) -> str:
    """The file name ``program`` was read from, or ``program.rasp``."""
    for binding in program.bindings:
        if binding.span is not None and not binding.span.file.startswith("<"):
            return PurePath(binding.span.file).name
    return "program.rasp"


def load_module(source: str, name: str) -> ModuleType:
    """Import module text written by :meth:`PythonBackend.lower` (through a temporary file,
    as any module is imported)."""
    with tempfile.TemporaryDirectory(prefix="rasp-python-") as folder:
        path = Path(folder) / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the emitted module from {path}")
        module = importlib.util.module_from_spec(spec)
        saved = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = saved
    return module


BACKEND = PythonBackend()
