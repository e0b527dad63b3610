"""Affine windows, the construction for integer-affine machines whose A is nilpotent (A^k = 0,
as Sum_Last-k and Diff_Last2 with A a shift): a machine in, the bindings of one attention layer
that reads back the last k-1 inputs' contributions and maps that add them up to the output.

With A^k = 0 the state forgets everything older than k inputs::

    y_t = d + sum_{j = 0}^{min(t, k-1)} C A^j (B x_{t-j} + c) + C A^{t+1} z_0

so each position adds ``u_j(x) = C A^j (B x + c)`` of the input j positions back (0 before
the input: the aggregate's default) and, at the first k-1 positions, ``C A^{t+1} z_0`` read
off the index. Every term is numerical: a head sums ``u_j`` over the one key j positions back,
so its values stay those of ``u_j`` (and 0) at every length, and one affine map adds the terms
and d (the torch backend writes such sums and maps as linear residual writes, not tables).
Under a mod readout a last categorical map reduces the sum.
"""

from __future__ import annotations

from rasp_ir.api import RaspError, ir

from .affine import AffineMachine, Matrix
from .affine_terms import dot, readout_expr, readout_text, step_weights, weight_expr
from .construction import OUTPUT, Construction, distance_text

AFFINE_WINDOWS = "affine_windows"
START = "start"
TOTAL = "total"


def nilpotent_powers(a: Matrix) -> list[Matrix] | None:
    """``[A^0, A^1, ..., A^(k-1)]`` for the smallest k with A^k = 0, or None when A is not
    nilpotent (A^n != 0, n the dimension)."""
    n = len(a)
    power: Matrix = tuple(tuple(int(i == j) for j in range(n)) for i in range(n))
    powers: list[Matrix] = []
    while any(any(row) for row in power):
        if len(powers) == n:
            return None
        powers.append(power)
        power = tuple(
            tuple(sum(power[i][m] * a[m][j] for m in range(n)) for j in range(n)) for i in range(n)
        )
    return powers


def affine_windows(machine: AffineMachine) -> Construction:
    """The affine-windows construction of ``machine``; a :class:`RaspError` when A is not
    nilpotent."""
    powers = nilpotent_powers(machine.A)
    if powers is None:
        raise RaspError.single(
            "mips-construction",
            f"the {AFFINE_WINDOWS} construction needs a nilpotent A (A^k = 0: a state that "
            f"forgets old inputs); this machine's A is {[list(row) for row in machine.A]}",
            hint="affine machines are lifted when A is the identity or nilpotent",
        )
    k = len(powers)
    rows = [tuple(dot(machine.C[0], column) for column in zip(*p, strict=True)) for p in powers]
    bindings: list[ir.Binding] = []
    terms: list[str] = []
    steps: dict[tuple[int, ...], str] = {}  # a step's weights -> its binding, written once
    for j, row in enumerate(rows):
        if any(step_weights(machine, row)):
            weights = tuple(step_weights(machine, row))
            bindings += _contribution_bindings(machine, j, row, steps.get(weights))
            steps.setdefault(weights, f"step_{j}")
            terms.append(f"back_{j}" if j else "step_0")
    starts = _start_terms(machine, rows)
    if starts:
        entries = tuple(((t,), v) for t, v in enumerate(starts) if v)
        lookup = ir.Lookup((ir.Param("i"),), entries, ir.Const(0))
        comment = f"{START}: C A^(t+1) z_0, what the initial state still adds at position t"
        node = ir.Map(ir.Lambda(("i",), lookup), ("indices",))
        bindings.append(ir.Binding(START, node, "num", comment=comment))
        terms.append(START)
    bindings += _output_bindings(machine, terms)
    return Construction(
        name=AFFINE_WINDOWS,
        bindings=tuple(bindings),
        attention_layers=1 if any(t.startswith("back_") for t in terms) else 0,
        table_entries=sum(1 for v in starts if v),
        summary=(
            f"Construction: affine windows. A is nilpotent (A^{k} = 0), so the output depends "
            f"only on the last {k} inputs: one attention layer reads back C A^j (B x + c) of "
            f"the input j positions back (j < {k}; 0 before the input), exact numerical sums "
            "over one key, and one affine map adds them, what the initial state still adds at "
            "the first positions and d"
            + (
                f"; a last map reduces the total mod {machine.modulus}."
                if machine.modulus is not None
                else "."
            )
        ),
        details={
            "window": k,
            "terms": terms,
            "readout": "identity" if machine.modulus is None else f"mod {machine.modulus}",
        },
    )


def _contribution_bindings(
    machine: AffineMachine, j: int, row: tuple[int, ...], same: str | None = None
) -> list[ir.Binding]:
    """``step_j = C A^j (B x + c)`` of each token (unless ``same`` names an earlier step with
    the same weights, read instead) and, for j >= 1, ``back_j``: the step of the input j
    positions back (0 before the input), with the nested names the parser derives."""
    step = same or f"step_{j}"
    bindings = (
        []
        if same
        else [
            ir.Binding(
                step,
                ir.Map(ir.Lambda(("x",), weight_expr(machine, row)), ("tokens",)),
                "num",
                comment=f"{step}: what an input adds to the output {distance_text(j)} later"
                if j
                else f"{step}: what an input adds to the output at its own position",
            )
        ]
    )
    if not j:
        return bindings
    name = f"back_{j}"
    shifted = ir.Lambda(("indices",), ir.Binary("-", ir.Param("indices"), ir.Const(j)))
    return [
        *bindings,
        ir.Binding(f"{name}__map", ir.Map(shifted, ("indices",)), "cat"),
        ir.Binding(
            f"{name}__select", ir.Select("indices", f"{name}__map", ir.Comparison("==")), None
        ),
        ir.Binding(
            name,
            ir.Aggregate(f"{name}__select", step, reduce="sum", default=0),
            "num",
            comment=f"{name}: {step} of the input {distance_text(j)} back (0 before the input)",
        ),
    ]


def _start_terms(machine: AffineMachine, rows: list[tuple[int, ...]]) -> list[int]:
    """``C A^(t+1) z_0`` for t = 0 .. k-2 (``rows[j]`` is ``C A^j``; A^(t+1) = 0 afterwards),
    or [] when all are 0."""
    starts = [dot(row, machine.initial) for row in rows[1:]]
    return starts if any(starts) else []


def _output_bindings(machine: AffineMachine, terms: list[str]) -> list[ir.Binding]:
    """``machine_output``: the sum of ``terms`` plus d, one affine numerical map (a constant
    when no term is left); under a mod readout, ``total`` is that sum and ``machine_output``
    reduces it."""
    shown = " + ".join([*terms, str(machine.d[0])])
    comment = f"{OUTPUT}: {shown}{readout_text(machine)}"
    if not terms:
        return [ir.Binding(OUTPUT, ir.Full(machine.read(machine.d[0])), "cat", comment=comment)]
    params = tuple(f"v{i}" for i in range(len(terms)))
    total: ir.Expr = ir.Param(params[0])
    for param in params[1:]:
        total = ir.Binary("+", total, ir.Param(param))
    if machine.d[0]:
        total = ir.Binary("+", total, ir.Const(machine.d[0]))
    adds = ir.Map(ir.Lambda(params, total), tuple(terms))
    if machine.modulus is None:
        return [ir.Binding(OUTPUT, adds, "num", comment=comment)]
    reduce = ir.Lambda(("s",), readout_expr(machine, ir.Param("s"), 0))
    return [
        ir.Binding(TOTAL, adds, "num", comment=f"{TOTAL}: {shown}"),
        ir.Binding(OUTPUT, ir.Map(reduce, (TOTAL,)), "cat", comment=comment),
    ]
