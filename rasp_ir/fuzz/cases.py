"""Fuzz cases and what a check makes of them: a seed and a case number in, a random program and
its inputs out; a program, inputs and a check in, a :class:`Finding` (or None) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rasp_ir import ir
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.choices import SeededChooser
from rasp_ir.fuzz.programs import program, program_input
from rasp_ir.printer import format_program
from rasp_ir.registry import Backend
from rasp_ir.values import Value
from rasp_ir.verify import Mismatch, exhaustive_inputs, input_count, verify_inputs

# Every input is tried when there are at most this many; otherwise this many random ones.
EXHAUSTIVE_UP_TO = 256
Inputs = tuple[tuple[Value, ...], ...]


@dataclass(frozen=True)
class Case:
    """One random program and the inputs it is run on."""

    seed: int
    index: int
    program: ir.Program
    inputs: Inputs


def make_case(seed: int, index: int) -> Case:
    """Case ``index`` of the run seeded ``seed`` (the same pair always gives the same case)."""
    chooser = SeededChooser(seed * 1_000_003 + index)
    drawn = program(chooser)
    header = drawn.header
    if input_count(len(header.vocab), header.max_len) <= EXHAUSTIVE_UP_TO:
        inputs = tuple(tuple(t) for t in exhaustive_inputs(drawn, header.max_len))
    else:
        inputs = tuple(tuple(program_input(chooser, header)) for _ in range(EXHAUSTIVE_UP_TO))
    return Case(seed, index, drawn, inputs)


@dataclass(frozen=True)
class Finding:
    """A check that disagrees with the interpreter on ``inputs`` (``mismatch``: the first
    disagreement), or that crashed (``crash``: the error, on any of ``inputs``)."""

    check: str
    program: ir.Program
    inputs: Inputs
    mismatch: Mismatch | None = None
    crash: str = ""

    @property
    def kind(self) -> str:
        """``mismatch`` or ``crash``."""
        return "crash" if self.mismatch is None else "mismatch"

    @property
    def failure(self) -> tuple[str, bool, bool]:
        """The kind, and for a mismatch which sides raised: shrinking keeps this, so that a
        wrong value does not turn into, say, an input only the interpreter refuses."""
        if self.mismatch is None:
            return (self.kind, False, True)
        expected, got = self.mismatch.expected, self.mismatch.got
        return (self.kind, isinstance(expected, str), isinstance(got, str))


def examine(
    program: ir.Program, check: Backend, inputs: Sequence[Sequence[Value]]
) -> Finding | None:
    """What ``check`` makes of ``program`` on ``inputs``: None when it agrees with the
    interpreter everywhere, a :class:`Finding` for a disagreement or any exception but a
    :class:`RaspError`, which is raised (the check refuses the program: unsupported
    constructs, limits)."""
    frozen = tuple(tuple(t) for t in inputs)
    try:
        report = verify_inputs(program, check, frozen)
    except RaspError:
        raise
    except Exception as error:  # a check may fail any way: that is what fuzzing looks for
        return Finding(check.name, program, frozen, crash=f"{type(error).__name__}: {error}")
    if report.ok:
        return None
    first = report.mismatches[0]
    return Finding(check.name, program, (first.input,), mismatch=first)


def is_valid(candidate: ir.Program) -> bool:
    """Whether ``candidate``'s text parses back to it without errors from the parser or the
    checker, so a shrunk finding is a file a user can run (the parser enforces rules, such as
    an aggregate's encoding, that a program value can break)."""
    try:
        return load_program(text=format_program(candidate)).program == candidate
    except RaspError:
        return False
