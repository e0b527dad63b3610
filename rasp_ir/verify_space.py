"""Exhaustive checks on codes: two runners over the whole input space in, mismatches out.

The space of a program is every sequence over its vocabulary of length 0..``max_len``, numbered
as :func:`rasp_ir.verify.exhaustive_inputs` orders it: shortest first, then as a mixed-radix
counter whose last position runs fastest (the ``k``-th input of length ``n`` has vocabulary
index ``k // V^(n-1-p) % V`` at position ``p``; it is number ``k + (V^0 + ... + V^(n-1))``).
A :class:`SpaceRunner` evaluates a range of numbers by itself (a backend enumerates it on its
device, no Python lists) and answers in codes: indices into the program's inferred value sets,
as the interpreter's :class:`Evaluation` holds them. Comparing codes needs no decoding; only
mismatches are turned into values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.values import Value
from rasp_ir.valuesets import infer_value_sets

Codes = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
# One input's outcome on one side: its output values (joined) or the error message.
Outcome = list[Value] | str
# A single input in, the (expected, got) outcomes out.
Explain = Callable[[list[Value]], tuple[Outcome, Outcome]]
OnMismatch = Callable[[list[Value], str, Outcome, Outcome], None]
INTERPRETER_BATCH = 1 << 15
# The interpreter runs best on small batches (its batch x N x N arrays stay in cache).
INTERPRETER_CHUNK = 2048


@dataclass(frozen=True)
class CodedBatch:
    """Outputs on a range of inputs: ``codes[output]`` is ``inputs x positions`` (BOS
    included, padded to the longest input: compare only the first ``lengths[k]`` positions);
    ``errors[k]`` is True when input ``k`` is rejected (its codes are then meaningless)."""

    codes: dict[str, Codes]
    lengths: Codes
    errors: Flags


@runtime_checkable
class SpaceRunner(Protocol):
    """Evaluates the inputs numbered ``start..stop-1`` of the space, in order, at most
    ``batch_size`` at a time (callers slice accordingly)."""

    batch_size: int

    def __call__(self, start: int, stop: int) -> CodedBatch: ...


def space_digits(vocab_size: int, start: int, stop: int) -> tuple[Codes, Codes]:
    """Vocabulary indices of the inputs numbered ``start..stop-1`` (``inputs x longest``,
    0 past each input's end) and their lengths."""
    numbers = np.arange(start, stop, dtype=np.int64)
    firsts = [0]  # the number of the first input of each length
    while firsts[-1] <= max(stop - 1, 0):
        firsts.append(firsts[-1] + vocab_size ** (len(firsts) - 1))
    bounds = np.array(firsts, dtype=np.int64)
    lengths = np.searchsorted(bounds, numbers, side="right") - 1
    offsets = numbers - bounds[lengths]
    longest = int(lengths.max()) if len(lengths) else 0
    positions = np.arange(longest, dtype=np.int64)
    exponents = np.maximum(lengths[:, None] - 1 - positions[None, :], 0)
    digits: Codes = (offsets[:, None] // vocab_size**exponents) % vocab_size
    digits[positions[None, :] >= lengths[:, None]] = 0
    return digits, lengths


def space_inputs(program: ir.Program, start: int, stop: int) -> list[list[Value]]:
    """The inputs numbered ``start..stop-1`` as token lists."""
    digits, lengths = space_digits(len(program.header.vocab), start, stop)
    return _token_lists(program, digits, lengths)


def _token_lists(program: ir.Program, digits: Codes, lengths: Codes) -> list[list[Value]]:
    vocab = np.empty(len(program.header.vocab), dtype=object)
    vocab[:] = list(program.header.vocab)
    rows: list[list[Value]] = vocab[digits].tolist()
    if len(lengths) == 0 or lengths[0] == lengths[-1] == digits.shape[1]:
        return rows  # one length: nothing to cut
    return [row[:n] for row, n in zip(rows, lengths.tolist(), strict=True)]


class InterpreterSpace:
    """The reference interpreter as a :class:`SpaceRunner` (inputs built in Python; a batch
    the interpreter rejects is halved until the rejected inputs are found)."""

    batch_size = INTERPRETER_BATCH

    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.value_sets = infer_value_sets(program)
        names = dict.fromkeys(program.outputs)
        self.outputs = [n for n in names if not program.is_selector_name(n)]

    def __call__(self, start: int, stop: int) -> CodedBatch:
        digits, content = space_digits(len(self.program.header.vocab), start, stop)
        lengths = content + int(self.program.header.bos is not None)
        width = int(lengths.max(initial=0))
        codes = {n: np.zeros((stop - start, width), dtype=np.int64) for n in self.outputs}
        errors = np.zeros(stop - start, dtype=np.bool_)
        for first in range(0, stop - start, INTERPRETER_CHUNK):
            part = slice(first, first + INTERPRETER_CHUNK)
            inputs = _token_lists(self.program, digits[part], content[part])
            self._run(inputs, first, codes, errors)
        return CodedBatch(codes, lengths, errors)

    def _run(
        self, inputs: list[list[Value]], first: int, codes: dict[str, Codes], errors: Flags
    ) -> None:
        """Fill rows ``first..`` with the codes of ``inputs``; halve a rejected batch."""
        try:
            evaluation = interpret(self.program, inputs, value_sets=self.value_sets)
        except RaspError:
            if len(inputs) == 1:
                errors[first] = True
                return
            half = len(inputs) // 2
            self._run(inputs[:half], first, codes, errors)
            self._run(inputs[half:], first + half, codes, errors)
            return
        for name in self.outputs:
            found = evaluation.codes(name)
            codes[name][first : first + len(inputs), : found.shape[1]] = found


def check_space(
    program: ir.Program,
    value_sets: dict[str, tuple[Value, ...]],
    got: SpaceRunner,
    expected: SpaceRunner,
    max_len: int,
    on_mismatch: OnMismatch,
    explain: Explain,
) -> tuple[int, int]:
    """Compare ``got`` with ``expected`` on every input up to ``max_len``; call
    ``on_mismatch(input, output, expected, got)`` for each disagreement (values, or error
    messages from ``explain`` when one side rejects the input). Returns (checked, rejected by
    both)."""
    batch = max(1, min(got.batch_size, expected.batch_size))
    vocab_size = len(program.header.vocab)
    total = sum(vocab_size**n for n in range(max_len + 1))
    rejected = 0
    for start in range(0, total, batch):
        stop = min(total, start + batch)
        want, have = expected(start, stop), got(start, stop)
        rejected += int((want.errors & have.errors).sum())
        _report(program, value_sets, start, want, have, on_mismatch, explain)
    return total, rejected


def _report(
    program: ir.Program,
    value_sets: dict[str, tuple[Value, ...]],
    start: int,
    want: CodedBatch,
    have: CodedBatch,
    on_mismatch: OnMismatch,
    explain: Explain,
) -> None:
    """Pass every disagreement of one batch to ``on_mismatch``, in input order."""
    one_sided = np.flatnonzero(want.errors != have.errors)
    both_ok = ~(want.errors | have.errors)
    for k in one_sided.tolist():
        tokens = space_inputs(program, start + k, start + k + 1)[0]
        expected, got = explain(tokens)
        on_mismatch(tokens, "", expected, got)
    inside = np.arange(want.lengths.max(initial=0))[None, :] < want.lengths[:, None]
    for name, want_codes in want.codes.items():
        have_codes = have.codes[name]
        differs = np.flatnonzero(both_ok & ((want_codes != have_codes) & inside).any(axis=1))
        table = value_sets[name]
        for k in differs.tolist():
            tokens = space_inputs(program, start + k, start + k + 1)[0]
            n = int(want.lengths[k])
            expected_values = [table[c] for c in want_codes[k, :n].tolist()]
            got_values = [_value(table, c) for c in have_codes[k, :n].tolist()]
            on_mismatch(tokens, name, expected_values, got_values)


def _value(table: tuple[Value, ...], code: int) -> Value:
    """The value of a code, or a description of a code outside the value set."""
    return table[code] if 0 <= code < len(table) else f"<code {code} outside the value set>"
