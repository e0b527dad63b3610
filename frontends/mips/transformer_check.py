"""Checking the transformer compiled from a lifted program: the program, the machine it was
lifted from, the machine's task (and optionally the RNN the machine was read off) in; the
program compiled by a backend, run on the task's test split and on random inputs of 2T and 4T
(up to the program's ``max_len``), compared with the machine, the task's targets and the RNN,
and a hub certificate of the comparison out.

Groups of the certificate, each one set of inputs against one reference: ``split``,
``samples_2T``, ``samples_4T`` (or ``samples_max_len`` where 2T or 4T exceed ``max_len``)
against the task's targets; ``machine_split``, ``machine_samples_2T``, ... against the
machine; ``rnn_split`` against the RNN. The task's inputs reach the program as the machine's
tokens (``machine.tokens``); disagreements name inputs by their symbols.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from rasp_ir.api import (
    BatchRunner,
    Certificate,
    CheckedInputs,
    Disagreement,
    LiftedSource,
    RaspError,
    Value,
    check_program,
    eliminate_dead_code,
    format_program,
    ir,
    load_backend,
    load_program,
    make_certificate,
    normalize_number,
    require_supported,
    sha256_of_text,
)

from .certify import describe
from .command_defaults import SPLIT_SEQUENCES
from .construction import OUTPUT
from .machine import shown
from .rnn_split import Machine
from .task_spec import IntArray, Task
from .verify_cmds import GENERALISATION, SAMPLES

if TYPE_CHECKING:
    from .rnn import GeneralRNN

CHUNK = 16384
"""Sequences handed to the compiled program at once."""
CODE = "mips-verify-transformer"

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Inputs:
    """One set of task inputs: its group entry (counts still 0), the sequences ``(n, L)`` or
    ``(n, L, 2)`` and their symbols' indices in the machine's alphabet ``(n, L)``."""

    check: CheckedInputs
    x: IntArray
    indices: IntArray


Reference = Callable[[Inputs], npt.ArrayLike]


@dataclass(frozen=True)
class Named:
    """A reference: the prefix of its groups' names, what messages call it, its outputs."""

    prefix: str
    name: str
    outputs: Reference


@dataclass(frozen=True)
class Outcome:
    """One set of inputs against one reference: the group's entry, the inputs' length, whom
    they were compared with and every position where the transformer differs (the first of
    each input first)."""

    check: CheckedInputs
    length: int
    reference: str
    wrong: tuple[Disagreement, ...]


def verify_transformer(
    program: ir.Program | str,
    machine: Machine,
    task: Task,
    *,
    model: GeneralRNN | None = None,
    backend: str = "torch",
    sequences: int = SPLIT_SEQUENCES,
    seed: int = 0,
    source: LiftedSource | None = None,
    model_name: str = "RNN",
    runner: BatchRunner | None = None,
) -> Certificate:
    """Compile ``program`` (or its text) with ``backend`` and compare its outputs with
    ``machine``, ``task``'s targets and, given ``model``, the RNN's rounded outputs (called
    ``model_name``) on the task's test split (``sequences`` generated with ``seed``), and with
    the first two on random inputs of 2T and 4T (seeded); ``runner`` runs an artifact the
    caller already compiled with ``backend`` instead of compiling again. The certificate
    records every group; it is returned whether or not everything agrees
    (:func:`require_agreement` fails on a disagreement). ``source`` says where the program
    comes from (default: ``<program>`` and its text's hash). A :class:`RaspError` when the
    program does not check, does not fit the machine or the task, or the backend cannot
    compile it."""
    checked = checked_program(program)
    fit(checked, machine, task)
    run = runner or compiled(checked, backend)
    named, rnn = references(machine, task), []
    if model is not None:
        from .verify_machine import model_reference

        rounded = model_reference(model)
        rnn.append(Named("rnn_", model_name, lambda inputs: rounded(inputs.x)))
    outcomes: list[Outcome] = []
    for inputs in input_sets(task, machine, sequences, seed, checked.header.max_len):
        extra = rnn if inputs.check.selection == "split" else []
        outcomes += compare(run, machine, inputs, [*named, *extra])
    text = format_program(checked)
    where = source or LiftedSource.of("<program>", sha256_of_text(text), {"task": task.name})
    names = [task.name, "the machine", *(r.name for r in rnn)]
    groups = {
        o.check.name: {"reference": o.reference, "length": o.length, "disagree": len(o.wrong)}
        for o in outcomes
    }
    return make_certificate(
        "mips",
        where,
        text,
        f"the {backend} transformer's output and that of {', '.join(names)} at every position",
        [o.check for o in outcomes],
        [d for o in outcomes for d in o.wrong],
        details={"backend": backend, "task": task.name, "references": names, "groups": groups},
    )


def checked_program(program: ir.Program | str) -> ir.Program:
    """``program`` (parsed from its text when a string), checked; a RaspError on errors."""
    if isinstance(program, str):
        return load_program("<program>", text=program).program
    result = check_program(program)
    if result.errors:
        raise RaspError(result.diagnostics)
    return program


def fit(program: ir.Program, machine: Machine, task: Task) -> None:
    """A :class:`RaspError` unless ``program`` reads the machine's tokens, has the lifted
    output and handles the task's length, and the task has one output per step."""
    vocab, tokens = sorted(program.header.vocab, key=str), sorted(machine.tokens, key=str)
    if vocab != tokens:
        raise RaspError.single(
            CODE,
            f"the program reads the tokens {vocab} but the machine's symbols are the tokens "
            f"{tokens}",
            hint="give the machine the program was lifted from ('rasp mips lift MACHINE.json')",
        )
    if OUTPUT not in program.outputs:
        raise RaspError.single(
            CODE,
            f"the program has no output {OUTPUT!r} (its outputs: {', '.join(program.outputs)})",
            hint="give a program written by 'rasp mips lift'",
        )
    if task.outputs.width != 1:
        raise RaspError.single(
            CODE, f"{task.name} has {task.outputs.width} outputs per step; a machine one"
        )
    if program.header.max_len < task.length:
        raise RaspError.single(
            CODE,
            f"the program handles inputs up to max_len {program.header.max_len}, shorter than "
            f"{task.name}'s length T = {task.length}",
            hint=f"lift the machine with --max-len {task.length} or more",
        )


def compiled(program: ir.Program, backend: str) -> BatchRunner:
    """``program`` lowered by the backend called ``backend`` (from the registry), as a
    runner."""
    found = load_backend(backend)
    require_supported(found, program)
    live = eliminate_dead_code(program)
    return found.runner(live, found.lower(live))


def sample_lengths(length: int, max_len: int) -> dict[str, int]:
    """The sample groups and their lengths: 2T and 4T (T = ``length``), each shortened to
    ``max_len`` where longer (then named ``samples_max_len``), each length once."""
    found: dict[str, int] = {}
    for factor in GENERALISATION:
        wanted = factor * length
        name = f"samples_{factor}T" if wanted <= max_len else "samples_max_len"
        if min(wanted, max_len) not in found.values():
            found[name] = min(wanted, max_len)
    return found


def input_sets(
    task: Task, machine: Machine, sequences: int, seed: int, max_len: int
) -> list[Inputs]:
    """The task's test split (``sequences`` generated with ``seed``) and :data:`SAMPLES`
    random inputs at each of :func:`sample_lengths` (drawn with ``seed``, in that order, as
    ``rasp mips verify`` draws them); a RaspError names a symbol outside the machine's
    alphabet."""
    from .extract import symbol_indices
    from .task_spec import make_split

    sets = [
        (CheckedInputs("split", "split", 0, 0, seed=seed), make_split(task, sequences, seed).x_test)
    ]
    rng = np.random.default_rng(seed)
    for name, length in sample_lengths(task.length, max_len).items():
        longer = dataclasses.replace(task, length=length, unique_inputs=False)
        sets.append(
            (CheckedInputs(name, "samples", 0, 0, seed=seed), longer.sample(longer, SAMPLES, rng))
        )
    return [Inputs(check, x, symbol_indices(x, machine.alphabet)) for check, x in sets]


def references(machine: Machine, task: Task) -> list[Named]:
    """The task's targets (groups named as the inputs) and the machine (``machine_...``)."""
    return [
        Named("", task.name, lambda inputs: task.label(inputs.x)),
        Named("machine_", "the machine", lambda inputs: machine.run(inputs.indices)),
    ]


def compare(
    run: BatchRunner, machine: Machine, inputs: Inputs, named: Sequence[Named]
) -> list[Outcome]:
    """The transformer on ``inputs`` (as the machine's tokens, :data:`CHUNK` at a time)
    against each reference of ``named``."""
    tokens = np.asarray(machine.tokens, dtype=np.int64)[inputs.indices].tolist()
    got = [
        row
        for start in range(0, len(tokens), CHUNK)
        for row in run(tokens[start : start + CHUNK])[OUTPUT]
    ]
    length = int(inputs.x.shape[1])
    have, valid = integer_outputs(got, length)
    found = []
    for reference in named:
        expected = np.asarray(reference.outputs(inputs)).astype(np.int64).reshape(have.shape)
        rows, positions = firsts_first(~valid | (have != expected))
        wrong = tuple(
            Disagreement(_symbols(inputs.x[r]), t, int(expected[r, t]), got[r][t])
            for r, t in zip(rows, positions, strict=True)
        )
        check = dataclasses.replace(
            inputs.check,
            name=reference.prefix + inputs.check.name,
            inputs=len(got),
            positions=int(have.size),
        )
        found.append(Outcome(check, length, reference.name, wrong))
    return found


def firsts_first(wrong: BoolArray) -> tuple[list[int], list[int]]:
    """The rows and positions where ``wrong`` holds: the first of each row first (so that the
    disagreements a certificate keeps show as many inputs as they can), then the others."""
    rows, positions = np.nonzero(wrong)
    first = np.zeros(len(rows), dtype=bool)
    first[np.unique(rows, return_index=True)[1]] = True
    order = np.concatenate([np.flatnonzero(first), np.flatnonzero(~first)])
    return rows[order].tolist(), positions[order].tolist()


def integer_outputs(rows: Sequence[Sequence[Value]], length: int) -> tuple[IntArray, BoolArray]:
    """The transformer's outputs ``(n, length)`` as integers, and where they are integers
    (an undefined value, a fraction or a boolean is never a machine's output)."""
    shape = (len(rows), length)
    given = [v for row in rows for v in row]
    if all(type(v) is int for v in given):  # the usual case, without a call per value
        return np.array(given, dtype=np.int64).reshape(shape), np.ones(shape, dtype=bool)
    flat = [_integer(v) for v in given]
    valid = np.array([v is not None for v in flat], dtype=bool).reshape(shape)
    return np.array([v or 0 for v in flat], dtype=np.int64).reshape(shape), valid


def _integer(value: Value) -> int | None:
    """``value`` as an integer (an integral fraction too); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        return None
    number = normalize_number(value)
    return number if isinstance(number, int) else None


def _symbols(row: IntArray) -> tuple[int | str, ...]:
    """An input sequence as certificate values: integers, or pairs as machine files write
    them."""
    return tuple(s if isinstance(s, int) else shown((s[0], s[1])) for s in row.tolist())


def summary_lines(certificate: Certificate) -> list[str]:
    """One line per group of a :func:`verify_transformer` certificate: inputs, reference,
    counts."""
    groups = certificate.details["groups"]
    lines = []
    for check in certificate.checks:
        group = groups[check.name]
        lines.append(
            f"{check.name} ({check.selection}, length {group['length']}, seed {check.seed}) vs "
            f"{group['reference']}: {check.inputs} sequences, {check.positions} positions, "
            f"{group['disagree']} disagree"
        )
    return lines


def require_agreement(certificate: Certificate, transformer: str) -> None:
    """A :class:`RaspError` showing the first disagreeing inputs unless ``certificate`` (of
    ``transformer``, as messages call it) records agreement everywhere."""
    if certificate.ok:
        return
    raise RaspError.single(
        CODE,
        f"{transformer} disagrees with its references at {certificate.disagreement_count} of "
        f"{certificate.positions_compared} positions: "
        f"{describe(certificate.disagreements, 'reference', 'transformer')}",
        hint="the certificate lists the first disagreements; 'rasp mips verify MACHINE.json "
        "--task TASK' tells whether the machine or the program is at fault",
    )
