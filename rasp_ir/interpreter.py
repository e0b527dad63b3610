"""The reference interpreter: a program and a batch of token sequences in, every binding's values
out, exactly. It is the oracle every backend is checked against.

Execution is vectorised over the batch: an s-op is an integer array of *codes* (indices into its
inferred value set, shape ``batch x length``), a selector a boolean array ``batch x queries x
keys``. An :class:`Executable` infers value sets and fixes the evaluation order once per
program; maps and predicates are looked up in tables it builds once (:mod:`rasp_ir.prepared`),
numerical aggregates sum scaled integers, so no value is ever rounded. Ragged batches are padded
to the longest example; padded keys are never selected and padded positions never raise. The
rule of each op kind lives in :mod:`rasp_ir.evaluation_steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from itertools import chain
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from rasp_ir.batch_inputs import TokenBatch
from rasp_ir.diagnostics import RaspError, errors_only
from rasp_ir.evaluation_steps import (
    SELECTOR_BINDERS,
    SOP_BINDERS,
    BatchState,
    Binder,
    Step,
    StepContext,
    is_full,
)
from rasp_ir.ir import Binding, Program
from rasp_ir.position_values import PositionValues
from rasp_ir.prepared import PreparedTables
from rasp_ir.rules import rule_for
from rasp_ir.tables import ValueKey
from rasp_ir.values import Value, describe_value, value_key
from rasp_ir.valuesets import ValueSetResult, infer_value_sets

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class Evaluation:
    """Every binding's values on a batch: codes for s-ops, boolean matrices for selectors."""

    def __init__(
        self,
        program: Program,
        value_sets: dict[str, tuple[Value, ...]],
        lengths: npt.NDArray[np.int64],
        codes: dict[str, Codes],
        selectors: dict[str, Mask],
        tables: PreparedTables | None = None,
    ) -> None:
        self.program = program
        self.lengths = lengths
        self._sets = value_sets
        self._codes = codes
        self._selectors = selectors
        self._tables = tables if tables is not None else PreparedTables(value_sets)

    def codes(self, name: str) -> Codes:
        """Codes of an s-op, shape ``batch x length`` (padded positions hold arbitrary codes)."""
        return self._codes[name]

    def value_set(self, name: str) -> tuple[Value, ...]:
        """The value set the codes of ``name`` index into."""
        return self._sets[name]

    def values(self, name: str) -> list[list[Value]]:
        """The values of an s-op, one list per example, as long as that example (BOS included)."""
        rows: list[list[Value]] = self._tables.values(name)[self._codes[name]].tolist()
        if is_full(self.lengths, self._codes[name].shape[1]):
            return rows
        return [row[:n] for row, n in zip(rows, self.lengths.tolist(), strict=True)]

    def selector(self, name: str) -> Mask:
        """A selector as booleans ``batch x queries x keys``, causal and padding masks applied."""
        return self._selectors[name]

    def outputs(self) -> dict[str, list[list[Value]]]:
        """The values of the program's s-op outputs (selector outputs: see :meth:`selector`)."""
        return {name: self.values(name) for name in self.program.outputs if name in self._codes}


def run(program: Program, tokens: Sequence[Value]) -> dict[str, list[Value]]:
    """The program's outputs on one input (content tokens; BOS is prepended when declared)."""
    evaluation = interpret(program, [tokens])
    return {name: values[0] for name, values in evaluation.outputs().items()}


def interpret(
    program: Program,
    inputs: Sequence[Sequence[Value]],
    *,
    value_sets: ValueSetResult | None = None,
) -> Evaluation:
    """Evaluate every binding of ``program`` on a batch of content-token sequences.

    Prepares the program anew on every call; to run one program on many batches, build an
    :class:`Executable` once and call it. Raises :class:`RaspError` as :class:`Executable` and
    its call do.
    """
    return Executable(program, value_sets=value_sets)(inputs)


class Executable:
    """A program ready to run: value sets, token codes and the rule of every binding worked out
    once, and each binding's step (:mod:`rasp_ir.evaluation_steps`, with its tables) bound on
    first use; then called on any number of batches.

    Raises :class:`RaspError` when value-set inference reports errors or an op has no rule.
    """

    def __init__(self, program: Program, *, value_sets: ValueSetResult | None = None) -> None:
        inferred = value_sets if value_sets is not None else infer_value_sets(program)
        if errors_only(inferred.diagnostics):
            raise RaspError(inferred.diagnostics)
        positions = program.header.positions
        if inferred.sets["indices"] != tuple(range(positions)) or inferred.sets["length"] != tuple(
            range(1, positions + 1)
        ):
            raise ValueError(
                "value sets of indices and length must be those infer_value_sets gives"
            )
        self.program = program
        self.sets = dict(inferred.sets)
        self.tables = PreparedTables(self.sets)
        self._context = StepContext(program, self.tables)
        self._binders = [_binder(binding) for binding in program.bindings]
        self._steps: list[tuple[str, bool, Step]] = []
        self._encoder = _TokenEncoder(program, self.tables)
        self._positions = PositionValues(program)

    def __call__(self, inputs: Sequence[Sequence[Value]]) -> Evaluation:
        """Every binding's values on a batch of content-token sequences.

        Raises :class:`RaspError` when an input has a token outside the vocabulary
        (``input-token``) or too many tokens (``input-length``), and on run-time errors: an
        undefined key or query (``undefined-select``), a categorical mean of distinct values
        (``cat-mean``).
        """
        tokens, lengths = self._encoder.encode(inputs)
        return self.evaluate_codes(tokens, lengths)

    def run_batch(self, batch: TokenBatch) -> Evaluation:
        """Every binding's values on inputs read by :mod:`rasp_ir.batch_inputs` (checked
        against this program's header)."""
        offset = 0 if self._encoder.bos is None else 1
        tokens = np.empty((len(batch), batch.indices.shape[1] + offset), dtype=np.int64)
        tokens[:, offset:] = self._encoder.vocab_codes[batch.indices]
        if self._encoder.bos is not None:
            tokens[:, 0] = self._encoder.bos
        return self.evaluate_codes(tokens, batch.lengths + offset)

    def evaluate_codes(self, tokens: Codes, lengths: npt.NDArray[np.int64]) -> Evaluation:
        """Evaluate on token codes ``batch x width`` (BOS included at position 0 when declared,
        padding anywhere past each example's length) and positions per example."""
        state = BatchState(lengths, tokens.shape[1], self.program.header.causal)
        state.codes["tokens"] = tokens
        state.codes["indices"] = self._positions.value(state, "indices", BatchState.indices)
        state.codes["length"] = self._positions.value(state, "length", BatchState.length)
        steps = self._steps if len(self._steps) == len(self._binders) else self._binding_steps()
        for name, is_selector, step in steps:
            if is_selector:
                state.selectors[name] = step(state)
            else:
                state.codes[name] = step(state)
        return Evaluation(
            self.program, self.sets, lengths, state.codes, state.selectors, self.tables
        )

    def _binding_steps(self) -> Iterator[tuple[str, bool, Step]]:
        """Every binding's step, binding each on first use: in order, as it is evaluated (a
        table that cannot be built fails at its binding, after the bindings before it ran)."""
        for index in range(len(self._binders)):
            yield self._steps[index] if index < len(self._steps) else self._bind(index)

    def _bind(self, index: int) -> tuple[str, bool, Step]:
        """Bind the step of binding ``index`` (every earlier one is bound) and keep it."""
        binding = self.program.bindings[index]
        binder, is_selector = self._binders[index]
        step = binder(self._context, binding)
        if binding.name in self._positions.names:
            step = self._positions.shared(binding.name, step)
        bound = (binding.name, is_selector, step)
        self._steps.append(bound)
        return bound


def _binder(binding: Binding) -> tuple[Binder, bool]:
    """A binding's step binder, and whether it makes a selector."""
    selector_binder = SELECTOR_BINDERS.get(type(binding.node))
    if selector_binder is not None:
        return selector_binder, True
    return rule_for(SOP_BINDERS, binding, "the reference interpreter"), False


class _TokenEncoder:
    """Content-token lists in, token codes ``batch x width`` (BOS prepended) and positions per
    example out; the vocabulary's codes are looked up once per program."""

    def __init__(self, program: Program, tables: PreparedTables) -> None:
        header = program.header
        self.program = program
        vocab = {value_key(v) for v in header.vocab}
        self.codes = {k: c for k, c in tables.codes("tokens").items() if k in vocab}
        self.by_token = {v: self.codes[value_key(v)] for v in header.vocab}
        self.vocab_codes: Codes = np.array(
            [self.codes[value_key(v)] for v in header.vocab], dtype=np.int64
        )
        self.only_strings = all(isinstance(v, str) for v in header.vocab)
        self.bool_vocab = any(isinstance(v, bool) for v in header.vocab)
        self.bos = None if header.bos is None else tables.codes("tokens")[value_key(header.bos)]

    def encode(self, inputs: Sequence[Sequence[Value]]) -> tuple[Codes, npt.NDArray[np.int64]]:
        """Token codes ``batch x width`` and positions per example (BOS included)."""
        content = [len(example) for example in inputs]
        longest = max(content, default=0)
        if longest > self.program.header.max_len:
            b = next(b for b, n in enumerate(content) if n > self.program.header.max_len)
            self._refuse_length(b, content[b])
        if len(inputs) == 1:
            return self._encode_one(inputs)
        flat = list(chain.from_iterable(inputs))
        try:
            found = np.fromiter(map(self._lookup(flat), flat), dtype=np.int64, count=len(flat))
        except (KeyError, TypeError):
            _raise_input_token(self.program, inputs, self.codes)
        offset = 0 if self.bos is None else 1
        lengths = np.array(content, dtype=np.int64) + offset
        width = longest + offset
        token_codes = np.zeros((len(inputs), width), dtype=np.int64)
        if len(flat) == len(inputs) * longest:
            token_codes[:, offset:] = found.reshape(len(inputs), longest)
        else:
            positions = np.arange(width)[None, :]
            token_codes[(positions >= offset) & (positions < lengths[:, None])] = found
        if self.bos is not None:
            token_codes[:, 0] = self.bos
        return token_codes, lengths

    def _encode_one(self, inputs: Sequence[Sequence[Value]]) -> tuple[Codes, Codes]:
        """:meth:`encode` of a batch of one input: one list, one array (a one-input call is
        dominated by numpy's per-operation cost)."""
        (example,) = inputs
        start = [] if self.bos is None else [self.bos]
        try:
            row = start + list(map(self._lookup(example), example))
        except (KeyError, TypeError):
            _raise_input_token(self.program, inputs, self.codes)
        return np.array([row], dtype=np.int64), np.array([len(row)], dtype=np.int64)

    def _lookup(self, tokens: Sequence[Value]) -> Callable[[Value], int]:
        """The code of a token of ``tokens``: a plain dict lookup is exact unless a boolean
        meets a number (Python has ``True == 1``): never with an all-string vocabulary, and not
        when neither side holds booleans."""
        if self.only_strings or (
            not self.bool_vocab and set(map(type, tokens)) <= {str, int, Fraction}
        ):
            return self.by_token.__getitem__
        return lambda token: self.codes[value_key(token)]

    def _refuse_length(self, example: int, tokens: int) -> NoReturn:
        max_len = self.program.header.max_len
        raise RaspError.single(
            "input-length",
            f"example {example} has {tokens} tokens, more than max_len {max_len}",
            hint="shorten the input or raise max_len in the program header",
        )


def _raise_input_token(
    program: Program, inputs: Sequence[Sequence[Value]], codes: dict[ValueKey, int]
) -> NoReturn:
    """Raise ``input-token`` for the first token outside the vocabulary."""
    for b, example in enumerate(inputs):
        for position, token in enumerate(example):
            try:
                known = value_key(token) in codes
            except TypeError:
                known = False
            if not known:
                is_value = token is None or isinstance(token, (str, int, Fraction))
                shown = describe_value(token) if is_value else repr(token)
                vocab = ", ".join(describe_value(v) for v in program.header.vocab)
                raise RaspError.single(
                    "input-token",
                    f"token {shown} at example {b} position {position} is not in the "
                    f"vocabulary ({vocab})",
                    hint="add the token to the program's vocab or fix the input",
                )
    raise AssertionError("no token outside the vocabulary")
