"""Counts, the construction for commutative machines: a machine and a length in, the bindings of
one attention layer that counts, up to each position, the occurrences of each kind of symbol,
and one table from the counts to the output (or None when the machine is not commutative, or
the counts are too many to tabulate).

A machine is commutative when reading a then b leads to the same state as b then a from every
reachable state; its state is then a function of how often each symbol occurred. Symbols that
move the reachable states alike are counted together, and symbols that move none not at all.

A symbol's effect is eventually periodic in its count: its powers g^0, g^1, ... on the
reachable states repeat from some index m with some period p (g^m = g^(m+p)). The table is
indexed by each count reduced to its canonical representative (``c`` below m, else
``m + (c - m) % p``), so it stays the same size for every ``max_len``: mod5_counter's table
is over residues mod 5, whatever the length.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from rasp_ir.api import Value, ir

from .construction import OUTPUT, Construction, table_binding
from .machine import FiniteMachine

# The most count combinations the output table may be indexed by.
COUNT_LIMIT = 20_000


def is_commutative(machine: FiniteMachine) -> bool:
    """Whether every two symbols commute on every reachable state."""
    delta = machine.delta
    pairs = itertools.combinations(range(len(machine.alphabet)), 2)
    return all(
        delta[delta[s][a]][b] == delta[delta[s][b]][a] for a, b in pairs for s in machine.reachable
    )


def symbol_classes(machine: FiniteMachine) -> list[tuple[int, ...]]:
    """The symbols grouped by how they move the reachable states, leaving out the symbols
    that move none; each group's symbols in alphabet order."""
    states = machine.reachable
    groups: dict[tuple[int, ...], list[int]] = {}
    for a in range(len(machine.alphabet)):
        move = tuple(machine.delta[s][a] for s in states)
        if move != states:
            groups.setdefault(move, []).append(a)
    return [tuple(group) for group in groups.values()]


@dataclass(frozen=True)
class Cycle:
    """How the powers of one symbol's transformation repeat: g^i = g^(i + period) for every
    i >= ``start``, with ``start`` and ``period`` the smallest such."""

    start: int
    period: int

    def representatives(self, max_len: int) -> range:
        """The canonical counts that counts 0..``max_len`` reduce to."""
        return range(min(self.start + self.period, max_len + 1))

    def reduces(self, max_len: int) -> bool:
        """Whether some count up to ``max_len`` reduces to a smaller one."""
        return self.start + self.period <= max_len

    def key(self, count: ir.Expr) -> ir.Expr:
        """The expression reducing ``count`` to its canonical representative."""
        if self.start == 0:
            return ir.Binary("%", count, ir.Const(self.period))
        start = ir.Const(self.start)
        later: ir.Expr = start
        if self.period > 1:
            offset = ir.Binary("-", count, start)
            later = ir.Binary("+", ir.Binary("%", offset, ir.Const(self.period)), start)
        return ir.IfElse(ir.Binary("<", count, start), count, later)

    def describe(self) -> str:
        """The reduction, for the certificate."""
        if self.start == 0:
            return f"count % {self.period}"
        start, period = self.start, self.period
        return f"count below {start}, else {start} + (count - {start}) % {period}"


def cycle(machine: FiniteMachine, symbol: int) -> Cycle:
    """How the powers of ``symbol``'s transformation of the reachable states repeat."""
    states = machine.reachable
    seen: dict[tuple[int, ...], int] = {}
    power = states
    while power not in seen:
        seen[power] = len(seen)
        power = tuple(machine.delta[s][symbol] for s in power)
    return Cycle(start=seen[power], period=len(seen) - seen[power])


def counts(machine: FiniteMachine, max_len: int) -> Construction | None:
    """The counts construction of ``machine`` for inputs up to ``max_len``, or None."""
    if not is_commutative(machine):
        return None
    classes = symbol_classes(machine)
    cycles = [cycle(machine, group[0]) for group in classes]
    if math.prod(len(c.representatives(max_len)) for c in cycles) > COUNT_LIMIT:
        return None
    bindings: list[ir.Binding] = []
    for i, group in enumerate(classes):
        bindings += _count_bindings(machine, f"count_{i}", group)
    names = tuple(f"count_{i}" for i in range(len(classes)))
    params = tuple(f"c{i}" for i in range(len(classes)))
    if classes:
        readout, entries = table_binding(
            OUTPUT,
            params,
            names,
            _count_table(machine, classes, cycles, max_len),
            f"{OUTPUT}: the machine's output after these counts of each kind of symbol",
            keys=tuple(
                c.key(ir.Param(p)) if c.reduces(max_len) else ir.Param(p)
                for c, p in zip(cycles, params, strict=True)
            ),
        )
    else:
        comment = f"{OUTPUT}: no symbol moves the initial state; its output"
        readout = ir.Binding(
            OUTPUT, ir.Full(machine.output[machine.initial]), "cat", comment=comment
        )
        entries = 0
    return Construction(
        name="counts",
        bindings=(*bindings, readout),
        attention_layers=1 if classes else 0,
        table_entries=entries,
        summary=(
            "Construction: counts. The machine is commutative: its state depends only on how "
            f"often each symbol occurred. One attention layer counts, for each of the "
            f"{len(classes)} kinds of symbol that move the state, its occurrences up to each "
            "position, and one table maps the counts (each reduced where the symbol's effect "
            "repeats) to the output."
        ),
        details={
            "counted_classes": [[machine.describe_symbol(a) for a in g] for g in classes],
            "count_reductions": [c.describe() if c.reduces(max_len) else "count" for c in cycles],
        },
    )


def _count_bindings(machine: FiniteMachine, name: str, group: tuple[int, ...]) -> list[ir.Binding]:
    """``name = selector_width(select(tokens, tokens, fn(key, query) -> key in {...}) and
    select(indices, indices, <=))``, with the nested names the parser derives."""
    members = tuple(machine.tokens[a] for a in group)
    is_member = ir.Lambda(("key", "query"), ir.Member(ir.Param("key"), members))
    shown = ", ".join(machine.describe_symbol(a) for a in group)
    return [
        ir.Binding(f"{name}__select", ir.Select("tokens", "tokens", is_member), None),
        ir.Binding(f"{name}__select2", ir.Select("indices", "indices", ir.Comparison("<=")), None),
        ir.Binding(f"{name}__and", ir.SelectorAnd(f"{name}__select", f"{name}__select2"), None),
        ir.Binding(
            name,
            ir.SelectorWidth(f"{name}__and"),
            "cat",
            comment=f"{name}: how many of the inputs up to here are {shown}",
        ),
    ]


def _count_table(
    machine: FiniteMachine, classes: list[tuple[int, ...]], cycles: list[Cycle], max_len: int
) -> dict[tuple[Value, ...], Value]:
    """The output after every combination of canonical class counts that fits in ``max_len``
    inputs (a canonical count is the smallest count it stands for)."""
    table: dict[tuple[Value, ...], Value] = {}
    ranges = [c.representatives(max_len) for c in cycles]
    for combination in itertools.product(*ranges):
        if sum(combination) > max_len:
            continue
        state = machine.initial
        for group, count in zip(classes, combination, strict=True):
            state = machine.step(state, (group[0],) * count)
        table[tuple(combination)] = machine.output[state]
    return table
