"""Certification: a machine, its lifted program and the lift options in, the program with its
certificate out (a :class:`Lifted`), or a :class:`RaspError` when the program fails the checker
or disagrees with the machine anywhere it was compared.

The inputs compared are every input of length 1..L, L the longest whose inputs number at most
``exhaustive_limit`` in all, and ``samples`` random inputs of length ``max_len`` (seeded).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    machine: Machine, program: ir.Program, inputs: Sequence[Sequence[int]]
) -> list[Disagreement]:
    """Every position where the program's output differs from the machine's."""
    found: list[Disagreement] = []
    for start in range(0, len(inputs), BATCH):
        chunk = [list(x) for x in inputs[start : start + BATCH]]
        expected = machine.run_tokens(chunk)
        got = interpret(program, chunk).outputs()[OUTPUT]
        for tokens, want, have in zip(chunk, expected, got, strict=True):
            found += [
                Disagreement(tuple(tokens), t, w, h)
                for t, (w, h) in enumerate(zip(want, have, strict=True))
                if w != h
            ]
    return found


def certify(
    machine: Machine,
    program: ir.Program,
    options: LiftOptions,
    source: LiftedSource,
    details: Mapping[str, Any],
) -> Lifted:
    """Check ``program``, compare it with ``machine`` on the certificate's inputs, and return
    it with its certificate; a :class:`RaspError` unless it passes the checker and agrees
    everywhere."""
    checked = check_program(program)
    if checked.errors:
        raise RaspError(checked.diagnostics)
    text = format_program(program)
    if parse_program(text, "<lifted>") != program:
        raise AssertionError("the printed program does not parse back to the lifted one")
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
        found += disagreements(machine, program, inputs)
        positions = sum(len(x) for x in inputs)
        checks.append(replace(group, inputs=len(inputs), positions=positions))
    certificate = make_certificate(
        FRONTEND_NAME,
        source,
        text,
        COMPARED,
        checks,
        found,
        details={**details, "attention_layers": checked.allocation.n_layers},
    )
    return Lifted(program, certificate.check())
