"""Lifting: a finite Moore machine and the lift options in, an exact RASP program whose output
at position t is the machine's output after reading x_0..x_t, with its certificate, out.

Five exact constructions (one module each); the cheapest that applies is used (fewest
attention layers, then fewest table entries) unless the ``construction`` setting forces one:

- ``windows`` (:mod:`.windows`): definite machines, whose output depends only on the last k
  inputs; one attention layer;
- ``counts`` (:mod:`.counts`): commutative machines, whose state depends only on how often
  each symbol occurred; one attention layer;
- ``prefix_max`` (:mod:`.prefix_max`): machines whose state is the running maximum of a key of
  the input (Max_Seen, Min_Seen); one attention layer;
- ``doubling`` (:mod:`.doubling`): any machine; ceil(log2(max_len)) attention layers;
- ``quotient_doubling`` (:mod:`.quotient_doubling`): any machine, doubling over the quotient
  that determines the next output (an adder's carry); at most as many layers, far smaller
  tables where the quotient is small.

Integer-affine machines (kind ``"affine"``, :mod:`.affine`) are lifted by ``prefix_sums``
(:mod:`.prefix_sums`) when A is the identity and by ``affine_windows`` (:mod:`.affine_windows`)
when A is nilpotent (one attention layer), and by ``polynomial_sums`` (:mod:`.polynomial_sums`)
when A is unipotent ((A - I)^k = 0: k nested prefix sums at most, one layer each), and by
``periodic_sums`` (:mod:`.periodic_sums`) when A has finite order (A^p = I: p sums in one layer);
exact for every length.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.api import Lifted, LiftedSource, LiftOptions, RaspError, ir, sha256_of_path

from .affine import AffineMachine, affine_from_json
from .affine_windows import AFFINE_WINDOWS, affine_windows, nilpotent_powers
from .certify import Reference, certify
from .command_defaults import AFFINE_CONSTRUCTIONS, CONSTRUCTIONS, SPLIT_SEQUENCES
from .construction import OUTPUT, Construction
from .counts import counts
from .doubling import doubling
from .machine import (
    FiniteMachine,
    MachineFormatError,
    machine_file_error,
    machine_from_json,
    read_machine_json,
)
from .periodic_sums import PERIODIC_SUMS, finite_order_powers, periodic_sums
from .polynomial_sums import POLYNOMIAL_SUMS, polynomial_sums, unipotent_powers
from .prefix_max import prefix_max
from .prefix_sums import PREFIX_SUMS, prefix_sums
from .quotient_doubling import quotient_doubling
from .rnn_split import rnn_split_reference
from .windows import windows

if TYPE_CHECKING:
    from .run_files import Run

DEFAULT_MAX_LEN = 10
COMMENT_WIDTH = 96
Builder = Callable[[FiniteMachine, int], Construction | None]
# In order of preference between constructions of equal cost.
BUILDERS: dict[str, Builder] = {
    "windows": windows,
    "counts": counts,
    "prefix_max": prefix_max,
    "doubling": doubling,
    "quotient_doubling": quotient_doubling,
}
# The constructions of affine machines.
AFFINE_BUILDERS: dict[str, Callable[[AffineMachine], Construction]] = {
    PREFIX_SUMS: prefix_sums,
    AFFINE_WINDOWS: affine_windows,
    POLYNOMIAL_SUMS: polynomial_sums,
    PERIODIC_SUMS: periodic_sums,
}


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


def header_comment(machine: FiniteMachine | AffineMachine, construction: Construction) -> str:
    """The comment above the header: where the program comes from, its tokens, its
    construction."""
    about = f"task {machine.task}, " if machine.task else ""
    if isinstance(machine, AffineMachine):
        kind, size = "an integer-affine machine", f"state dimension {machine.state_dim}"
    else:
        kind, size = "a Moore machine", f"{machine.n_states} states"
    lines = [
        f"Lifted by the mips frontend from {kind} ({about}{size}, "
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


def lifted_program(
    machine: FiniteMachine | AffineMachine, construction: Construction, max_len: int
) -> ir.Program:
    """The program of ``construction``: header, bindings, the output ``output``."""
    header = ir.Header(vocab=tuple(machine.tokens), max_len=max_len)
    comment = header_comment(machine, construction)
    return ir.Program(header, construction.bindings, (OUTPUT,), comment=comment)


def lift_machine(
    machine: FiniteMachine,
    options: LiftOptions,
    source: LiftedSource,
    references: Sequence[Reference] = (),
) -> Lifted:
    """Lift ``machine`` (``source`` says where it comes from) and certify the program. The
    minimal machine is lifted (the header names its state count), and the program compared
    with ``machine`` itself and with each of ``references``."""
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
    return certify(machine, program, options, source, details, references)


def construct_affine(machine: AffineMachine, forced: str | None = None) -> Construction:
    """The construction of the affine ``machine``: ``prefix_sums`` when A is the identity,
    ``affine_windows`` when A is nilpotent, ``polynomial_sums`` when A is unipotent (or the
    ``forced`` one); a :class:`RaspError` when it does not apply, or the readout has abs
    terms and the construction is not ``affine_windows`` (the one that reads them)."""
    if forced is not None and forced not in AFFINE_BUILDERS:
        raise RaspError.single(
            "mips-construction",
            f"the {forced} construction does not lift affine machines",
            hint=f"affine machines are lifted by {', '.join(AFFINE_CONSTRUCTIONS)}",
        )
    if forced is None:
        forced = _affine_choice(machine)
    if machine.kinks and forced != AFFINE_WINDOWS:
        raise RaspError.single(
            "mips-construction",
            f"the {forced} construction does not read a readout with abs terms e |a . z| (this "
            f"machine has {len(machine.kinks)}); only {AFFINE_WINDOWS} does, for a nilpotent A",
            hint="the machine itself is verified: `rasp mips verify` checks it against the task",
        )
    return AFFINE_BUILDERS[forced](machine)


def _affine_choice(machine: AffineMachine) -> str:
    """The construction for ``machine``'s A; a :class:`RaspError` when none applies."""
    if machine.is_identity():
        return PREFIX_SUMS
    if nilpotent_powers(machine.A) is not None:
        return AFFINE_WINDOWS
    if unipotent_powers(machine.A) is not None:
        return POLYNOMIAL_SUMS
    if finite_order_powers(machine.A) is not None:
        return PERIODIC_SUMS
    raise RaspError.single(
        "mips-construction",
        f"no construction lifts this affine machine: its A, {[list(r) for r in machine.A]}, has "
        "an eigenvalue other than 1 and one other than 0, so it is neither unipotent "
        "((A - I)^n = 0: prefix_sums for A = I, polynomial_sums otherwise) nor nilpotent "
        "(A^n = 0: affine_windows), and it has no finite order (A^p = I: periodic_sums)",
        hint="the mips frontend lifts affine machines whose eigenvalues are all 1 (the state "
        "accumulates, polynomially in the position), all 0 (it remembers the last inputs), or "
        "whose A has finite order (it rotates)",
    )


def lift_affine(
    machine: AffineMachine,
    options: LiftOptions,
    source: LiftedSource,
    references: Sequence[Reference] = (),
) -> Lifted:
    """Lift the affine ``machine`` (``source`` says where it comes from) and certify the
    program against it and each of ``references``; a :class:`RaspError` when no affine
    construction (or not the forced one) applies."""
    max_len = options.max_len or machine.max_len or DEFAULT_MAX_LEN
    forced = options.setting("construction", "")
    construction = construct_affine(machine, forced or None)
    program = lifted_program(machine, construction, max_len)
    details = {
        "machine_kind": "affine",
        "construction": construction.name,
        "construction_summary": construction.summary,
        "table_entries": construction.table_entries,
        **construction.details,
    }
    return certify(machine, program, options, source, details, references)


def load_any(path: Path) -> FiniteMachine | AffineMachine:
    """The machine in the JSON file ``path``, finite or affine by its ``kind``; a
    :class:`RaspError` naming the file when it is not a valid machine."""
    data = read_machine_json(path)
    affine = isinstance(data, dict) and data.get("kind") == "affine"
    try:
        return affine_from_json(data) if affine else machine_from_json(data)
    except MachineFormatError as error:
        raise machine_file_error(path, error) from None


def lift_file(
    path: Path,
    options: LiftOptions,
    run: Run | None = None,
    sequences: int = SPLIT_SEQUENCES,
    rnn_name: str = "RNN",
) -> Lifted:
    """Load the machine file ``path`` (finite or affine), lift it and certify the program;
    with ``run`` (a trained RNN and its task, :func:`~.run_files.load_run`; ``rnn_name`` in
    messages) the certificate also compares the program with the RNN's rounded outputs on the
    task's test split (``sequences`` generated with ``options.seed``), and any disagreement
    fails the lift."""
    machine = load_any(path)
    facts: dict[str, object] = {
        "task": machine.task,
        "symbols": len(machine.alphabet),
        "machine_source": machine.source,
    }
    references: list[Reference] = []
    if run is not None:
        references.append(rnn_split_reference(run, machine, sequences, options.seed, rnn_name))
        facts |= {"rnn": rnn_name, "rnn_task": run.task.name, "rnn_split_sequences": sequences}
    if isinstance(machine, AffineMachine):
        facts |= {"kind": "affine", "state_dim": machine.state_dim}
        source = LiftedSource.of(path, sha256_of_path(path), facts)
        return lift_affine(machine, options, source, references)
    facts["states"] = machine.n_states
    source = LiftedSource.of(path, sha256_of_path(path), facts)
    return lift_machine(machine, options, source, references)
