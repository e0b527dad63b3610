"""Findings on disk and back: a shrunk :class:`~rasp_ir.fuzz.cases.Finding` in, a
ready-to-paste ``.rasp`` file out (the program, with the failing input, what each side gave
and the command that reproduces it in ``#`` comments); a ``.rasp`` file and checks in, the
disagreements on every input up to a size limit out (``rasp fuzz --replay``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import chain
from pathlib import Path

from rasp_ir import ir
from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.fuzz.cases import Finding
from rasp_ir.fuzz.checks import CHECKS
from rasp_ir.printer import format_program
from rasp_ir.values import Value, to_json
from rasp_ir.verify import exhaustive_inputs, input_count, sampled_inputs

# --replay tries every input up to the longest length with at most this many inputs, then
# REPLAY_SAMPLES random inputs of max_len.
REPLAY_EXHAUSTIVE = 20_000
REPLAY_SAMPLES = 1_000


def finding_name(seed: int, index: int, finding: Finding) -> str:
    """``CHECK-seedS-caseI.rasp``."""
    return f"{finding.check}-seed{seed}-case{index}.rasp"


def finding_text(finding: Finding, seed: int, index: int, path: str) -> str:
    """The program of ``finding`` with a comment saying what failed and how to reproduce it."""
    (tokens, *_) = finding.inputs
    lines = [
        f"rasp fuzz --seed {seed}, case {index}: the {finding.check} check "
        + ("crashed" if finding.mismatch is None else "disagrees with the interpreter"),
        f"input: {_json(tokens)}",
    ]
    if finding.mismatch is None:
        lines.append(f"error: {finding.crash}")
    else:
        where = f"output {finding.mismatch.output}" if finding.mismatch.output else "whole input"
        lines.append(f"{where}: expected {_json(finding.mismatch.expected)}")
        lines.append(f"{' ' * len(where)}  got      {_json(finding.mismatch.got)}")
    lines.append(f"reproduce: rasp fuzz --replay {path} --backends {finding.check}")
    if finding.check not in CHECKS:
        lines.append(f"       or: rasp verify {path} --backend {finding.check} --exhaustive")
    return format_program(replace(finding.program, comment="\n".join(lines)))


def write_finding(folder: Path, seed: int, index: int, finding: Finding) -> Path:
    """Write ``finding`` into ``folder`` (created if needed), atomically; the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / finding_name(seed, index, finding)
    write_text_atomically(path, finding_text(finding, seed, index, str(path)))
    return path


def replay_inputs(program: ir.Program) -> Iterator[list[Value]]:
    """Every input up to the longest length with at most :data:`REPLAY_EXHAUSTIVE` inputs,
    then :data:`REPLAY_SAMPLES` random inputs of max_len when that is longer."""
    header = program.header
    length = header.max_len
    while length > 0 and input_count(len(header.vocab), length) > REPLAY_EXHAUSTIVE:
        length -= 1
    every = exhaustive_inputs(program, length)
    if length == header.max_len:
        return every
    return chain(every, sampled_inputs(program, REPLAY_SAMPLES))


def _json(values: tuple[Value, ...] | list[Value] | str) -> str:
    if isinstance(values, str):
        return f"error ({values})"
    return json.dumps([to_json(v) for v in values], ensure_ascii=False)
