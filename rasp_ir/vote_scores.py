"""The scores of a :class:`~rasp_ir.ir.PooledVote`: its score functions and the value sets (or the
observed value combinations) of its inputs in; diagnostics for a score that is not a number,
and the exact per-label scores of each combination as integers over one common denominator out.

A vote never tabulates its scores over every input combination (a pooled readout reads a dozen
variables of up to 64 values each); value-set inference checks them where the combinations are
few, and the interpreter evaluates them on the combinations an input batch holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.expr import ExprError, apply_lambda
from rasp_ir.ir import Binding, Lambda, PooledVote
from rasp_ir.term_columns import INT64_SAFE, Coded, evaluate_columns
from rasp_ir.values import Value, describe_value, is_number

CHECKED_COMBINATIONS = 200_000
SCORE_HINT = "make every score function return a number on every input it can get"


def vote_inputs(node: PooledVote) -> tuple[str, ...]:
    """The distinct inputs of a vote, in order of first appearance."""
    return tuple(dict.fromkeys(node.inputs))


def score_error(binding: Binding, label: Value, args: Sequence[Value], reason: str) -> Diagnostic:
    """The ``vote-score`` diagnostic: the score of ``label`` fails or is no number on ``args``."""
    shown = ", ".join(describe_value(a) for a in args)
    return Diagnostic(
        "vote-score",
        f"pooled_vote {binding.name!r}: the score of {describe_value(label)} on input "
        f"({shown}) {reason}",
        binding.span,
        SCORE_HINT,
    )


def check_vote(binding: Binding, sets: Mapping[str, tuple[Value, ...]]) -> list[Diagnostic]:
    """Problems of a vote found from its inputs' value sets: an input that can be undefined, and
    (where there are at most :data:`CHECKED_COMBINATIONS` input combinations) a score that
    fails or is not a number; larger votes are checked as they run."""
    node = binding.node
    assert isinstance(node, PooledVote)
    names = vote_inputs(node)
    undefined = [name for name in names if None in sets[name]]
    if undefined:
        return [
            Diagnostic(
                "vote-undefined",
                f"pooled_vote {binding.name!r} reads {undefined[0]!r}, which can be undefined "
                "(none)",
                binding.span,
                f"give {undefined[0]!r} a default so that it is defined everywhere",
            )
        ]
    sizes = [len(sets[name]) for name in names]
    rows = math.prod(sizes)
    if rows > CHECKED_COMBINATIONS:
        return []
    grid = np.indices(sizes).reshape(len(sizes), rows)
    columns = {name: Coded(grid[i], sets[name]) for i, name in enumerate(names)}
    try:
        scaled_scores(binding, columns, rows, 1)
    except RaspError as error:
        return list(error.diagnostics)
    return []


def fn_value(fn: Lambda, args: tuple[Value, ...]) -> Value | ExprError:
    """``fn(*args)``, or the error it raises."""
    try:
        return apply_lambda(fn, args)
    except ExprError as error:
        return error


def _score_problem(value: Value | ExprError) -> str | None:
    if isinstance(value, ExprError):
        return f"fails: {value}"
    if not is_number(value):
        return f"is {describe_value(value)}, not a number"
    return None


def scaled_scores(
    binding: Binding, columns: Mapping[str, Coded], rows: int, positions: int
) -> npt.NDArray[Any]:
    """Every label's score on each of ``rows`` input combinations (``columns``: one column of
    codes per distinct input), as numerators over one denominator: an array rows x labels
    (int64 while a sum of ``positions`` of them stays exact, Python ints beyond). Raises
    :class:`RaspError` (``vote-score``) where a score fails."""
    node = binding.node
    assert isinstance(node, PooledVote)
    per_label = [_label_scores(binding, columns, rows, i) for i in range(len(node.labels))]
    denominator = math.lcm(*(x.denominator for _, values in per_label for x in values), 1)
    numerators = [[int(x * denominator) for x in values] for _, values in per_label]
    bound = max((abs(n) for label in numerators for n in label), default=0)
    dtype: type = np.int64 if bound * max(positions, 1) < INT64_SAFE else object
    table: npt.NDArray[Any] = np.empty((rows, len(node.labels)), dtype=dtype)
    for c, ((codes, _), label) in enumerate(zip(per_label, numerators, strict=True)):
        table[:, c] = np.array(label, dtype=dtype)[codes] if rows else []
    return table


def _label_scores(
    binding: Binding, columns: Mapping[str, Coded], rows: int, label: int
) -> tuple[npt.NDArray[np.int64], list[Fraction]]:
    """The exact scores of one label on every row, as codes into their distinct values:
    column-wise where the function's form is covered, else one row at a time (which also names
    a failing row)."""
    node = binding.node
    assert isinstance(node, PooledVote)
    fn = node.scores[label]
    params = {p: columns[name] for p, name in zip(fn.params, node.inputs, strict=True)}
    try:
        coded = evaluate_columns(fn.body, params)
    except ExprError:
        coded = None
    if coded is not None and all(is_number(v) for v in coded.values):
        return coded.codes, [Fraction(v) for v in coded.values]  # type: ignore[arg-type]
    scores = []
    for row in range(rows):
        by_name = {name: column.values[column.codes[row]] for name, column in columns.items()}
        args = tuple(by_name[name] for name in node.inputs)
        value = fn_value(fn, args)
        problem = _score_problem(value)
        if problem is not None:
            raise RaspError([score_error(binding, node.labels[label], args, problem)])
        scores.append(Fraction(value))  # type: ignore[arg-type]
    return np.arange(rows, dtype=np.int64), scores
