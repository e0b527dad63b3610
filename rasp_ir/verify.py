"""A program and any backend in, a report out: the backend's outputs against the interpreter's.

Inputs are every sequence over the vocabulary up to a length (exhaustive) and/or random
sequences of the maximum length (seeded samples). Both sides run on batches; an input on which
the interpreter raises (e.g. a categorical mean of distinct values) must make the backend raise
too. Values are compared position by position with :func:`~rasp_ir.values.value_key`, so
``True`` and ``1`` differ and undefined values must match.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice, product

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.limits import MAX_INPUTS
from rasp_ir.optimize import eliminate_dead_code
from rasp_ir.registry import Backend, BatchRunner, Outputs, require_supported
from rasp_ir.values import Value, value_key

BATCH = 2048
KEPT_MISMATCHES = 100


@dataclass(frozen=True)
class Mismatch:
    """One output of one input where the backend and the interpreter disagree.

    ``expected``/``got`` are the output's values, or the error message (a ``str``) on the side
    that raised; ``output`` is ``""`` when a whole input failed on one side only.
    """

    input: tuple[Value, ...]
    output: str
    expected: list[Value] | str
    got: list[Value] | str


@dataclass
class VerifyReport:
    """How many inputs were checked, and the disagreements (the first ``KEPT_MISMATCHES``)."""

    backend: str
    checked: int = 0
    errors: int = 0
    mismatch_count: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the backend agrees with the interpreter on every input checked."""
        return self.mismatch_count == 0

    def add(self, mismatch: Mismatch) -> None:
        """Count ``mismatch``; keep it when fewer than ``KEPT_MISMATCHES`` are kept."""
        self.mismatch_count += 1
        if len(self.mismatches) < KEPT_MISMATCHES:
            self.mismatches.append(mismatch)


def input_count(vocab_size: int, max_len: int) -> int:
    """How many sequences of length 0..``max_len`` a vocabulary of ``vocab_size`` has."""
    return sum(vocab_size**n for n in range(max_len + 1))


def exhaustive_inputs(program: ir.Program, max_len: int) -> Iterator[list[Value]]:
    """Every sequence over the vocabulary of length 0..``max_len``, shortest first."""
    vocab = program.header.vocab
    for n in range(max_len + 1):
        for tokens in product(vocab, repeat=n):
            yield list(tokens)


def sampled_inputs(program: ir.Program, count: int, seed: int = 0) -> list[list[Value]]:
    """``count`` random sequences of exactly ``max_len`` tokens (seeded)."""
    rng = random.Random(seed)
    vocab, n = program.header.vocab, program.header.max_len
    return [[rng.choice(vocab) for _ in range(n)] for _ in range(count)]


def verify(
    program: ir.Program,
    backend: Backend,
    *,
    exhaustive_max_len: int | None = None,
    samples: int | None = None,
    seed: int = 0,
) -> VerifyReport:
    """Check ``backend`` against the interpreter on ``program``.

    ``exhaustive_max_len``: every input up to that length (refused when more than
    :data:`MAX_INPUTS`); ``samples``: that many random inputs at ``max_len``. At least one.
    Raises :class:`RaspError` for bad options, unsupported constructs and program errors.
    """
    if exhaustive_max_len is None and samples is None:
        raise RaspError.single("usage", "verify needs exhaustive_max_len or samples")
    header = program.header
    batches: list[Iterator[list[Value]]] = []
    if exhaustive_max_len is not None:
        if not 0 <= exhaustive_max_len <= header.max_len:
            raise RaspError.single(
                "usage",
                f"exhaustive length {exhaustive_max_len} is outside 0..max_len {header.max_len}",
            )
        count = input_count(len(header.vocab), exhaustive_max_len)
        if count > MAX_INPUTS:
            raise RaspError.single(
                "too-many-inputs",
                f"{count} inputs up to length {exhaustive_max_len} over {len(header.vocab)} "
                f"tokens, more than {MAX_INPUTS}",
                hint="use samples, a shorter length (--max-len) or a smaller --vocab",
            )
        batches.append(exhaustive_inputs(program, exhaustive_max_len))
    if samples is not None:
        if samples < 0:
            raise RaspError.single("usage", f"samples must be at least 0, got {samples}")
        batches.append(iter(sampled_inputs(program, samples, seed)))
    require_supported(backend, program)
    # Only what the outputs need is compared: backends drop dead bindings, so an error the
    # interpreter would raise in dead code is not a disagreement.
    program = eliminate_dead_code(program)
    run = backend.runner(program, backend.lower(program))
    report = VerifyReport(backend.name)
    for source in batches:
        while batch := list(islice(source, BATCH)):
            _check_batch(program, run, batch, report)
    return report


Outcome = Outputs | str


def _outcome(program: ir.Program, run: BatchRunner | None, batch: list[list[Value]]) -> Outcome:
    """The outputs on ``batch`` (interpreter when ``run`` is None), or the error message."""
    try:
        if run is None:
            return interpret(program, batch).outputs()
        return run(batch)
    except RaspError as error:
        return "; ".join(d.message for d in error.diagnostics)
    except Exception as error:  # a backend may raise anything: that is its answer
        return f"{type(error).__name__}: {error}"


def _check_batch(
    program: ir.Program, run: BatchRunner, batch: list[list[Value]], report: VerifyReport
) -> None:
    expected, got = _outcome(program, None, batch), _outcome(program, run, batch)
    if isinstance(expected, str) or isinstance(got, str):
        if len(batch) > 1:  # find the inputs that fail, one at a time
            for tokens in batch:
                _check_batch(program, run, [tokens], report)
            return
        report.checked += 1
        report.errors += isinstance(expected, str)
        if isinstance(expected, str) != isinstance(got, str):
            report.add(Mismatch(tuple(batch[0]), "", _first(expected), _first(got)))
        return
    report.checked += len(batch)
    for name, want_rows in expected.items():
        got_rows: Sequence[list[Value]] | None = got.get(name)
        for b, want in enumerate(want_rows):
            have = got_rows[b] if got_rows is not None and b < len(got_rows) else "missing"
            if isinstance(have, str) or not _same(want, have):
                report.add(Mismatch(tuple(batch[b]), name, want, have))


def _first(outcome: Outcome) -> list[Value] | str:
    """A one-input outcome as one value list per output (joined) or the error message."""
    if isinstance(outcome, str):
        return outcome
    return [v for rows in outcome.values() for v in rows[0]]


def _same(want: Sequence[Value], have: Sequence[Value]) -> bool:
    try:
        return len(want) == len(have) and all(
            value_key(a) == value_key(b) for a, b in zip(want, have, strict=True)
        )
    except TypeError:  # values of a kind the interpreter never gives
        return False
