"""Affine prefix sums, the construction for integer-affine machines that only accumulate (A the
identity, as Sum_All): a machine in, the bindings of one attention layer that sums, up to each
position, one number per input, and one map from the sum to the output.

With A = I the state is ``z_{t+1} = z_0 + sum_{s <= t} (B x_s + c)``, so the output before the
readout is ``C z_0 + d + sum_{s <= t} (C B x_s + C c)``: the one linear combination of the
inputs the output needs is ``w(x) = C B x + C c``, a number per token. A numerical aggregate
``aggregate(select(indices, indices, <=), w, reduce=sum)`` is the exact prefix sum of ``w``; a
map adds ``C z_0 + d`` and applies the readout: numerical (one linear write in the torch
backend) under the identity readout, categorical under a mod readout.
"""

from __future__ import annotations

from rasp_ir.api import RaspError, ir

from .affine import AffineMachine
from .affine_terms import dot, readout_expr, readout_text, step_weights, weight_expr
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
            hint="affine machines are lifted when A is the identity (prefix_sums) or nilpotent",
        )
    row = machine.C[0]
    weights = step_weights(machine, row)
    offset = dot(row, machine.initial) + machine.d[0]
    select = ir.Select("indices", "indices", ir.Comparison("<="))
    bindings = (
        ir.Binding(
            STEP,
            ir.Map(ir.Lambda(("x",), weight_expr(machine, row)), ("tokens",)),
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
            ir.Map(ir.Lambda(("s",), readout_expr(machine, ir.Param("s"), offset)), (TOTAL,)),
            "num" if machine.modulus is None else "cat",
            comment=f"{OUTPUT}: C z + d = {TOTAL} + {offset}" + readout_text(machine),
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
