"""Integer-affine machines: the JSON form of kind ``"affine"`` in, a frozen
:class:`AffineMachine` out (or a :class:`MachineFormatError` saying what is wrong)::

    {
      "format": "rasp-ir/mips-machine",
      "format_version": 1,
      "kind": "affine",
      "task": "Sum_All",
      "alphabet": [0, 1, 2, 3],
      "state_dim": 1,
      "A": [[1]], "B": [[1]], "c": [0], "initial": [0],
      "C": [[1]], "d": [0],
      "readout": {"kind": "mod", "modulus": 5}
    }

``alphabet``: the input symbols, integers (each read as the input vector ``[x]``, so ``B`` has
one column) or pairs of integers (``[a, b]``, two columns). ``state_dim``: n, the state's
dimension. ``A`` (n x n), ``B`` (n x d), ``C`` (1 x n): integer matrices as lists of rows;
``c``, ``initial`` (n) and ``d`` (1): integer vectors. Optional: ``readout`` (``{"kind":
"identity"}``, the default; ``{"kind": "mod", "modulus": k}`` with k >= 1; or ``{"kind":
"abs", "terms": [{"coefficient": e, "form": [a_1, ..., a_n]}, ...]}``, nonzero integers e and
integer forms a, not all 0), ``max_len``, ``task`` and ``source``.

Semantics: ``z_0 = initial``, ``z_{t+1} = A z_t + B x_t + c`` and the output at position t is
``C z_{t+1} + d`` (reduced mod k, to 0..k-1, under a ``mod`` readout; plus ``sum e |a . z_{t+1}|``
over the terms of an ``abs`` readout: |x_t - x_{t-1}| on a state holding the last two inputs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .machine import (
    MACHINE_FORMAT,
    MACHINE_VERSION,
    MachineFormatError,
    ReadsSymbols,
    Symbol,
    alphabet_of,
    integer,
    max_len_of,
    shown,
    text_of,
    write_machine_json,
)

AFFINE_REQUIRED = (
    "format",
    "format_version",
    "kind",
    "alphabet",
    "state_dim",
    "A",
    "B",
    "c",
    "initial",
    "C",
    "d",
)
AFFINE_OPTIONAL = ("readout", "max_len", "task", "source")

Matrix = tuple[tuple[int, ...], ...]
Vector = tuple[int, ...]
Kink = tuple[int, Vector]
"""One term ``e |a . z|`` of an ``abs`` readout: the coefficient e and the form a."""


@dataclass(frozen=True)
class AffineMachine(ReadsSymbols):
    """``z_{t+1} = A z_t + B x_t + c`` from ``z_0 = initial``; the output at position t is
    ``C z_{t+1} + d``, reduced mod ``modulus`` when there is one, plus ``e |a . z_{t+1}|`` for
    each ``(e, a)`` of ``kinks`` (never both). ``x_t`` is the symbol as a vector: ``(x,)`` for
    integer alphabets, ``(a, b)`` for pair alphabets. Arithmetic is exact (Python integers)."""

    alphabet: tuple[Symbol, ...]
    A: Matrix
    B: Matrix
    c: Vector
    initial: Vector
    C: Matrix
    d: Vector
    modulus: int | None = None
    max_len: int | None = None
    task: str | None = None
    source: str | None = None
    kinks: tuple[Kink, ...] = ()

    def __post_init__(self) -> None:
        n, width = len(self.initial), 2 if self.pairs else 1
        shapes = {
            "A": (self.A, n, n),
            "B": (self.B, n, width),
            "C": (self.C, 1, n),
        }
        for name, (matrix, rows, columns) in shapes.items():
            if len(matrix) != rows or any(len(row) != columns for row in matrix):
                raise ValueError(f"{name} must be {rows} x {columns}")
        if not n or len(self.c) != n or len(self.d) != 1:
            raise ValueError("c and initial need the state's dimension (at least 1), d one entry")
        if self.modulus is not None and self.modulus < 1:
            raise ValueError("the modulus must be at least 1")
        if self.kinks and self.modulus is not None:
            raise ValueError("a readout is mod k or has abs terms, not both")
        for coefficient, form in self.kinks:
            if not coefficient or len(form) != n or not any(form):
                raise ValueError(f"an abs term needs a nonzero coefficient and {n} entries")

    @property
    def state_dim(self) -> int:
        """The dimension n of the state."""
        return len(self.initial)

    @cached_property
    def inputs(self) -> npt.NDArray[Any]:
        """Each symbol as its input vector, shape (symbols, d), Python integers."""
        vectors = [s if isinstance(s, tuple) else (s,) for s in self.alphabet]
        return np.array(vectors, dtype=object)

    def is_identity(self) -> bool:
        """Whether A is the identity (the state only accumulates)."""
        n = self.state_dim
        return all(self.A[i][j] == int(i == j) for i in range(n) for j in range(n))

    def read(self, value: int) -> int:
        """The output of ``C z + d`` equal to ``value``: the value, or its residue mod the
        modulus."""
        return value if self.modulus is None else value % self.modulus

    def run(self, symbols: npt.ArrayLike) -> npt.NDArray[Any]:
        """The outputs at every position of a batch of inputs given as symbol indices (shape
        batch x length), computed exactly on the whole batch at once; same shape, Python
        integers."""
        x = np.asarray(symbols, dtype=np.int64)
        if x.ndim != 2:
            raise ValueError("run takes a batch: an array of shape (batch, length)")
        a, b, c = (np.array(m, dtype=object) for m in (self.A, self.B, self.c))
        read, d = np.array(self.C, dtype=object), self.d[0]
        state = np.tile(np.array(self.initial, dtype=object), (x.shape[0], 1))
        found = np.empty(x.shape, dtype=object)
        for t in range(x.shape[1]):
            state = state @ a.T + self.inputs[x[:, t]] @ b.T + c
            values = state @ read[0] + d
            for coefficient, form in self.kinks:
                values = values + coefficient * np.abs(state @ np.array(form, dtype=object))
            found[:, t] = values % self.modulus if self.modulus is not None else values
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
                found[i] = [int(v) for v in out]
        return found

    def describe_symbol(self, a: int) -> str:
        """Symbol ``a`` as the JSON file writes it."""
        return shown(self.alphabet[a])


def affine_from_json(data: object) -> AffineMachine:
    """The affine machine described by parsed JSON ``data``; :class:`MachineFormatError`
    saying what is wrong otherwise."""
    if not isinstance(data, dict):
        raise MachineFormatError("expected a JSON object")
    _check_affine_keys(data)
    alphabet = alphabet_of(data["alphabet"])
    n = integer(data["state_dim"], "state_dim")
    if n < 1:
        raise MachineFormatError("state_dim must be at least 1")
    width = 2 if isinstance(alphabet[0], tuple) else 1
    return AffineMachine(
        alphabet=alphabet,
        A=_matrix(data["A"], "A", n, n),
        B=_matrix(data["B"], "B", n, width),
        c=_vector(data["c"], "c", n),
        initial=_vector(data["initial"], "initial", n),
        C=_matrix(data["C"], "C", 1, n),
        d=_vector(data["d"], "d", 1),
        modulus=_modulus(data.get("readout")),
        kinks=_kinks(data.get("readout"), n),
        max_len=max_len_of(data.get("max_len")),
        task=text_of(data.get("task"), "task"),
        source=text_of(data.get("source"), "source"),
    )


def affine_to_json(machine: AffineMachine) -> dict[str, Any]:
    """``machine`` as JSON data of kind ``"affine"``, which :func:`affine_from_json` reads back
    to an equal machine."""
    readout: dict[str, Any] = {"kind": "identity"}
    if machine.modulus is not None:
        readout = {"kind": "mod", "modulus": machine.modulus}
    if machine.kinks:
        terms = [{"coefficient": e, "form": list(a)} for e, a in machine.kinks]
        readout = {"kind": "abs", "terms": terms}
    data: dict[str, Any] = {
        "format": MACHINE_FORMAT,
        "format_version": MACHINE_VERSION,
        "kind": "affine",
        "alphabet": [list(s) if isinstance(s, tuple) else s for s in machine.alphabet],
        "state_dim": machine.state_dim,
        **{name: [list(row) for row in getattr(machine, name)] for name in ("A", "B", "C")},
        **{name: list(getattr(machine, name)) for name in ("c", "initial", "d")},
        "readout": readout,
    }
    optional = {"max_len": machine.max_len, "task": machine.task, "source": machine.source}
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def save_affine(machine: AffineMachine, path: Path) -> None:
    """Write ``machine`` to the JSON file ``path``; a :class:`RaspError` when it cannot."""
    write_machine_json(affine_to_json(machine), path)


def _check_affine_keys(data: dict[str, Any]) -> None:
    if data.get("format") != MACHINE_FORMAT:
        raise MachineFormatError(f"format is {data.get('format')!r}, not {MACHINE_FORMAT!r}")
    version = data.get("format_version")
    if version != MACHINE_VERSION or isinstance(version, bool):
        raise MachineFormatError(
            f"format_version {version!r} is not supported (this version reads {MACHINE_VERSION})"
        )
    missing = [key for key in AFFINE_REQUIRED if key not in data]
    if missing:
        raise MachineFormatError(f"an affine machine lacks field(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(AFFINE_REQUIRED) - set(AFFINE_OPTIONAL))
    if unknown:
        raise MachineFormatError(f"unknown field(s) of an affine machine {', '.join(unknown)}")


def _vector(value: object, name: str, size: int) -> Vector:
    if not isinstance(value, list) or len(value) != size:
        raise MachineFormatError(f"{name} must be a list of {size} integer(s)")
    return tuple(integer(v, f"an entry of {name}") for v in value)


def _matrix(value: object, name: str, rows: int, columns: int) -> Matrix:
    shape = f"{name} must be {rows} x {columns}: a list of {rows} row(s) of {columns} integer(s)"
    if not isinstance(value, list) or len(value) != rows:
        raise MachineFormatError(f"{shape}, got {json.dumps(value)}")
    if not all(isinstance(row, list) and len(row) == columns for row in value):
        raise MachineFormatError(f"{shape}, got {json.dumps(value)}")
    return tuple(tuple(integer(v, f"an entry of {name}") for v in row) for row in value)


def _modulus(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in ("identity", "mod", "abs"):
        raise MachineFormatError(
            'readout must be {"kind": "identity"}, {"kind": "mod", "modulus": k} or {"kind": '
            '"abs", "terms": [{"coefficient": e, "form": [...]}, ...]}'
        )
    if value["kind"] == "abs":
        return None
    if value["kind"] == "identity":
        if set(value) != {"kind"}:
            raise MachineFormatError("an identity readout takes no other field")
        return None
    if set(value) != {"kind", "modulus"}:
        raise MachineFormatError('a mod readout has exactly the fields "kind" and "modulus"')
    modulus = integer(value["modulus"], "the readout's modulus")
    if modulus < 1:
        raise MachineFormatError("the readout's modulus must be at least 1")
    return modulus


def _kinks(value: object, n: int) -> tuple[Kink, ...]:
    """The terms of an ``abs`` readout (already known to be a dict of a valid kind); none for
    the other kinds."""
    if not isinstance(value, dict) or value.get("kind") != "abs":
        return ()
    shape = f'an abs term is {{"coefficient": e, "form": [{n} integer(s)]}}, e nonzero'
    terms = value.get("terms")
    if set(value) != {"kind", "terms"} or not isinstance(terms, list) or not terms:
        raise MachineFormatError(
            'an abs readout has exactly the fields "kind" and "terms" (a nonempty list)'
        )
    kinks = []
    for term in terms:
        if not isinstance(term, dict) or set(term) != {"coefficient", "form"}:
            raise MachineFormatError(f"{shape}, got {json.dumps(term)}")
        coefficient = integer(term["coefficient"], "an abs term's coefficient")
        form = _vector(term["form"], "an abs term's form", n)
        if not coefficient or not any(form):
            raise MachineFormatError(f"{shape} and the form not all 0, got {json.dumps(term)}")
        kinks.append((coefficient, form))
    return tuple(kinks)
