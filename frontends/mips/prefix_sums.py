"""Affine prefix sums, the construction for integer-affine machines that only accumulate (A the
identity, as Sum_All): a machine in, the bindings of one attention layer that sums, up to each
position, one number per input, and one map from the sum to the output.

With A = I the state is ``z_{t+1} = z_0 + sum_{s <= t} (B x_s + c)``, so the output before the
readout is ``C z_0 + d + sum_{s <= t} (C B x_s + C c)``: the one linear combination of the
inputs the output needs is ``w(x) = C B x + C c``, a number per token. A numerical aggregate
``aggregate(select(indices, indices, <=), w, reduce=sum)`` is the exact prefix sum of ``w``; a
map adds ``C z_0 + d`` and applies the readout.
"""

from __future__ import annotations

from collections.abc import Sequence

from rasp_ir.api import RaspError, ir

from .affine import AffineMachine
from .construction import OUTPUT, Construction

PREFIX_SUMS = "prefix_sums"
STEP = "step"
TOTAL = "total"


def prefix_sums(machine: AffineMachine) -> Construction:
    """The prefix-sums construction of ``machine``; a :class:`RaspError` when A is not the
    identity."""
    if not machine.is_identity():
        raise RaspError.single(
            "mips-construction",
            f"the {PREFIX_SUMS} construction needs A = I (a state that only accumulates); "
            f"this machine's A is {[list(row) for row in machine.A]}",
            hint="affine machines are lifted only when A is the identity",
        )
    weights = step_weights(machine)
    offset = _dot(machine.C[0], machine.initial) + machine.d[0]
    select = ir.Select("indices", "indices", ir.Comparison("<="))
    bindings = (
        ir.Binding(
            STEP,
            ir.Map(ir.Lambda(("x",), _weight_expr(machine, weights)), ("tokens",)),
            "num",
            comment=f"{STEP}: what each input adds to the output, C B x + C c",
        ),
        ir.Binding(f"{TOTAL}__select", select, None),
        ir.Binding(
            TOTAL,
            ir.Aggregate(f"{TOTAL}__select", STEP, reduce="sum", default=0),
            "num",
            comment=f"{TOTAL}: the exact sum of {STEP} over the inputs up to here",
        ),
        ir.Binding(
            OUTPUT,
            ir.Map(ir.Lambda(("s",), _readout_expr(machine, offset)), (TOTAL,)),
            "cat",
            comment=f"{OUTPUT}: C z + d = {TOTAL} + {offset}" + _readout_text(machine),
        ),
    )
    return Construction(
        name=PREFIX_SUMS,
        bindings=bindings,
        attention_layers=1,
        table_entries=sum(1 for w in weights if w) if machine.pairs else 0,
        summary=(
            "Construction: affine prefix sums. A is the identity, so the state is the initial "
            "state plus the sum of B x + c over the inputs so far. One attention layer sums, "
            "up to each position, the number C B x + C c of each input (a numerical aggregate, "
            "exact), and one map adds C z_0 + d"
            + (f" and reduces mod {machine.modulus}." if machine.modulus is not None else ".")
        ),
        details={
            "step_weights": {machine.describe_symbol(a): w for a, w in enumerate(weights)},
            "offset": offset,
            "readout": "identity" if machine.modulus is None else f"mod {machine.modulus}",
        },
    )


def linear_form(machine: AffineMachine) -> tuple[list[int], int]:
    """``C B`` (one coefficient per input component) and ``C c``."""
    row = machine.C[0]
    columns = zip(*machine.B, strict=True)
    return [_dot(row, column) for column in columns], _dot(row, machine.c)


def step_weights(machine: AffineMachine) -> list[int]:
    """``C B x + C c`` for each symbol x, in alphabet order."""
    coefficients, constant = linear_form(machine)
    vectors = [s if isinstance(s, tuple) else (s,) for s in machine.alphabet]
    return [_dot(coefficients, v) + constant for v in vectors]


def _dot(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _weight_expr(machine: AffineMachine, weights: list[int]) -> ir.Expr:
    """``w(x)`` as an expression of the token ``x``: ``k * x + e`` for integer alphabets (exact
    for every integer), a lookup of the pair's code otherwise."""
    x = ir.Param("x")
    if machine.pairs:
        entries = tuple(((t,), w) for t, w in zip(machine.tokens, weights, strict=True) if w)
        return ir.Lookup((x,), entries, ir.Const(0))
    (slope,), intercept = linear_form(machine)
    expr: ir.Expr = x if slope == 1 else ir.Binary("*", ir.Const(slope), x)
    return expr if intercept == 0 else ir.Binary("+", expr, ir.Const(intercept))


def _readout_expr(machine: AffineMachine, offset: int) -> ir.Expr:
    """``(s + offset)``, reduced mod the modulus when there is one."""
    s = ir.Param("s")
    value: ir.Expr = s if offset == 0 else ir.Binary("+", s, ir.Const(offset))
    if machine.modulus is None:
        return value
    return ir.Binary("%", value, ir.Const(machine.modulus))


def _readout_text(machine: AffineMachine) -> str:
    return "" if machine.modulus is None else f", mod {machine.modulus}"
