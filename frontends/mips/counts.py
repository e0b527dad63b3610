"""Counts, the construction for commutative machines: a machine and a length in, the bindings of
one attention layer that counts, up to each position, the occurrences of each kind of symbol,
and one table from the counts to the output (or None when the machine is not commutative, or
the counts are too many to tabulate).

A machine is commutative when reading a then b leads to the same state as b then a from every
reachable state; its state is then a function of how often each symbol occurred. Symbols that
move the reachable states alike are counted together, and symbols that move none not at all.
"""

from __future__ import annotations

import itertools

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


def counts(machine: FiniteMachine, max_len: int) -> Construction | None:
    """The counts construction of ``machine`` for inputs up to ``max_len``, or None."""
    if not is_commutative(machine):
        return None
    classes = symbol_classes(machine)
    if (max_len + 1) ** len(classes) > COUNT_LIMIT:
        return None
    bindings: list[ir.Binding] = []
    for i, group in enumerate(classes):
        bindings += _count_bindings(machine, f"count_{i}", group)
    names = tuple(f"count_{i}" for i in range(len(classes)))
    if classes:
        readout, entries = table_binding(
            OUTPUT,
            tuple(f"c{i}" for i in range(len(classes))),
            names,
            _count_table(machine, classes, max_len),
            f"{OUTPUT}: the machine's output after these counts of each kind of symbol",
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
            "position, and one table maps the counts to the output."
        ),
        details={"counted_classes": [[machine.describe_symbol(a) for a in g] for g in classes]},
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
    machine: FiniteMachine, classes: list[tuple[int, ...]], max_len: int
) -> dict[tuple[Value, ...], Value]:
    """The output after every combination of class counts that fits in ``max_len`` inputs."""
    table: dict[tuple[Value, ...], Value] = {}
    for combination in itertools.product(range(max_len + 1), repeat=len(classes)):
        if sum(combination) > max_len:
            continue
        state = machine.initial
        for group, count in zip(classes, combination, strict=True):
            state = machine.step(state, (group[0],) * count)
        table[tuple(combination)] = machine.output[state]
    return table
