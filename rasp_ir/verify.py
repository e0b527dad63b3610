"""A program and any backend in, a report out: the backend's outputs against the interpreter's
(or against a second backend's).

Inputs are every sequence over the vocabulary up to a length (exhaustive) and/or random
sequences of the maximum length (seeded samples). Both sides run on large batches (the
interpreter prepares the program once); a batch on which a side raises is halved until the
failing inputs are found. An input on which the interpreter raises (e.g. a categorical mean of
distinct values) must make the backend raise too. Values are compared as with
:func:`~rasp_ir.values.value_key`, so ``True`` and ``1`` differ and undefined values must match:
a whole output of a batch at once (equal lists, equal types), input by input where that fails.

A backend with a ``space_runner(program, artifact)`` (a :class:`~rasp_ir.verify_space.
SpaceRunner`) is checked exhaustively on codes, in large batches it enumerates itself; when the
other side has one too, nothing runs in Python per input, so spaces of up to
:data:`MAX_SPACE_INPUTS` inputs are allowed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, product

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import Executable, interpret
from rasp_ir.limits import MAX_INPUTS
from rasp_ir.optimize import eliminate_dead_code
from rasp_ir.registry import Backend, BatchRunner, Outputs, require_supported
from rasp_ir.values import Value, value_key
from rasp_ir.valuesets import infer_value_sets
from rasp_ir.verify_space import InterpreterSpace, SpaceRunner, check_space

MAX_SPACE_INPUTS = 10_000_000_000
BATCH = 1 << 15
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
    """How many inputs were checked, and the disagreements (the first ``KEPT_MISMATCHES``)
    of ``backend`` with ``against`` (the interpreter, or a second backend's name)."""

    backend: str
    against: str = "interpreter"
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
        yield from map(list, product(vocab, repeat=n))


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
    against: Backend | None = None,
) -> VerifyReport:
    """Check ``backend`` against the interpreter (or the backend ``against``) on ``program``.

    ``exhaustive_max_len``: every input up to that length (refused when more than
    :data:`MAX_INPUTS`, or :data:`MAX_SPACE_INPUTS` when both sides enumerate the space
    themselves); ``samples``: that many random inputs at ``max_len``. At least one.
    Raises :class:`RaspError` for bad options, unsupported constructs and program errors.
    """
    if exhaustive_max_len is None and samples is None:
        raise RaspError.single("usage", "verify needs exhaustive_max_len or samples")
    if samples is not None and samples < 0:
        raise RaspError.single("usage", f"samples must be at least 0, got {samples}")
    if exhaustive_max_len is not None:
        _check_space_size(program, exhaustive_max_len, backend, against)
    require_supported(backend, program)
    if against is not None:
        require_supported(against, program)
    # Only what the outputs need is compared: backends drop dead bindings, so an error the
    # interpreter would raise in dead code is not a disagreement.
    live = eliminate_dead_code(program)
    sides = [_Side(live, backend)] + ([_Side(live, against)] if against is not None else [])
    got, expected = sides[0], sides[1] if against is not None else None
    report = VerifyReport(backend.name, against.name if against is not None else "interpreter")
    reference = expected.run if expected is not None else interpreter_runner(live)
    if exhaustive_max_len is not None:
        _check_exhaustive(live, got, expected, reference, exhaustive_max_len, report)
    if samples is not None:
        source = iter(sampled_inputs(program, samples, seed))
        while batch := list(islice(source, BATCH)):
            _check_batch(live, got.run, batch, report, reference)
    return report


def verify_inputs(
    program: ir.Program, backend: Backend, inputs: Iterable[Sequence[Value]]
) -> VerifyReport:
    """Check ``backend`` against the interpreter on ``program`` over the given ``inputs``
    (content-token lists). Raises :class:`RaspError` for unsupported constructs and for
    programs the backend refuses."""
    require_supported(backend, program)
    live = eliminate_dead_code(program)
    run = backend.runner(live, backend.lower(live))
    reference = interpreter_runner(live)
    report = VerifyReport(backend.name)
    source = (list(tokens) for tokens in inputs)
    while batch := list(islice(source, BATCH)):
        _check_batch(live, run, batch, report, reference)
    return report


def interpreter_runner(program: ir.Program) -> BatchRunner:
    """The reference interpreter as a batch runner, ``program`` prepared once."""
    executable = Executable(program)

    def run(batch: Sequence[Sequence[Value]]) -> Outputs:
        return executable(batch).outputs()

    return run


def _has_space(backend: Backend) -> bool:
    return callable(getattr(backend, "space_runner", None))


def _check_space_size(
    program: ir.Program, max_len: int, backend: Backend, against: Backend | None
) -> None:
    """Refuse an exhaustive length outside 0..max_len, or a space larger than the limit."""
    header = program.header
    if not 0 <= max_len <= header.max_len:
        raise RaspError.single(
            "usage", f"exhaustive length {max_len} is outside 0..max_len {header.max_len}"
        )
    on_codes = _has_space(backend) and against is not None and _has_space(against)
    limit = MAX_SPACE_INPUTS if on_codes else MAX_INPUTS
    count = input_count(len(header.vocab), max_len)
    if count > limit:
        raise RaspError.single(
            "too-many-inputs",
            f"{count} inputs up to length {max_len} over {len(header.vocab)} "
            f"tokens, more than {limit}",
            hint="use samples, a shorter length (--max-len) or a smaller --vocab",
        )


class _Side:
    """A backend with its artifact for one program: a batch runner and, where the backend has
    one, a space runner."""

    def __init__(self, program: ir.Program, backend: Backend) -> None:
        artifact = backend.lower(program)
        self.run = backend.runner(program, artifact)
        make_space = getattr(backend, "space_runner", None)
        space = make_space(program, artifact) if callable(make_space) else None
        self.space: SpaceRunner | None = space if isinstance(space, SpaceRunner) else None


def _check_exhaustive(
    program: ir.Program,
    got: _Side,
    expected: _Side | None,
    expected_run: BatchRunner,
    max_len: int,
    report: VerifyReport,
) -> None:
    """Every input up to ``max_len``: on codes when ``got`` has a space runner (and so has
    ``expected``, unless that is the interpreter), else in batches of token lists
    (``expected_run``: the reference side's batch runner)."""
    reference = InterpreterSpace(program) if expected is None else expected.space
    if got.space is None or reference is None:
        source = exhaustive_inputs(program, max_len)
        while batch := list(islice(source, BATCH)):
            _check_batch(program, got.run, batch, report, expected_run)
        return

    def explain(tokens: list[Value]) -> tuple[list[Value] | str, list[Value] | str]:
        expected_outcome = _outcome(program, expected_run, [tokens])
        return _first(expected_outcome), _first(_outcome(program, got.run, [tokens]))

    def on_mismatch(
        tokens: list[Value], output: str, want: list[Value] | str, have: list[Value] | str
    ) -> None:
        report.add(Mismatch(tuple(tokens), output, want, have))

    sets = dict(infer_value_sets(program).sets)
    checked, rejected = check_space(
        program, sets, got.space, reference, max_len, on_mismatch, explain
    )
    report.checked += checked
    report.errors += rejected


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
    program: ir.Program,
    run: BatchRunner,
    batch: list[list[Value]],
    report: VerifyReport,
    reference: BatchRunner | None = None,
) -> None:
    """Compare ``run`` with ``reference`` (the interpreter when None) on ``batch``."""
    expected, got = _outcome(program, reference, batch), _outcome(program, run, batch)
    if isinstance(expected, str) or isinstance(got, str):
        if len(batch) > 1:  # find the inputs that fail, halving the batch
            middle = len(batch) // 2
            _check_batch(program, run, batch[:middle], report, reference)
            _check_batch(program, run, batch[middle:], report, reference)
            return
        report.checked += 1
        report.errors += isinstance(expected, str)
        if isinstance(expected, str) != isinstance(got, str):
            report.add(Mismatch(tuple(batch[0]), "", _first(expected), _first(got)))
        return
    report.checked += len(batch)
    for name, want_rows in expected.items():
        got_rows: Sequence[list[Value]] | None = got.get(name)
        if got_rows is not None and _agree(want_rows, got_rows):
            continue
        for b, want in enumerate(want_rows):
            have = got_rows[b] if got_rows is not None and b < len(got_rows) else "missing"
            if isinstance(have, str) or not _same(want, have):
                report.add(Mismatch(tuple(batch[b]), name, want, have))


def _agree(want_rows: list[list[Value]], got_rows: Sequence[list[Value]]) -> bool:
    """True when every row agrees: equal lists of values of equal types (so that ``True`` and
    ``1``, ``1`` and ``Fraction(1)`` stay apart); False means compare row by row."""
    if want_rows != got_rows:
        return False
    want_types = list(map(type, chain.from_iterable(want_rows)))
    return want_types == list(map(type, chain.from_iterable(got_rows)))


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
