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

from .affine import AffineMachine, Matrix, Vector
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
    bindings: list[ir.Binding] = []
    written: dict[tuple[tuple[int, ...], int], str] = {}  # (weights, j) -> its binding
    terms, starts = _window_terms(machine, machine.C[0], powers, "", bindings, written)
    kinks: list[tuple[int, str]] = []
    for number, (coefficient, form) in enumerate(machine.kinks):
        prefix = f"form{number}_"
        parts, _ = _window_terms(machine, form, powers, prefix, bindings, written)
        bindings += _abs_bindings(machine, number, form, parts)
        kinks.append((coefficient, f"abs_{number}"))
    bindings += sum_output_bindings(machine, terms, kinks)
    return Construction(
        name=AFFINE_WINDOWS,
        bindings=tuple(bindings),
        attention_layers=1 if any("back_" in name for name in written.values()) else 0,
        table_entries=starts,
        summary=(
            f"Construction: affine windows. A is nilpotent (A^{k} = 0), so the output depends "
            f"only on the last {k} inputs: one attention layer reads back C A^j (B x + c) of "
            f"the input j positions back (j < {k}; 0 before the input), exact numerical sums "
            "over one key, and one affine map adds them, what the initial state still adds at "
            "the first positions and d" + _readout_summary(machine)
        ),
        details={
            "window": k,
            "terms": terms,
            "readout": _readout_name(machine),
        },
    )


def _window_terms(
    machine: AffineMachine,
    row: Vector,
    powers: list[Matrix],
    prefix: str,
    bindings: list[ir.Binding],
    written: dict[tuple[tuple[int, ...], int], str],
) -> tuple[list[str], int]:
    """The terms whose sum is ``row . z_{t+1}`` (``row`` is C or the form of an abs term): for
    each j with a nonzero ``row A^j (B x + c)``, the step of the input j positions back, and
    the start term ``row A^(t+1) z_0`` (bindings named with ``prefix``). New bindings are
    appended to ``bindings``; a step or lookback with the same weights and distance already in
    ``written`` is read instead of written again. Returns the term names and the entries of
    the start table."""
    terms: list[str] = []
    rows = [tuple(dot(row, column) for column in zip(*p, strict=True)) for p in powers]
    for j, power_row in enumerate(rows):
        weights = tuple(step_weights(machine, power_row))
        if not any(weights):
            continue
        if (weights, j) not in written:
            step = written.get((weights, 0), f"{prefix}step_{j}")
            bindings += _contribution_bindings(machine, j, power_row, prefix, step)
            written[(weights, 0)] = step
            written[(weights, j)] = f"{prefix}back_{j}" if j else step
        terms.append(written[(weights, j)])
    starts = _start_terms(machine, rows)
    if not starts:
        return terms, 0
    name = f"{prefix}{START}"
    entries = tuple(((t,), v) for t, v in enumerate(starts) if v)
    lookup = ir.Lookup((ir.Param("i"),), entries, ir.Const(0))
    what = "C" if not prefix else "a"
    comment = f"{name}: {what} A^(t+1) z_0, what the initial state still adds at position t"
    node = ir.Map(ir.Lambda(("i",), lookup), ("indices",))
    bindings.append(ir.Binding(name, node, "num", comment=comment))
    return [*terms, name], len(entries)


def _contribution_bindings(
    machine: AffineMachine, j: int, row: tuple[int, ...], prefix: str, step: str
) -> list[ir.Binding]:
    """``step = row (B x + c)`` of each token (unless a binding of that name exists already:
    ``step`` is not ``{prefix}step_{j}``) and, for j >= 1, ``{prefix}back_j``: the step of the
    input j positions back (0 before the input), with the nested names the parser derives."""
    bindings = (
        []
        if step != f"{prefix}step_{j}"
        else [
            ir.Binding(
                step,
                ir.Map(ir.Lambda(("x",), weight_expr(machine, row)), ("tokens",)),
                "num",
                comment=f"{step}: what an input adds {distance_text(j)} later"
                if j
                else f"{step}: what an input adds at its own position",
            )
        ]
    )
    if not j:
        return bindings
    name = f"{prefix}back_{j}"
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


def _abs_bindings(
    machine: AffineMachine, number: int, form: Vector, parts: list[str]
) -> list[ir.Binding]:
    """``form{number}`` (the sum of ``parts``: ``a . z_{t+1}``, one affine numerical map) and
    ``abs_{number}``, its absolute value (a numerical map of one input, which the torch
    backend writes as two ReLU units)."""
    name, shown = f"form{number}", " + ".join(parts) or "0"
    if parts:
        params = tuple(f"v{i}" for i in range(len(parts)))
        node: ir.Node = ir.Map(ir.Lambda(params, _sum(params, 0)), tuple(parts))
    else:
        node = ir.Full(0)
    absolute = ir.Map(ir.Lambda(("v",), ir.Call("abs", (ir.Param("v"),))), (name,))
    return [
        ir.Binding(name, node, "num", comment=f"{name}: {list(form)} . z = {shown}"),
        ir.Binding(f"abs_{number}", absolute, "num", comment=f"abs_{number}: |{name}|"),
    ]


def _sum(params: tuple[str, ...], constant: int, coefficients: tuple[int, ...] = ()) -> ir.Expr:
    """``c_0 v0 + c_1 v1 + ... + constant`` (coefficients 1 where ``coefficients`` is
    shorter), written without products by 1 or additions of 0."""
    total: ir.Expr | None = None
    for i, param in enumerate(params):
        weight = coefficients[i] if i < len(coefficients) else 1
        term: ir.Expr = ir.Param(param)
        if abs(weight) != 1:
            term = ir.Binary("*", ir.Const(abs(weight)), term)
        if total is None:
            total = term if weight > 0 else ir.Unary("-", term)
        else:
            total = ir.Binary("+" if weight > 0 else "-", total, term)
    if total is None:
        return ir.Const(constant)
    return total if not constant else ir.Binary("+", total, ir.Const(constant))


def sum_output_bindings(
    machine: AffineMachine, terms: list[str], kinks: list[tuple[int, str]]
) -> list[ir.Binding]:
    """``machine_output``: the sum of ``terms``, e times each abs term of ``kinks`` and d, one
    affine numerical map (a constant when no term is left); under a mod readout, ``total`` is
    that sum and ``machine_output`` reduces it."""
    weighted = [*((1, t) for t in terms), *kinks]
    shown = " + ".join([*(t if e == 1 else f"{e} {t}" for e, t in weighted), str(machine.d[0])])
    comment = f"{OUTPUT}: {shown}{readout_text(machine)}"
    if not weighted:
        return [ir.Binding(OUTPUT, ir.Full(machine.read(machine.d[0])), "cat", comment=comment)]
    params = tuple(f"v{i}" for i in range(len(weighted)))
    total = _sum(params, machine.d[0], tuple(e for e, _ in weighted))
    adds = ir.Map(ir.Lambda(params, total), tuple(t for _, t in weighted))
    if machine.modulus is None:
        return [ir.Binding(OUTPUT, adds, "num", comment=comment)]
    reduce = ir.Lambda(("s",), readout_expr(machine, ir.Param("s"), 0))
    return [
        ir.Binding(TOTAL, adds, "num", comment=f"{TOTAL}: {shown}"),
        ir.Binding(OUTPUT, ir.Map(reduce, (TOTAL,)), "cat", comment=comment),
    ]


def _readout_summary(machine: AffineMachine) -> str:
    """The end of the summary: what the readout adds to the affine sum."""
    if machine.modulus is not None:
        return f"; a last map reduces the total mod {machine.modulus}."
    if machine.kinks:
        return (
            f"; the readout's {len(machine.kinks)} abs term(s) e |a . z| are read the same way "
            "(each form a . z a sum of its own terms, then its absolute value: two ReLU units)."
        )
    return "."


def _readout_name(machine: AffineMachine) -> str:
    """The readout, for the certificate."""
    if machine.modulus is not None:
        return f"mod {machine.modulus}"
    return "identity" if not machine.kinks else f"abs ({len(machine.kinks)} term(s))"
