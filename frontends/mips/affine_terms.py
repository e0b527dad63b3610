"""The IR terms affine constructions share: a machine and a row vector (``C``, ``C A^j``) in,
the number each input contributes through it and the readout, as IR expressions, out."""

from __future__ import annotations

from collections.abc import Sequence

from rasp_ir.api import ir

from .affine import AffineMachine


def dot(a: Sequence[int], b: Sequence[int]) -> int:
    """The dot product of two integer vectors."""
    return sum(x * y for x, y in zip(a, b, strict=True))


def linear_form(machine: AffineMachine, row: Sequence[int]) -> tuple[list[int], int]:
    """``row B`` (one coefficient per input component) and ``row c``, for a row vector of the
    state's dimension (``C``, ``C A^j``)."""
    columns = zip(*machine.B, strict=True)
    return [dot(row, column) for column in columns], dot(row, machine.c)


def step_weights(machine: AffineMachine, row: Sequence[int]) -> list[int]:
    """``row (B x + c)`` for each symbol x, in alphabet order."""
    coefficients, constant = linear_form(machine, row)
    vectors = [s if isinstance(s, tuple) else (s,) for s in machine.alphabet]
    return [dot(coefficients, v) + constant for v in vectors]


def weight_expr(machine: AffineMachine, row: Sequence[int], shift: int = 0) -> ir.Expr:
    """``row (B x + c) + shift`` as an expression of the token ``x``: ``k * x + e`` for integer
    alphabets (exact for every integer), a lookup of the pair's code otherwise."""
    x = ir.Param("x")
    if machine.pairs:
        weights = [w + shift for w in step_weights(machine, row)]
        entries = tuple(((t,), w) for t, w in zip(machine.tokens, weights, strict=True) if w)
        return ir.Lookup((x,), entries, ir.Const(0))
    (slope,), constant = linear_form(machine, row)
    intercept = constant + shift
    expr: ir.Expr = x if slope == 1 else ir.Binary("*", ir.Const(slope), x)
    return expr if intercept == 0 else ir.Binary("+", expr, ir.Const(intercept))


def readout_expr(machine: AffineMachine, total: ir.Expr, offset: int) -> ir.Expr:
    """``total + offset``, reduced mod the machine's modulus when there is one."""
    value: ir.Expr = total if offset == 0 else ir.Binary("+", total, ir.Const(offset))
    if machine.modulus is None:
        return value
    return ir.Binary("%", value, ir.Const(machine.modulus))


def readout_text(machine: AffineMachine) -> str:
    """``, mod k`` under a mod readout, for comments."""
    return "" if machine.modulus is None else f", mod {machine.modulus}"
