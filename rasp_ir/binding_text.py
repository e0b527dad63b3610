"""An :class:`~rasp_ir.interpreter.Evaluation` in, the REPL's text for its bindings out: an
s-op as ``name = [values]``, a selector as ``name =`` over a 0/1 matrix (rows: queries,
columns: keys, both labelled by the tokens). The REPL, the notebook magic and anything else
that shows a binding's values use this one rendering."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rasp_ir import ir
from rasp_ir.interpreter import Evaluation
from rasp_ir.values import Value, format_value


def show_binding(
    program: ir.Program, evaluation: Evaluation, name: str, label: str, example: int = 0
) -> str:
    """``label = [..]`` for an s-op, ``label =`` and a 0/1 matrix for a selector, on input
    number ``example`` of the batch; without ``label`` only the values."""
    lead = f"{label} = " if label else ""
    if is_sop(program, name):
        return lead + sop_text(evaluation, name, example)
    tokens = evaluation.values("tokens")[example]
    matrix = evaluation.selector(name)[example][: len(tokens), : len(tokens)]
    return (lead.rstrip() + "\n" if lead else "") + selector_matrix(tokens, matrix)


def binding_table(program: ir.Program, evaluation: Evaluation, example: int = 0) -> str:
    """Every binding a person wrote (derived ``x__...`` names left out), in program order,
    after the input's ``tokens``: one :func:`show_binding` each."""
    names = ["tokens", *(b.name for b in program.bindings if "__" not in b.name)]
    return "\n".join(show_binding(program, evaluation, n, n, example) for n in names)


def is_sop(program: ir.Program, name: str) -> bool:
    """True for a primitive or an s-op binding (not a selector)."""
    return name in ir.PRIMITIVES or not program.is_selector_name(name)


def sop_text(evaluation: Evaluation, name: str, example: int = 0) -> str:
    """The values of an s-op on one input: ``[1, 2, "a", none]``."""
    return "[" + ", ".join(format_value(v) for v in evaluation.values(name)[example]) + "]"


def selector_matrix(tokens: Sequence[Value], matrix: npt.NDArray[np.bool_]) -> str:
    """A selector as 0/1 rows (queries) under columns (keys), both labelled by ``tokens``."""
    labels = [token_text(v) for v in tokens]
    width = max((len(label) for label in labels), default=1)
    rows = [" " * width + "  " + " ".join(label.ljust(width) for label in labels).rstrip()]
    for label, row in zip(labels, matrix.tolist(), strict=True):
        cells = " ".join(("1" if cell else "0").ljust(width) for cell in row)
        rows.append(f"{label.ljust(width)}  {cells}".rstrip())
    return "\n".join(rows)


def token_text(v: Value) -> str:
    """A token as typed on a command line: strings bare unless that would be ambiguous."""
    if isinstance(v, str) and v and not any(c.isspace() for c in v):
        return v
    return format_value(v)
