"""Every example program: the emitted module equals the interpreter, exhaustively on short inputs
over a reduced vocabulary and on random inputs of the full length."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir import ir
from rasp_ir.backends.python import BACKEND
from rasp_ir.check import load_program
from rasp_ir.syntax import HeaderOverrides
from rasp_ir.values import Value, value_key
from rasp_ir.verify import input_count, verify

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.rasp"))
SMALL_VOCAB = 4
SHORT = 5


def _literals(expr: ir.Expr) -> list[Value]:
    if isinstance(expr, ir.Const):
        return [expr.value]
    if isinstance(expr, ir.Member):
        return [*expr.options, *_literals(expr.element)]
    if isinstance(expr, ir.Lookup):
        keys = [v for key, _ in expr.entries for v in key]
        return keys + [v for k in expr.keys for v in _literals(k)] + _literals(expr.default)
    fields = ("operand", "left", "right", "cond", "then", "orelse")
    children = [getattr(expr, f, None) for f in fields]
    found = [v for child in children if child is not None for v in _literals(child)]
    return found + [v for arg in getattr(expr, "args", ()) for v in _literals(arg)]


def reduced_vocab(program: ir.Program) -> tuple[Value, ...]:
    """At most SMALL_VOCAB tokens: those the program names first, then the first declared."""
    mentioned: list[Value] = []
    for binding in program.bindings:
        node = binding.node
        if isinstance(node, ir.Map):
            mentioned += _literals(node.fn.body)
        if isinstance(node, (ir.Select, ir.SelectClosest)) and isinstance(
            node.predicate, ir.Lambda
        ):
            mentioned += _literals(node.predicate.body)
    vocab = {value_key(v): v for v in program.header.vocab}
    chosen = {value_key(v): v for v in mentioned if value_key(v) in vocab}
    for key, token in vocab.items():
        chosen.setdefault(key, token)
    return tuple(chosen.values())[:SMALL_VOCAB]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_short_input_over_a_small_vocabulary(path: Path) -> None:
    program = load_program(path).program
    overrides = HeaderOverrides(vocab=reduced_vocab(program), max_len=SHORT)
    small = load_program(path, overrides=overrides).program
    report = verify(small, BACKEND, exhaustive_max_len=SHORT)
    assert report.mismatches == []
    assert report.checked == input_count(len(small.header.vocab), SHORT)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_random_inputs_of_the_full_length(path: Path) -> None:
    program = load_program(path).program
    report = verify(program, BACKEND, samples=2000, seed=1)
    assert report.mismatches == []
    assert report.checked == 2000
