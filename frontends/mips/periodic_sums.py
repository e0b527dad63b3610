"""Periodic sums, the construction for integer-affine machines whose A has finite order (A^p = I
for some p > 1, as Newton_Spring's ``[[0, 1], [-1, 1]]``, a rotation by 60 degrees: A^6 = I): a
machine in, the bindings of p numerical sums in one attention layer and one affine map out.

With ``e_s = B x_s + c`` the state is ``z_{t+1} = A^(t+1) z_0 + sum_{s <= t} A^(t-s) e_s``, and
A^(t-s) depends only on ``m = (t - s) mod p``. So the output is::

    y_t = d + C A^((t+1) mod p) z_0 + sum_{m < p} S_m(t),
    S_m(t) = sum over s <= t with t - s = m (mod p) of C A^m (B x_s + c)

Each ``S_m`` is an exact numerical aggregate over a selector of positions alone (``fn(key,
query) -> key <= query and (query - key) % p == m``), so all sums share one attention layer and
the torch backend writes each into one scalar dimension; residues whose ``C A^m (B x + c)`` are
equal share one sum (``(query - key) % p in {...}``: Newton_Spring's six residues are two sums,
of x and of -x), which keeps the heads and the value sets the hub enumerates for the output map
few; the initial state's term is a lookup of the position mod p. Unlike diagonalising A (its
eigenvalues are roots of unity, not integers), every quantity stays an integer, and the program
is exact at every length. Under a mod readout a last categorical map reduces the sum.
"""

from __future__ import annotations

from rasp_ir.api import RaspError, ir

from .affine import AffineMachine, Matrix
from .affine_terms import dot, step_weights, weight_expr
from .affine_windows import sum_output_bindings
from .construction import Construction

PERIODIC_SUMS = "periodic_sums"
MAX_ORDER = 60
"""The largest order p looked for (one attention head per residue; integer 2 x 2 and 3 x 3
matrices of finite order have order at most 6, 4 x 4 ones at most 12)."""
START = "start"


def finite_order_powers(a: Matrix) -> list[Matrix] | None:
    """``[A^0, ..., A^(p-1)]`` for the smallest p <= :data:`MAX_ORDER` with A^p = I, or None
    when there is none."""
    n = len(a)
    identity: Matrix = tuple(tuple(int(i == j) for j in range(n)) for i in range(n))
    powers, power = [identity], a
    while power != identity:
        if len(powers) == MAX_ORDER:
            return None
        powers.append(power)
        power = tuple(
            tuple(sum(power[i][m] * a[m][j] for m in range(n)) for j in range(n)) for i in range(n)
        )
    return powers


def periodic_sums(machine: AffineMachine) -> Construction:
    """The periodic-sums construction of ``machine``; a :class:`RaspError` when A has no finite
    order up to :data:`MAX_ORDER`."""
    powers = finite_order_powers(machine.A)
    if powers is None:
        raise RaspError.single(
            "mips-construction",
            f"the {PERIODIC_SUMS} construction needs an A of finite order (A^p = I, p <= "
            f"{MAX_ORDER}); this machine's A is {[list(row) for row in machine.A]}",
            hint="affine machines are lifted when every eigenvalue of A is 1, every one is 0, "
            "or A has finite order",
        )
    p = len(powers)
    rows = [tuple(dot(machine.C[0], column) for column in zip(*a, strict=True)) for a in powers]
    residues: dict[tuple[int, ...], list[int]] = {}  # a step's weights -> its residues m
    for m, row in enumerate(rows):
        step = tuple(step_weights(machine, row))
        if any(step):
            residues.setdefault(step, []).append(m)
    bindings: list[ir.Binding] = []
    terms: list[str] = []
    weights: dict[str, list[int]] = {}
    for step, lags in residues.items():
        bindings += _residue_bindings(machine, lags, p, rows[lags[0]])
        terms.append("sum_" + "_".join(map(str, lags)))
        weights[f"step_{lags[0]}"] = list(step)
    starts = [dot(rows[(t + 1) % p], machine.initial) for t in range(p)]
    if any(starts):
        entries = tuple(((t,), v) for t, v in enumerate(starts) if v)
        residue = ir.Binary("%", ir.Param("i"), ir.Const(p))
        lookup = ir.Lookup((residue,), entries, ir.Const(0))
        comment = f"{START}: C A^((t+1) mod {p}) z_0, what the initial state adds at position t"
        node = ir.Map(ir.Lambda(("i",), lookup), ("indices",))
        bindings.append(ir.Binding(START, node, "num", comment=comment))
        terms.append(START)
    bindings += sum_output_bindings(machine, terms, [])
    mod = "" if machine.modulus is None else f"; a last map reduces the total mod {machine.modulus}"
    return Construction(
        name=PERIODIC_SUMS,
        bindings=tuple(bindings),
        attention_layers=1 if len(weights) else 0,
        table_entries=sum(1 for v in starts if v),
        summary=(
            f"Construction: affine periodic sums. A has finite order (A^{p} = I), so an input s "
            f"reaches the output at t through A^((t - s) mod {p}): for the residues m < {p} "
            "whose C A^m (B x + c) is the same, one head of one attention layer sums it over "
            f"the inputs s <= t with t - s mod {p} among them (exact numerical sums), and one "
            f"affine map adds the sums, what the initial state adds (a function of t mod {p}) "
            f"and d{mod}."
        ),
        details={
            "order": p,
            "terms": terms,
            "step_weights": {
                name: {machine.describe_symbol(a): v for a, v in enumerate(w)}
                for name, w in weights.items()
            },
            "readout": "identity" if machine.modulus is None else f"mod {machine.modulus}",
        },
    )


def _residue_bindings(
    machine: AffineMachine, lags: list[int], p: int, row: tuple[int, ...]
) -> list[ir.Binding]:
    """``step_m = C A^m (B x + c)`` of each token (m the first of ``lags``, residues whose steps
    are all equal) and ``sum_<lags>``, its sum over the inputs s <= t with t - s mod p in
    ``lags``: one head for all of them."""
    key, query = ir.Param("key"), ir.Param("query")
    lag = ir.Binary("%", ir.Binary("-", query, key), ir.Const(p))
    residue: ir.Expr = (
        ir.Binary("==", lag, ir.Const(lags[0])) if len(lags) == 1 else ir.Member(lag, tuple(lags))
    )
    predicate = ir.Lambda(("key", "query"), ir.Binary("and", ir.Binary("<=", key, query), residue))
    m = lags[0]
    step, total = f"step_{m}", "sum_" + "_".join(map(str, lags))
    shown = ", ".join(map(str, lags))
    return [
        ir.Binding(
            step,
            ir.Map(ir.Lambda(("x",), weight_expr(machine, row)), ("tokens",)),
            "num",
            comment=f"{step}: what an input adds to the output through A^m, C A^m (B x + c), for "
            f"m in {{{shown}}}",
        ),
        ir.Binding(f"{total}__select", ir.Select("indices", "indices", predicate), None),
        ir.Binding(
            total,
            ir.Aggregate(f"{total}__select", step, reduce="sum", default=0),
            "num",
            comment=f"{total}: the exact sum of {step} over the inputs s <= t with t - s mod {p} "
            f"in {{{shown}}}",
        ),
    ]
