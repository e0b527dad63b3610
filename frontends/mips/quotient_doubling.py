"""Quotient doubling, the construction for machines whose next output depends on the state only
through a small quotient (the carry of an adder, the remainder of a long division): a machine
and a length in, the bindings that compose transition functions of the quotient by doubling and
read each output from the quotient state before the input and the input itself.

The quotient is the coarsest partition of the reachable states that the transitions respect
and that determines the next output, ``out(delta(s, a))``, from the block of ``s`` and ``a``:
the machine minimised as a Mealy machine. An n-digit adder's Moore machine remembers the carry
and the last digit; its quotient is the carry alone, whose transition monoid has three elements
(kill, generate, propagate), so every table stays small whatever the base.

Position t needs the quotient state after ``x_0..x_{t-1}``: doubling layers compose blocks of
1, 2, 4, ... inputs (:func:`~.doubling.doubling_layer`) up to a size s with ``2s >= max_len - 1``;
the last layer reads the block ending 1 position back and the one ending s + 1 back, and one
table maps them and the input to the output. That is ceil(log2(max_len - 1)) attention layers
(1 for max_len <= 3), never more than the plain doubling construction.
"""

from __future__ import annotations

from collections.abc import Callable

from rasp_ir.api import Value, ir

from .construction import OUTPUT, Construction, distance_text, lookback_bindings, table_binding
from .doubling import TransitionMonoid, doubling_layer, transition_monoid
from .machine import FiniteMachine

QUOTIENT_DOUBLING = "quotient_doubling"


def output_quotient(machine: FiniteMachine) -> dict[int, int]:
    """The block of each reachable state in the coarsest partition that the transitions respect
    and in which the next output (``out(delta(s, a))`` for every symbol ``a``) depends only on
    the block (Moore's refinement from the partition by those outputs)."""
    states = machine.reachable
    symbols = range(len(machine.alphabet))
    block = _numbered(
        {s: tuple(machine.output[machine.delta[s][a]] for a in symbols) for s in states}
    )
    while True:
        refined = _numbered(
            {s: (block[s], *(block[machine.delta[s][a]] for a in symbols)) for s in states}
        )
        if len(set(refined.values())) == len(set(block.values())):
            return refined
        block = refined


def _numbered(signature: dict[int, tuple[int, ...]]) -> dict[int, int]:
    """Each state's signature replaced by a number, in order of first appearance."""
    numbering = {key: i for i, key in enumerate(dict.fromkeys(signature.values()))}
    return {s: numbering[key] for s, key in signature.items()}


def quotient_machine(machine: FiniteMachine, block: dict[int, int]) -> FiniteMachine:
    """The machine on the blocks of ``block`` (its outputs are unused: 0)."""
    representative = {b: s for s, b in sorted(block.items(), reverse=True)}
    n = len(representative)
    delta = tuple(tuple(block[t] for t in machine.delta[representative[b]]) for b in range(n))
    names = tuple(
        "|".join(machine.state_names[s] for s in sorted(block) if block[s] == b) for b in range(n)
    )
    return FiniteMachine(machine.alphabet, names, block[machine.initial], delta, (0,) * n)


def quotient_doubling(machine: FiniteMachine, max_len: int) -> Construction:
    """The quotient-doubling construction of ``machine`` for inputs up to ``max_len``; a
    :class:`~rasp_ir.api.RaspError` when the quotient's transition monoid is too large."""
    block = output_quotient(machine)
    quotient = quotient_machine(machine, block)
    representative = {b: s for s, b in sorted(block.items(), reverse=True)}
    longest = max(max_len - 1, 1)  # the inputs before a position
    monoid = transition_monoid(quotient, longest)

    def next_output(element: int, token: int) -> int:
        """The output after the inputs ``element`` stands for, then the symbol ``token``."""
        start = monoid.states.index(quotient.initial)
        reached = monoid.states[monoid.elements[element][start]]
        return machine.output[machine.delta[representative[reached]][token]]

    symbols = range(len(machine.alphabet))
    if max_len == 1:
        first: dict[tuple[Value, ...], Value] = {
            (machine.tokens[a],): next_output(0, a) for a in symbols
        }
        comment = f"{OUTPUT}: the machine's output after the first input"
        readout, entries = table_binding(OUTPUT, ("now",), ("tokens",), first, comment)
        return _construction((readout,), 0, entries, monoid, quotient)
    symbol_table: dict[tuple[Value, ...], Value] = {
        (machine.tokens[a],): m for a, m in enumerate(monoid.symbols)
    }
    first_block, entries = table_binding(
        "block_1",
        ("token",),
        ("tokens",),
        symbol_table,
        "block_1: the transition function of the input at this position on the quotient "
        "(a monoid element id)",
    )
    bindings = [first_block]
    name, size, layers = first_block.name, 1, 0
    while 2 * size < longest:
        layer, written = doubling_layer(monoid, name, size, longest)
        bindings += layer
        entries += written
        name, size, layers = layer[-1].name, 2 * size, layers + 1
    last, written = _readout_bindings(machine, monoid, name, size, longest, next_output)
    bindings += last
    return _construction(tuple(bindings), layers + 1, entries + written, monoid, quotient)


def _readout_bindings(
    machine: FiniteMachine,
    monoid: TransitionMonoid,
    block: str,
    size: int,
    longest: int,
    next_output: Callable[[int, int], int],
) -> tuple[list[ir.Binding], int]:
    """The last layer: ``block`` 1 position back (the inputs just before this one) and
    ``size + 1`` back (the ones before those, when any position has them), and the table from
    them and the input to the output."""
    near, far = f"{block}_before", f"{block}_before_that"
    bindings = lookback_bindings(
        near, 1, block, 0, f"{near}: {block} of the inputs before this one (0, the identity, first)"
    )
    shorter = sorted(monoid.up_to(min(size, longest)))
    pairs = [(0, 0)] + [(0, later) for later in shorter]
    inputs: tuple[str, ...] = (near, "tokens")
    params: tuple[str, ...] = ("before", "now")
    if size + 1 <= longest:
        bindings += lookback_bindings(
            far,
            size + 1,
            block,
            0,
            f"{far}: {block} {distance_text(size + 1)} back, the inputs before {near}",
        )
        full = monoid.by_length[size - 1]
        pairs += [(e, later) for e in monoid.up_to(min(size, longest - size)) for later in full]
        inputs, params = (far, *inputs), ("earlier", *params)
    table: dict[tuple[Value, ...], Value] = {}
    for earlier, later in pairs:
        composite = monoid.compose(earlier, later)
        for a, token in enumerate(machine.tokens):
            key = (earlier, later, token) if len(inputs) == 3 else (later, token)
            table[key] = next_output(composite, a)
    comment = (
        f"{OUTPUT}: the machine's output after the inputs before this one (their transition "
        "function applied to the initial state) and then this input"
    )
    readout, written = table_binding(OUTPUT, params, inputs, table, comment)
    return [*bindings, readout], written


def _construction(
    bindings: tuple[ir.Binding, ...],
    layers: int,
    entries: int,
    monoid: TransitionMonoid,
    quotient: FiniteMachine,
) -> Construction:
    return Construction(
        name=QUOTIENT_DOUBLING,
        bindings=bindings,
        attention_layers=layers,
        table_entries=entries,
        summary=(
            "Construction: quotient doubling. The next output depends on the state only through "
            f"a quotient of {quotient.n_states} blocks that the transitions respect (the machine "
            "minimised as a Mealy machine). Each position holds the transition function of the "
            f"quotient over a block of inputs (an id of one of the {len(monoid.elements)} "
            "elements of its transition monoid, 0 the identity); layer k composes the block "
            f"with the one 2^k positions earlier ({layers} attention layers in all), and the "
            "last layer reads the function of the inputs before each position and maps it and "
            "the input to the output."
        ),
        details={
            "quotient_states": quotient.n_states,
            "monoid_elements": len(monoid.elements),
        },
    )
