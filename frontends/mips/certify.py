"""Certification: a machine, its lifted program and the lift options in, the program with its
certificate out (a :class:`Lifted`), or a :class:`RaspError` when the program fails the checker
or disagrees with the machine anywhere it was compared.

The inputs compared with the machine are every input of length 1..L, L the longest whose
inputs number at most ``exhaustive_limit`` in all, and ``samples`` random inputs of length
``max_len`` (seeded). Further :class:`Reference` groups (an RNN's outputs on a task's test split)
are compared with the program on their own inputs; a disagreement there is the machine's fault,
not the lift's, and the error says so.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rasp_ir.api import (
    CheckedInputs,
    Disagreement,
    Lifted,
    LiftedSource,
    LiftOptions,
    RaspError,
    check_program,
    format_program,
    interpret,
    ir,
    make_certificate,
    parse_program,
)

from .construction import OUTPUT

FRONTEND_NAME = "mips"
COMPARED = "the machine's output and the program's at every position of every input"
BATCH = 4096


class Machine(Protocol):
    """What certification needs of a machine (finite or affine): its tokens and its outputs on
    inputs given as tokens."""

    @property
    def tokens(self) -> tuple[int, ...]:
        """The program token of each symbol."""
        ...

    def run_tokens(self, inputs: Sequence[Sequence[int]]) -> list[list[int]]:
        """The outputs at every position of each input."""
        ...


def exhaustive_inputs(
    tokens: Sequence[int], max_len: int, limit: int
) -> tuple[list[list[int]], int]:
    """Every input of length 1..L, L the longest (at most ``max_len``) with at most ``limit``
    inputs in all, and L."""
    found: list[list[int]] = []
    length = 0
    for n in range(1, max_len + 1):
        if len(found) + len(tokens) ** n > limit:
            break
        found.extend(list(x) for x in itertools.product(tokens, repeat=n))
        length = n
    return found, length


def sampled_inputs(tokens: Sequence[int], max_len: int, count: int, seed: int) -> list[list[int]]:
    """``count`` random inputs of length ``max_len`` (seeded)."""
    rng = random.Random(seed)
    return [[rng.choice(tokens) for _ in range(max_len)] for _ in range(count)]


def disagreements(
    program: ir.Program, inputs: Sequence[Sequence[int]], expected: Sequence[Sequence[int]]
) -> list[Disagreement]:
    """Every position where the program's output (interpreted) differs from ``expected``."""
    found: list[Disagreement] = []
    for start in range(0, len(inputs), BATCH):
        chunk = [list(x) for x in inputs[start : start + BATCH]]
        got = interpret(program, chunk).outputs()[OUTPUT]
        for tokens, want, have in zip(chunk, expected[start : start + BATCH], got, strict=True):
            found += [
                Disagreement(tuple(tokens), t, w, h)
                for t, (w, h) in enumerate(zip(want, have, strict=True))
                if w != h
            ]
    return found


@dataclass(frozen=True)
class Reference:
    """Outputs other than the machine's that a lifted program must reproduce: a group of
    inputs (program tokens), the output expected at each of their positions, and what the
    outputs come from (``name``, e.g. ``RNN runs/parity``). ``check`` names the group; its
    counts are filled in by :func:`certify`."""

    name: str
    check: CheckedInputs
    inputs: Sequence[Sequence[int]]
    expected: Sequence[Sequence[int]]


def describe(found: Sequence[Disagreement], source: str, program: str, shown: int = 3) -> str:
    """The first disagreement on each of the first ``shown`` inputs that have one, as
    ``[input] @ position: SOURCE s, PROGRAM p``, joined by ``; ``."""
    first: dict[tuple[object, ...], Disagreement] = {}
    for d in found:
        if len(first) == shown:
            break
        first.setdefault(d.input, d)
    return "; ".join(
        f"[{' '.join(map(str, d.input))}] @ {d.position}: {source} {d.source}, {program} "
        f"{d.program}"
        for d in first.values()
    )


def certify(
    machine: Machine,
    program: ir.Program,
    options: LiftOptions,
    source: LiftedSource,
    details: Mapping[str, Any],
    references: Sequence[Reference] = (),
) -> Lifted:
    """Check ``program``, compare it with ``machine`` on the certificate's inputs (and with
    each of ``references`` on its own), and return it with its certificate; a
    :class:`RaspError` unless it passes the checker and agrees everywhere."""
    checked = check_program(program)
    if checked.errors:
        raise RaspError(checked.diagnostics)
    text = format_program(program)
    if parse_program(text, "<lifted>") != program:
        raise AssertionError("the printed program does not parse back to the lifted one")
    checks, found = machine_checks(machine, program, options)
    compared = COMPARED
    wrong: dict[str, list[Disagreement]] = {}
    for reference in references:
        fits(reference, program.header.max_len)
        wrong[reference.name] = disagreements(program, reference.inputs, reference.expected)
        positions = sum(len(x) for x in reference.inputs)
        checks.append(replace(reference.check, inputs=len(reference.inputs), positions=positions))
        compared += f"; {reference.name}'s output and the program's on {reference.check.name}"
    extra = {"references": [r.name for r in references]} if references else {}
    certificate = make_certificate(
        FRONTEND_NAME,
        source,
        text,
        compared,
        checks,
        found + [d for group in wrong.values() for d in group],
        details={**details, **extra, "attention_layers": checked.allocation.n_layers},
    )
    if found:
        certificate.check()
    refuse_disagreements(wrong, certificate.positions_compared)
    return Lifted(program, certificate, printed=text)


def machine_checks(
    machine: Machine, program: ir.Program, options: LiftOptions
) -> tuple[list[CheckedInputs], list[Disagreement]]:
    """``program`` against ``machine`` on every input up to a length and on random inputs of
    ``max_len``: the groups compared and every disagreement."""
    tokens, max_len = machine.tokens, program.header.max_len
    exhaustive, length = exhaustive_inputs(tokens, max_len, options.exhaustive_limit)
    samples = sampled_inputs(tokens, max_len, options.samples, options.seed)
    groups = (
        (CheckedInputs("exhaustive", "exhaustive", 0, 0, max_length=length), exhaustive),
        (CheckedInputs("samples", "samples", 0, 0, seed=options.seed), samples),
    )
    checks: list[CheckedInputs] = []
    found: list[Disagreement] = []
    for group, inputs in groups:
        found += disagreements(program, inputs, machine.run_tokens(inputs))
        positions = sum(len(x) for x in inputs)
        checks.append(replace(group, inputs=len(inputs), positions=positions))
    return checks, found


def fits(reference: Reference, max_len: int) -> None:
    """A :class:`RaspError` when an input of ``reference`` is longer than ``max_len``."""
    longest = max((len(x) for x in reference.inputs), default=0)
    if longest > max_len:
        raise RaspError.single(
            "mips-lift-reference",
            f"{reference.name} is compared on inputs of length {longest} "
            f"({reference.check.name}), longer than the program's max_len {max_len}",
            hint=f"lift with --max-len {longest} or more",
        )


def refuse_disagreements(wrong: Mapping[str, list[Disagreement]], positions: int) -> None:
    """A :class:`RaspError` naming the first reference the program (which agrees with its
    machine) disagrees with, and the inputs where it does; nothing when there is none."""
    for name, found in wrong.items():
        if not found:
            continue
        raise RaspError.single(
            "mips-lift-reference",
            f"the lifted program agrees with its machine but not with {name}, at "
            f"{len(found)} positions ({positions} compared in all): "
            f"{describe(found, name, 'program')}",
            hint="the machine does not compute what that reference does; compare them with "
            "'rasp mips verify MACHINE.json --task TASK --run RUN_DIR'",
        )
