"""Finite Moore machines: a machine JSON file in, a frozen :class:`FiniteMachine` out (or a
:class:`RaspError` naming the file and what is wrong with it), and a machine written back.

The format (``"format": "rasp-ir/mips-machine"``, ``"format_version": 1``) is meant to be
written by hand::

    {
      "format": "rasp-ir/mips-machine",
      "format_version": 1,
      "task": "Parity_All",
      "alphabet": [0, 1],
      "states": ["even", "odd"],
      "initial": "even",
      "delta": {"even": ["even", "odd"], "odd": ["odd", "even"]},
      "output": {"even": 0, "odd": 1}
    }

``alphabet``: the input symbols, all integers or all pairs of integers (``[a, b]``).
``states``: a count ``n`` (states are then named ``0 .. n-1``) or a list of distinct names.
``initial``: a state. ``delta``: the next state of every state on every symbol, as a list with
one row per state (in order) or an object keyed by state name; a row is a list with one next
state per symbol (in alphabet order) or an object keyed by the symbol written as JSON
(``"0"``, ``"[0, 1]"``). ``output``: an integer per state, as a list or an object keyed by
state name. Optional: ``kind`` (``"finite"``; ``"affine"`` files are read by :mod:`.affine`),
``max_len`` (the longest input a lifted program handles), ``task`` and ``source`` (free text).

Semantics: ``s_0 = initial``, ``s_{t+1} = delta[s_t][x_t]``, and the output at position ``t``
is ``output[s_{t+1}]``, the output after reading ``x_0 .. x_t``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.api import RaspError, write_text_atomically

MACHINE_FORMAT = "rasp-ir/mips-machine"
MACHINE_VERSION = 1
REQUIRED = ("format", "format_version", "alphabet", "states", "initial", "delta", "output")
OPTIONAL = ("kind", "max_len", "task", "source")
# Kinds of machine the format names: finite machines (this module), integer-affine ones
# (:mod:`.affine`).
KINDS = ("finite", "affine")

Symbol = int | tuple[int, int]


class MachineFormatError(ValueError):
    """What is wrong with a machine's JSON data (turned into a RaspError naming the file)."""


def is_pair_alphabet(alphabet: Sequence[Symbol]) -> bool:
    """Whether the symbols of ``alphabet`` are pairs of integers."""
    return isinstance(alphabet[0], tuple)


def symbol_tokens(alphabet: Sequence[Symbol]) -> tuple[int, ...]:
    """The token of each symbol in a lifted program: the symbol itself for integer alphabets,
    the symbol's position in the alphabet for pair alphabets."""
    if is_pair_alphabet(alphabet):
        return tuple(range(len(alphabet)))
    return tuple(s for s in alphabet if isinstance(s, int))


class ReadsSymbols:
    """A machine's view of its ``alphabet``: whether the symbols are pairs, and their tokens
    in a lifted program. The machine classes declare ``alphabet`` as a field."""

    alphabet: tuple[Symbol, ...]

    @property
    def pairs(self) -> bool:
        """Whether the symbols are pairs of integers."""
        return is_pair_alphabet(self.alphabet)

    @property
    def tokens(self) -> tuple[int, ...]:
        """The token of each symbol in a lifted program (see :func:`symbol_tokens`)."""
        return symbol_tokens(self.alphabet)


@dataclass(frozen=True)
class FiniteMachine(ReadsSymbols):
    """A complete deterministic Moore machine over a finite alphabet.

    ``alphabet[a]`` is symbol ``a``; ``delta[s][a]`` is the state after state ``s`` reads
    symbol ``a``; ``output[s]`` is what state ``s`` outputs; states are ``0 .. len(delta)-1``
    and ``state_names`` names them for messages.
    """

    alphabet: tuple[Symbol, ...]
    state_names: tuple[str, ...]
    initial: int
    delta: tuple[tuple[int, ...], ...]
    output: tuple[int, ...]
    max_len: int | None = None
    task: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        n, k = len(self.state_names), len(self.alphabet)
        if not n or not k or len(self.delta) != n or len(self.output) != n:
            raise ValueError("a machine needs states and symbols, a row and an output per state")
        if not 0 <= self.initial < n:
            raise ValueError(f"initial state {self.initial} out of range")
        for row in self.delta:
            if len(row) != k or not all(0 <= s < n for s in row):
                raise ValueError(f"bad transition row {row}")

    @property
    def n_states(self) -> int:
        """How many states the machine has."""
        return len(self.state_names)

    @cached_property
    def transitions(self) -> npt.NDArray[np.int64]:
        """``delta`` as an array of shape (states, symbols)."""
        return np.array(self.delta, dtype=np.int64)

    @cached_property
    def reachable(self) -> tuple[int, ...]:
        """The states reachable from the initial state (itself included), sorted."""
        seen, frontier = {self.initial}, [self.initial]
        while frontier:
            state = frontier.pop()
            for nxt in self.delta[state]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return tuple(sorted(seen))

    def minimise(self) -> FiniteMachine:
        """The smallest machine with the same output on every input: unreachable states
        dropped, states no input tells apart merged (Moore's partition refinement, from the
        partition by output). Merged states are named by their names joined with ``|``."""
        states = self.reachable
        block = {s: self.output[s] for s in states}
        while True:
            signature = {s: (block[s], *(block[t] for t in self.delta[s])) for s in states}
            numbering = {key: i for i, key in enumerate(dict.fromkeys(signature.values()))}
            refined = {s: numbering[signature[s]] for s in states}
            if len(numbering) == len(set(block.values())):
                break
            block = refined
        return self._quotient(refined)

    def _quotient(self, block: dict[int, int]) -> FiniteMachine:
        """The machine whose states are the blocks of ``block`` (a congruence on the reachable
        states), numbered in order of their first state."""
        groups: dict[int, list[int]] = {}
        for s in sorted(block):
            groups.setdefault(block[s], []).append(s)
        members = sorted(groups.values())
        number = {block[group[0]]: i for i, group in enumerate(members)}
        return replace(
            self,
            state_names=tuple("|".join(self.state_names[s] for s in group) for group in members),
            initial=number[block[self.initial]],
            delta=tuple(tuple(number[block[t]] for t in self.delta[group[0]]) for group in members),
            output=tuple(self.output[group[0]] for group in members),
        )

    def step(self, state: int, word: Sequence[int]) -> int:
        """The state after ``state`` reads the symbol indices ``word``."""
        for symbol in word:
            state = self.delta[state][symbol]
        return state

    def run(self, symbols: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The outputs at every position of a batch of inputs given as symbol indices
        (shape batch x length); the result has the same shape."""
        x = np.asarray(symbols, dtype=np.int64)
        if x.ndim != 2:
            raise ValueError("run takes a batch: an array of shape (batch, length)")
        outputs = np.array(self.output, dtype=np.int64)
        state = np.full(x.shape[0], self.initial, dtype=np.int64)
        found = np.empty_like(x)
        for t in range(x.shape[1]):
            state = self.transitions[state, x[:, t]]
            found[:, t] = outputs[state]
        return found

    def run_tokens(self, inputs: Sequence[Sequence[int]]) -> list[list[int]]:
        """The outputs at every position of each input given as program tokens (lengths may
        differ)."""
        index = {token: a for a, token in enumerate(self.tokens)}
        found: list[list[int]] = [[] for _ in inputs]
        for length in sorted({len(x) for x in inputs}):
            rows = [i for i, x in enumerate(inputs) if len(x) == length]
            batch = np.array([[index[t] for t in inputs[i]] for i in rows], dtype=np.int64)
            outputs = self.run(batch.reshape(len(rows), length)).tolist()
            for i, out in zip(rows, outputs, strict=True):
                found[i] = out
        return found

    def describe_symbol(self, a: int) -> str:
        """Symbol ``a`` as the JSON file writes it."""
        return shown(self.alphabet[a])


# ---------------------------------------------------------------- writing


def machine_to_json(machine: FiniteMachine) -> dict[str, Any]:
    """``machine`` as JSON data in the machine format (states by name, rows in alphabet order),
    which :func:`machine_from_json` reads back to an equal machine."""
    names = machine.state_names
    data: dict[str, Any] = {
        "format": MACHINE_FORMAT,
        "format_version": MACHINE_VERSION,
        "kind": "finite",
        "alphabet": [list(s) if isinstance(s, tuple) else s for s in machine.alphabet],
        "states": list(names),
        "initial": names[machine.initial],
        "delta": {names[s]: [names[t] for t in row] for s, row in enumerate(machine.delta)},
        "output": {names[s]: value for s, value in enumerate(machine.output)},
    }
    optional = {"max_len": machine.max_len, "task": machine.task, "source": machine.source}
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def save_machine(machine: FiniteMachine, path: Path) -> None:
    """Write ``machine`` to the JSON file ``path``; a :class:`RaspError` when it cannot."""
    write_machine_json(machine_to_json(machine), path)


def write_machine_json(data: dict[str, Any], path: Path) -> None:
    """Write a machine's JSON ``data`` to ``path``; a :class:`RaspError` when it cannot."""
    text = json.dumps(data, indent=2) + "\n"
    try:
        write_text_atomically(path, text)
    except OSError as error:
        raise RaspError.single("file", f"cannot write {path}: {error}") from None


# ---------------------------------------------------------------- loading


def read_machine_json(path: Path) -> object:
    """The parsed JSON of the machine file ``path``; a :class:`RaspError` naming the file when
    it cannot be read or is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {path}: {error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise RaspError.single("mips-machine", f"{path}: not JSON: {error}", hint=_HINT) from None


def machine_file_error(path: Path, error: MachineFormatError) -> RaspError:
    """The :class:`RaspError` for the machine file ``path`` that ``error`` says is invalid."""
    return RaspError.single("mips-machine", f"{path}: {error}", hint=_HINT)


def load_machine(path: Path) -> FiniteMachine:
    """The finite machine in the JSON file ``path``; a :class:`RaspError` naming the file when
    it cannot be read or is not a valid finite machine."""
    data = read_machine_json(path)
    try:
        return machine_from_json(data)
    except MachineFormatError as error:
        raise machine_file_error(path, error) from None


_HINT = (
    f'a machine file is a JSON object with "format": "{MACHINE_FORMAT}", "format_version": '
    f'{MACHINE_VERSION}, alphabet, states, initial, delta and output, or "kind": "affine" '
    "with state_dim, A, B, c, initial, C and d (examples/machines/)"
)


def machine_from_json(data: object) -> FiniteMachine:
    """The machine described by parsed JSON ``data``; :class:`MachineFormatError` saying what
    is wrong otherwise."""
    if not isinstance(data, dict):
        raise MachineFormatError("expected a JSON object")
    _check_keys(data)
    alphabet = alphabet_of(data["alphabet"])
    names = _state_names(data["states"])
    states = _StateRefs(names, isinstance(data["states"], int))
    delta = tuple(
        _row(row, alphabet, states, names[s])
        for s, row in enumerate(_per_state(data["delta"], names, "delta"))
    )
    output = tuple(
        integer(value, f"the output of state {names[s]!r}")
        for s, value in enumerate(_per_state(data["output"], names, "output"))
    )
    return FiniteMachine(
        alphabet=alphabet,
        state_names=names,
        initial=states.index(data["initial"], "the initial state"),
        delta=delta,
        output=output,
        max_len=max_len_of(data.get("max_len")),
        task=text_of(data.get("task"), "task"),
        source=text_of(data.get("source"), "source"),
    )


def _check_keys(data: dict[str, Any]) -> None:
    if data.get("format") != MACHINE_FORMAT:
        raise MachineFormatError(f"format is {data.get('format')!r}, not {MACHINE_FORMAT!r}")
    version = data.get("format_version")
    if version != MACHINE_VERSION or isinstance(version, bool):
        raise MachineFormatError(
            f"format_version {version!r} is not supported (this version reads {MACHINE_VERSION})"
        )
    kind = data.get("kind", "finite")
    if kind not in KINDS:
        raise MachineFormatError(
            f"kind {kind!r} is not a machine kind this version reads ({', '.join(KINDS)})"
        )
    if kind != "finite":
        raise MachineFormatError(f"kind {kind!r}: not a finite machine")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise MachineFormatError(f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise MachineFormatError(f"unknown field(s) {', '.join(unknown)}")


def integer(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MachineFormatError(f"{what} must be an integer, got {json.dumps(value)}")
    return value


def _symbol(value: object) -> Symbol:
    if isinstance(value, list) and len(value) == 2:
        return (integer(value[0], "a pair's element"), integer(value[1], "a pair's element"))
    return integer(value, "a symbol (an integer or a pair of integers)")


def alphabet_of(value: object) -> tuple[Symbol, ...]:
    if not isinstance(value, list) or not value:
        raise MachineFormatError("alphabet must be a non-empty list of symbols")
    symbols = tuple(_symbol(v) for v in value)
    if len({isinstance(s, tuple) for s in symbols}) > 1:
        raise MachineFormatError("alphabet mixes integers and pairs")
    if len(set(symbols)) != len(symbols):
        raise MachineFormatError("alphabet lists a symbol twice")
    return symbols


def _state_names(value: object) -> tuple[str, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise MachineFormatError("states must be at least 1")
        return tuple(str(s) for s in range(value))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise MachineFormatError("states must be a count or a non-empty list of names")
    if len(set(value)) != len(value):
        raise MachineFormatError("states lists a name twice")
    return tuple(value)


@dataclass(frozen=True)
class _StateRefs:
    """How the file refers to states: by index (``states`` is a count) or by name."""

    names: tuple[str, ...]
    by_index: bool

    def index(self, ref: object, what: str) -> int:
        if self.by_index and isinstance(ref, int) and not isinstance(ref, bool):
            if 0 <= ref < len(self.names):
                return ref
        elif not self.by_index and isinstance(ref, str) and ref in self.names:
            return self.names.index(ref)
        kind = f"0 .. {len(self.names) - 1}" if self.by_index else "one of the state names"
        raise MachineFormatError(f"{what} is {json.dumps(ref)}, an undefined state ({kind})")


def _per_state(value: object, names: tuple[str, ...], field: str) -> list[object]:
    """A per-state field (a list in state order, or an object keyed by state name) as a
    list in state order."""
    if isinstance(value, list):
        if len(value) != len(names):
            raise MachineFormatError(f"{field} has {len(value)} entries for {len(names)} states")
        return value
    if not isinstance(value, dict):
        raise MachineFormatError(f"{field} must be a list or an object keyed by state name")
    missing = [n for n in names if n not in value]
    if missing:
        raise MachineFormatError(f"{field} has no entry for state(s) {', '.join(missing)}")
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise MachineFormatError(f"{field} has entries for undefined state(s) {unknown}")
    return [value[n] for n in names]


def _row(
    row: object, alphabet: tuple[Symbol, ...], states: _StateRefs, name: str
) -> tuple[int, ...]:
    """One state's transitions (a list in alphabet order, or an object keyed by symbol)."""
    if isinstance(row, dict):
        row = _row_by_symbol(row, alphabet, name)
    if not isinstance(row, list) or len(row) != len(alphabet):
        raise MachineFormatError(
            f"delta of state {name!r} must give one next state for each of the "
            f"{len(alphabet)} symbols"
        )
    return tuple(
        states.index(ref, f"delta of state {name!r} on symbol {shown(alphabet[a])}")
        for a, ref in enumerate(row)
    )


def _row_by_symbol(row: dict[str, object], alphabet: tuple[Symbol, ...], name: str) -> list[object]:
    by_symbol: dict[Symbol, object] = {}
    for key, ref in row.items():
        try:
            symbol = _symbol(json.loads(key))
        except (ValueError, MachineFormatError):
            symbol = None
        if symbol is None or symbol not in alphabet:
            raise MachineFormatError(
                f"delta of state {name!r} has a transition on {key!r}, a symbol outside the "
                "alphabet"
            )
        by_symbol[symbol] = ref
    missing = [shown(s) for s in alphabet if s not in by_symbol]
    if missing:
        raise MachineFormatError(
            f"delta of state {name!r} has no transition on symbol(s) {', '.join(missing)}"
        )
    return [by_symbol[s] for s in alphabet]


def shown(symbol: Symbol) -> str:
    return json.dumps(list(symbol) if isinstance(symbol, tuple) else symbol)


def max_len_of(value: object) -> int | None:
    if value is None:
        return None
    max_len = integer(value, "max_len")
    if max_len < 1:
        raise MachineFormatError("max_len must be at least 1")
    return max_len


def text_of(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise MachineFormatError(f"{field} must be a string")
