"""Doubling, the construction for any finite machine: a machine and a length in, the bindings
that compose each position's transition function with earlier ones over blocks of doubling
length (one attention layer per doubling, ceil(log2(max_len)) in all) and read the output.

A transition function is an element of the machine's transition monoid restricted to its
reachable states, held as an integer id (0 is the identity). Only the elements words of length
1..max_len reach are enumerated, and the composition tables hold only the pairs that can meet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from rasp_ir.api import RaspError, Value, ir

from .construction import OUTPUT, Construction, distance_text, lookback_bindings, table_binding
from .machine import FiniteMachine

# A layer's composition table is indexed by pairs of elements: 400 elements keep it (and the
# value-set inference that enumerates it) under 160,000 pairs.
MONOID_LIMIT = 400

Transformation = tuple[int, ...]


@dataclass(frozen=True)
class TransitionMonoid:
    """The transformations of a machine's reachable states by its words of length 1..max_len.

    ``elements[i]`` is element ``i`` (``elements[0]`` the identity) as the position, in
    ``states``, of the state each reachable state goes to; ``by_length[L - 1]`` holds the ids
    of the words of length ``L``; ``symbols[a]`` is the id of symbol ``a``.
    """

    states: tuple[int, ...]
    elements: tuple[Transformation, ...]
    by_length: tuple[frozenset[int], ...]
    symbols: tuple[int, ...]

    def up_to(self, length: int) -> frozenset[int]:
        """The ids of the words of length 1..``length``."""
        return frozenset().union(*self.by_length[:length])

    @cached_property
    def ids(self) -> dict[Transformation, int]:
        """The id of each element."""
        return {t: i for i, t in enumerate(self.elements)}

    def compose(self, first: int, then: int) -> int:
        """The id of ``first`` followed by ``then``."""
        f, g = self.elements[first], self.elements[then]
        return self.ids[tuple(g[i] for i in f)]

    def output_of(self, machine: FiniteMachine, element: int) -> int:
        """The machine's output in the state ``element`` takes the initial state to."""
        start = self.states.index(machine.initial)
        return machine.output[self.states[self.elements[element][start]]]


def transition_monoid(machine: FiniteMachine, max_len: int) -> TransitionMonoid:
    """The transformations words of length 1..``max_len`` make on the reachable states; a
    :class:`RaspError` giving the size reached when there are more than :data:`MONOID_LIMIT`."""
    states = machine.reachable
    where = {s: i for i, s in enumerate(states)}
    elements: list[Transformation] = [tuple(range(len(states)))]
    index = {elements[0]: 0}

    def intern(t: Transformation) -> int:
        if t not in index:
            index[t] = len(elements)
            elements.append(t)
        if len(elements) > MONOID_LIMIT:
            raise RaspError.single(
                "mips-monoid-too-large",
                f"the machine's transition monoid has more than {MONOID_LIMIT} elements on "
                f"words of length up to {max_len} (enumeration stopped at {len(elements)})",
                hint="minimise the machine or lift a shorter --max-len",
            )
        return index[t]

    moves = [
        tuple(where[machine.delta[s][a]] for s in states) for a in range(len(machine.alphabet))
    ]
    symbols = tuple(intern(m) for m in moves)
    by_length = [frozenset(symbols)]
    while len(by_length) < max_len:
        words = by_length[-1]
        by_length.append(
            frozenset(intern(tuple(m[i] for i in elements[w])) for w in words for m in moves)
        )
    return TransitionMonoid(states, tuple(elements), tuple(by_length), symbols)


def doubling(machine: FiniteMachine, max_len: int) -> Construction:
    """The doubling construction of ``machine`` for inputs up to ``max_len``."""
    monoid = transition_monoid(machine, max_len)
    symbol_table: dict[tuple[Value, ...], Value] = {
        (machine.tokens[a],): m for a, m in enumerate(monoid.symbols)
    }
    first, entries = table_binding(
        "block_1",
        ("token",),
        ("tokens",),
        symbol_table,
        "block_1: the transition function of the input at this position (a monoid element id)",
    )
    bindings = [first]
    block, size, layers = first.name, 1, 0
    while size < max_len:
        last = 2 * size >= max_len
        output_of = (lambda m: monoid.output_of(machine, m)) if last else None
        layer, written = doubling_layer(monoid, block, size, max_len, output_of)
        bindings += layer
        entries += written
        block, size, layers = layer[-1].name, 2 * size, layers + 1
    if max_len == 1:
        outputs: dict[tuple[Value, ...], Value] = {
            (m,): monoid.output_of(machine, m) for m in monoid.symbols
        }
        comment = f"{OUTPUT}: the machine's output after the first input"
        readout, written = table_binding(OUTPUT, ("block",), (block,), outputs, comment)
        bindings.append(readout)
        entries += written
    return Construction(
        name="doubling",
        bindings=tuple(bindings),
        attention_layers=layers,
        table_entries=entries,
        summary=(
            "Construction: doubling. Each position holds the transition function of the inputs "
            "up to it in a block (an id of an element of the machine's transition monoid on its "
            f"{len(monoid.states)} reachable states: {len(monoid.elements)} elements, 0 the "
            "identity); layer k composes the block with the one 2^k positions earlier "
            f"({layers} attention layers), and the last layer reads the output of the state the "
            "composite takes the initial state to."
        ),
        details={"monoid_elements": len(monoid.elements), "reachable_states": len(monoid.states)},
    )


def doubling_layer(
    monoid: TransitionMonoid,
    block: str,
    size: int,
    max_len: int,
    readout: Callable[[int], Value] | None = None,
) -> tuple[list[ir.Binding], int]:
    """The bindings that turn blocks of ``size`` inputs (words of at most ``max_len``) into
    blocks of ``2 * size``: the block ``size`` positions earlier (the identity before the
    input), then a table over the pairs that can meet, and how many entries it wrote. The table
    composes the two; with ``readout`` (in the last layer, whose blocks reach back to the first
    input) it gives the machine's output, ``readout`` of the composite, instead."""
    earlier = f"{block}_earlier"
    head = lookback_bindings(
        earlier,
        size,
        block,
        0,
        f"{earlier}: {block} {distance_text(size)} back (the identity, 0, before the input)",
    )
    starts = [(0, later) for later in monoid.up_to(min(size, max_len))]
    full = monoid.by_length[size - 1]
    pairs = starts + [
        (before, later) for before in monoid.up_to(min(size, max_len - size)) for later in full
    ]
    composed: dict[tuple[Value, ...], int] = {
        (before, later): monoid.compose(before, later) for before, later in pairs
    }
    table: dict[tuple[Value, ...], Value]
    if readout is None:
        name = f"block_{2 * size}"
        table = {pair: m for pair, m in composed.items()}
        comment = (
            f"{name}: the transition function of the last {2 * size} inputs (fewer at the "
            f"start): {earlier} then {block}"
        )
    else:
        name = OUTPUT
        table = {pair: readout(m) for pair, m in composed.items()}
        comment = (
            f"{name}: the machine's output after {earlier} then {block} (all the inputs so "
            "far) from the initial state"
        )
    binding, written = table_binding(name, ("earlier", "later"), (earlier, block), table, comment)
    return [*head, binding], written
