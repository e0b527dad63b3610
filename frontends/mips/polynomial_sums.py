"""Polynomial sums, the construction for integer-affine machines whose A is unipotent
(``N = A - I`` nilpotent, ``N^k = 0``, as the Newton tasks' position that accumulates a velocity
that accumulates the force): a machine in, the bindings of nested numerical prefix sums (one
attention layer each) and one map from the last sum to the output.

Folding the initial state into the first input (``e_0 = B x_0 + c + A z_0``, ``e_j = B x_j + c``
after) gives ``z_{t+1} = sum_{j <= t} A^(t-j) e_j`` with ``A^m = sum_{i<k} C(m, i) N^i``, so the
output is ``d + sum_{j <= t} sum_i C(t-j, i) C N^i e_j``, a polynomial in the position. In the
binomial basis ``C(t-j+r, r)`` of the r+1-fold prefix sum ``P^(r+1)`` it reads
``d + sum_r P^(r+1)(H_r e)(t)`` with the integer rows
``H_r = sum_{i >= r} (-1)^(i-r) C(i, r) C N^i`` (binomial inversion of Vandermonde's
``C(m+r, r) = sum_i C(m, i) C(r, i)``), and Horner's scheme nests the prefix sums::

    total_r = P(total_{r+1} + step_r),  y = total_0 + d + s_0

where ``step_r(x) = H_r (B x + c) + s_{r+1}`` is a number per token: the initial state's part
``s_r = H_r A z_0``, which the r-th sum would add at position 0, is the same constant at every
position after, so it moves into the summand of the next sum (the output's offset for r = 0).
Every sum is an exact numerical aggregate over one shared causal select; under a mod readout
each summand is reduced first, which keeps the sums' value sets small and the output the same.
"""

from __future__ import annotations

from math import comb

from rasp_ir.api import RaspError, ir

from .affine import AffineMachine, Matrix, Vector
from .affine_terms import dot, readout_expr, readout_text, step_weights, weight_expr
from .affine_windows import nilpotent_powers
from .construction import OUTPUT, Construction

POLYNOMIAL_SUMS = "polynomial_sums"
UPTO = "upto"


def unipotent_powers(a: Matrix) -> list[Matrix] | None:
    """``[N^0, ..., N^(k-1)]`` for ``N = A - I`` and the smallest k with N^k = 0, or None when A
    is not unipotent (some eigenvalue is not 1: (A - I)^n != 0, n the dimension)."""
    n = len(a)
    return nilpotent_powers(tuple(tuple(a[i][j] - int(i == j) for j in range(n)) for i in range(n)))


def sum_rows(machine: AffineMachine, powers: list[Matrix]) -> list[Vector]:
    """``H_r = sum_{i >= r} (-1)^(i-r) C(i, r) C N^i`` for r < k (``powers`` lists ``N^i``):
    what an input adds, through the r+1-fold prefix sum, to the output."""
    read = [tuple(dot(machine.C[0], column) for column in zip(*p, strict=True)) for p in powers]
    k, n = len(powers), machine.state_dim
    return [
        tuple(sum((-1) ** (i - r) * comb(i, r) * read[i][m] for i in range(r, k)) for m in range(n))
        for r in range(k)
    ]


def polynomial_sums(machine: AffineMachine) -> Construction:
    """The polynomial-sums construction of ``machine``; a :class:`RaspError` when A is not
    unipotent."""
    powers = unipotent_powers(machine.A)
    if powers is None:
        raise RaspError.single(
            "mips-construction",
            f"the {POLYNOMIAL_SUMS} construction needs a unipotent A ((A - I)^n = 0: every "
            f"eigenvalue 1); this machine's A is {[list(row) for row in machine.A]}",
            hint="affine machines are lifted when every eigenvalue of A is 1 or every one is 0",
        )
    rows = sum_rows(machine, powers)
    first = tuple(dot(row, machine.initial) for row in machine.A)
    starts = [*(dot(row, first) for row in rows), 0]
    weights = [
        [w + starts[r + 1] for w in step_weights(machine, row)] for r, row in enumerate(rows)
    ]
    sums = max((r + 1 for r, w in enumerate(weights) if any(w)), default=0)
    bindings: list[ir.Binding] = [_select_binding()] if sums else []
    for r in reversed(range(sums)):
        step = (rows[r], starts[r + 1]) if any(weights[r]) else None
        bindings += _sum_bindings(machine, r, step, sums)
    bindings.append(_output_binding(machine, sums, starts[0]))
    return Construction(
        name=POLYNOMIAL_SUMS,
        bindings=tuple(bindings),
        attention_layers=sums,
        table_entries=sum(1 for w in weights[:sums] for v in w if v) if machine.pairs else 0,
        summary=_summary(machine, len(powers), sums),
        details={
            "nilpotency": len(powers),
            "nested_sums": sums,
            "step_weights": {
                f"step_{r}": {machine.describe_symbol(a): v for a, v in enumerate(weights[r])}
                for r in range(sums)
            },
            "offset": machine.d[0] + starts[0],
            "readout": "identity" if machine.modulus is None else f"mod {machine.modulus}",
        },
    )


def _select_binding() -> ir.Binding:
    """``upto``: the causal select every prefix sum shares."""
    select = ir.Select("indices", "indices", ir.Comparison("<="))
    return ir.Binding(UPTO, select, None, comment=f"{UPTO}: every input up to here")


def _sum_bindings(
    machine: AffineMachine, r: int, step: tuple[Vector, int] | None, sums: int
) -> list[ir.Binding]:
    """``step_r`` (when ``step``, a row and a shift, is given: ``row (B x + c) + shift`` of each
    token), the summand ``carry_r`` (``total_{r+1} + step_r``, reduced under a mod readout)
    unless it is one of them already reduced, and ``total_r``, its exact prefix sum."""
    bindings: list[ir.Binding] = []
    terms = [f"total_{r + 1}"] if r + 1 < sums else []
    if step is not None:
        bindings.append(_step_binding(machine, r, *step))
        terms.append(f"step_{r}")
    summand = terms[0]
    if len(terms) > 1 or (step is None and machine.modulus is not None):
        summand = f"carry_{r}"
        bindings.append(_carry_binding(machine, summand, terms))
    total = f"total_{r}"
    bindings.append(
        ir.Binding(
            total,
            ir.Aggregate(UPTO, summand, reduce="sum", default=0),
            "num",
            comment=f"{total}: the exact sum of {summand} over the inputs up to here",
        )
    )
    return bindings


def _step_binding(machine: AffineMachine, r: int, row: Vector, shift: int) -> ir.Binding:
    """``step_r``: ``H_r (B x + c) + shift`` of each token (``shift``: what the initial state
    adds through the sum above), reduced under a mod readout; a map of the tokens alone, which
    the torch backend folds into the embedding."""
    body = readout_expr(machine, weight_expr(machine, row, shift), 0)
    comment = f"step_{r}: what each input adds through {r + 1} nested sum(s), H_{r} (B x + c)"
    if shift:
        comment += f" + {shift} (the initial state)"
    node = ir.Map(ir.Lambda(("x",), body), ("tokens",))
    return ir.Binding(f"step_{r}", node, "num", comment=comment + readout_text(machine))


def _carry_binding(machine: AffineMachine, name: str, terms: list[str]) -> ir.Binding:
    """``name``: the sum of ``terms``, reduced mod the machine's modulus when there is one."""
    params = tuple(f"v{i}" for i in range(len(terms)))
    total: ir.Expr = ir.Param(params[0])
    for param in params[1:]:
        total = ir.Binary("+", total, ir.Param(param))
    body = readout_expr(machine, total, 0)
    comment = f"{name}: {' + '.join(terms)}{readout_text(machine)}"
    return ir.Binding(name, ir.Map(ir.Lambda(params, body), tuple(terms)), "num", comment=comment)


def _output_binding(machine: AffineMachine, sums: int, start: int) -> ir.Binding:
    """``machine_output``: ``total_0 + d + start`` under the readout (a constant when nothing
    is summed); numerical under the identity readout, so that the torch backend writes it as
    one linear unit pair rather than a one-hot of every value the sum takes."""
    offset = machine.d[0] + start
    if not sums:
        comment = f"{OUTPUT}: {offset}{readout_text(machine)}"
        return ir.Binding(OUTPUT, ir.Full(machine.read(offset)), "cat", comment=comment)
    body = readout_expr(machine, ir.Param("s"), offset)
    comment = f"{OUTPUT}: total_0 + {offset}{readout_text(machine)}"
    encoding: ir.Encoding = "num" if machine.modulus is None else "cat"
    node = ir.Map(ir.Lambda(("s",), body), ("total_0",))
    return ir.Binding(OUTPUT, node, encoding, comment=comment)


def _summary(machine: AffineMachine, k: int, sums: int) -> str:
    """The header comment's paragraph on the construction."""
    mod = f" and reduces mod {machine.modulus}" if machine.modulus is not None else ""
    return (
        f"Construction: affine polynomial sums. A is unipotent ((A - I)^{k} = 0), so the output "
        "is a polynomial in the position whose coefficients are sums over the inputs. "
        f"{sums} nested prefix sum(s) (one attention layer each, numerical aggregates, exact) "
        "add up, Horner style, the number H_r (B x + c) of each input (plus what the initial "
        f"state adds), and one map adds d and the initial state's constant{mod}."
    )
