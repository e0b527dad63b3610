"""Lifting: a finite Moore machine and the lift options in, an exact RASP program whose output
at position t is the machine's output after reading x_0..x_t, with its certificate, out.

Three exact constructions (one module each); the cheapest that applies is used (fewest
attention layers, then fewest table entries) unless the ``construction`` setting forces one:

- ``windows`` (:mod:`.windows`): definite machines, whose output depends only on the last k
  inputs; one attention layer;
- ``counts`` (:mod:`.counts`): commutative machines, whose state depends only on how often
  each symbol occurred; one attention layer;
- ``doubling`` (:mod:`.doubling`): any machine; ceil(log2(max_len)) attention layers.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from rasp_ir.api import Lifted, LiftedSource, LiftOptions, RaspError, ir, sha256_of_path

from .certify import certify
from .construction import OUTPUT, Construction
from .counts import counts
from .doubling import doubling
from .machine import FiniteMachine, load_machine
from .windows import windows

DEFAULT_MAX_LEN = 10
COMMENT_WIDTH = 96
Builder = Callable[[FiniteMachine, int], Construction | None]
# In order of preference between constructions of equal cost.
BUILDERS: dict[str, Builder] = {"windows": windows, "counts": counts, "doubling": doubling}
CONSTRUCTIONS = tuple(BUILDERS)


def construct(machine: FiniteMachine, max_len: int, forced: str | None = None) -> Construction:
    """The cheapest construction that applies to ``machine`` (or the ``forced`` one); a
    :class:`RaspError` when none (or not the forced one) applies."""
    if forced is not None:
        if forced not in BUILDERS:
            raise RaspError.single(
                "usage",
                f"unknown construction {forced!r}",
                hint=f"one of {', '.join(CONSTRUCTIONS)}",
            )
        built = BUILDERS[forced](machine, max_len)
        if built is None:
            raise RaspError.single(
                "mips-construction",
                f"the {forced} construction does not apply to this machine",
                hint="leave the construction out to use the cheapest that applies",
            )
        return built
    found: list[Construction] = []
    refusals: list[RaspError] = []
    for build in BUILDERS.values():
        try:
            built = build(machine, max_len)
        except RaspError as refusal:  # too large for this construction; another may fit
            refusals.append(refusal)
            continue
        if built is not None:
            found.append(built)
    if not found:
        raise refusals[0]
    return min(found, key=lambda c: c.cost)


def header_comment(machine: FiniteMachine, construction: Construction) -> str:
    """The comment above the header: where the program comes from, its tokens, its
    construction."""
    about = f"task {machine.task}, " if machine.task else ""
    lines = [
        f"Lifted by the mips frontend from a Moore machine ({about}{machine.n_states} states, "
        f"{len(machine.alphabet)} symbols).",
        "The output at position t is the machine's output after reading the inputs 0..t.",
    ]
    if machine.pairs:
        codes = ", ".join(
            f"{t} = {machine.describe_symbol(a)}" for a, t in enumerate(machine.tokens)
        )
        lines.append(f"Tokens code the input pairs by their place in the alphabet: {codes}.")
    lines.append(construction.summary)
    lines.append(
        "The certificate beside this file lists the inputs on which program and machine were "
        "run and agree."
    )
    return "\n".join(textwrap.fill(line, COMMENT_WIDTH) for line in lines)


def lifted_program(machine: FiniteMachine, construction: Construction, max_len: int) -> ir.Program:
    """The program of ``construction``: header, bindings, the output ``output``."""
    header = ir.Header(vocab=tuple(machine.tokens), max_len=max_len)
    comment = header_comment(machine, construction)
    return ir.Program(header, construction.bindings, (OUTPUT,), comment=comment)


def lift_machine(machine: FiniteMachine, options: LiftOptions, source: LiftedSource) -> Lifted:
    """Lift ``machine`` (``source`` says where it comes from) and certify the program. The
    minimal machine is lifted (the header names its state count), and the program compared
    with ``machine`` itself."""
    max_len = options.max_len or machine.max_len or DEFAULT_MAX_LEN
    forced = options.setting("construction", "")
    minimal = machine.minimise()
    construction = construct(minimal, max_len, forced or None)
    program = lifted_program(minimal, construction, max_len)
    details = {
        "minimal_states": minimal.n_states,
        "construction": construction.name,
        "construction_summary": construction.summary,
        "table_entries": construction.table_entries,
        **construction.details,
    }
    return certify(machine, program, options, source, details)


def lift_file(path: Path, options: LiftOptions) -> Lifted:
    """Load the machine file ``path``, lift it and certify the program."""
    machine = load_machine(path)
    facts = {
        "task": machine.task,
        "states": machine.n_states,
        "symbols": len(machine.alphabet),
        "machine_source": machine.source,
    }
    source = LiftedSource.of(path, sha256_of_path(path), facts)
    return lift_machine(machine, options, source)
