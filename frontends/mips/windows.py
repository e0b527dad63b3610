"""Windows, the construction for definite machines: a machine and a length in, the bindings of
one attention layer that reads the last k-1 inputs back and one table from the window of the
last k inputs to the output (or None when the machine is not definite within the table limit).

A machine is definite with window k when, from every reachable state, each word of length k
leads to states with the same output. Positions before the input are read as a padding token:
an alphabet symbol z when the machine behaves at the start as if the input were preceded by
z's (as the MIPS generators do with x_{-j} = 0), else a token outside the alphabet, and the
table then covers the short windows of the first k-1 positions too.
"""

from __future__ import annotations

import itertools

from rasp_ir.api import Value, ir

from .construction import OUTPUT, Construction, distance_text, lookback_bindings, table_binding
from .machine import FiniteMachine

# The most windows of k symbols a table may hold.
WINDOW_LIMIT = 4096

Word = tuple[int, ...]


def window_length(machine: FiniteMachine, max_len: int) -> int | None:
    """The smallest k (at most ``max_len``) that makes ``machine`` definite, or None (not
    definite, or not within :data:`WINDOW_LIMIT`)."""
    symbols = range(len(machine.alphabet))
    images: dict[Word, frozenset[int]] = {(): frozenset(machine.reachable)}
    for k in range(1, max_len + 1):
        if len(machine.alphabet) ** k > WINDOW_LIMIT:
            return None
        images = {
            (*w, a): frozenset(machine.delta[s][a] for s in states)
            for w, states in images.items()
            for a in symbols
        }
        definite = all(len({machine.output[s] for s in states}) == 1 for states in images.values())
        if definite:
            return k
    return None


def padding_symbol(machine: FiniteMachine, k: int) -> int | None:
    """A symbol z such that the first k-1 outputs are those of the input preceded by z's, or
    None."""
    symbols = range(len(machine.alphabet))
    for z in symbols:
        if all(
            _out(machine, u) == _out(machine, (z,) * (k - len(u)) + u)
            for m in range(1, k)
            for u in itertools.product(symbols, repeat=m)
        ):
            return z
    return None


def _out(machine: FiniteMachine, word: Word) -> int:
    """The output after the machine reads ``word`` from its initial state."""
    return machine.output[machine.step(machine.initial, word)]


def windows(machine: FiniteMachine, max_len: int) -> Construction | None:
    """The windows construction of ``machine`` for inputs up to ``max_len``, or None when the
    machine is not definite within :data:`WINDOW_LIMIT`."""
    k = window_length(machine, max_len)
    if k is None:
        return None
    z = padding_symbol(machine, k)
    tokens = machine.tokens
    pad: Value = min(tokens) - 1 if z is None else tokens[z]
    bindings: list[ir.Binding] = []
    names = []
    for j in range(k - 1, 0, -1):
        name = f"input_{j}_back"
        comment = f"{name}: the input {distance_text(j)} back ({pad} before the input)"
        bindings += lookback_bindings(name, j, "tokens", pad, comment)
        names.append(name)
    table = _window_table(machine, k, z, pad)
    params = (*(f"back_{j}" for j in range(k - 1, 0, -1)), "now")
    readout, entries = table_binding(
        OUTPUT,
        params,
        (*names, "tokens"),
        table,
        f"{OUTPUT}: the machine's output after the window of the last {k} inputs",
    )
    padding = (
        f"an alphabet symbol, {machine.describe_symbol(z)}"
        if z is not None
        else f"{pad}, outside the alphabet (the first {k - 1} positions have their own entries)"
    )
    return Construction(
        name="windows",
        bindings=(*bindings, readout),
        attention_layers=1 if k > 1 else 0,
        table_entries=entries,
        summary=(
            f"Construction: windows. The machine is definite: its output depends only on the "
            f"last {k} inputs. One attention layer reads the {k - 1} inputs before each "
            f"position (padding before the input: {padding}), and one table maps the window "
            "to the output."
        ),
        details={"window": k, "padding": pad},
    )


def _window_table(
    machine: FiniteMachine, k: int, z: int | None, pad: Value
) -> dict[tuple[Value, ...], Value]:
    """The output after each window of k tokens (padded at the start), keyed by tokens."""
    tokens = machine.tokens
    symbols = range(len(machine.alphabet))
    shortest = k if z is not None else 1
    table: dict[tuple[Value, ...], Value] = {}
    for m in range(shortest, k + 1):
        for u in itertools.product(symbols, repeat=m):
            key = (pad,) * (k - m) + tuple(tokens[a] for a in u)
            table[key] = _out(machine, u)
    return table
