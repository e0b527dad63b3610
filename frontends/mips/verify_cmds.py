"""The verification subcommand of ``rasp mips``: an argparse sub-parsers object in, ``verify``
added to it (``verify MACHINE.json --task TASK [--run RUN_DIR] [--sequences N] [--seed S]
[--certificate FILE]``).

A machine file (finite or affine) is compared with the task's targets on the test split, on
every input up to a length, and on random inputs two and four times the task's length; with
``--run`` also with the RNN's rounded outputs on the test split. The result is a hub
certificate, written before the command fails on any disagreement.

Building the parser imports nothing heavy (torch is imported only with ``--run``).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rasp_ir.api import (
    Certificate,
    CheckedInputs,
    Disagreement,
    LiftedSource,
    RaspError,
    Subparsers,
    add_command,
    make_certificate,
    out,
    sha256_of_path,
)

from .affine import AffineMachine
from .machine import FiniteMachine, Symbol, shown
from .task_spec import IntArray, Task

EXHAUSTIVE_CAP = 2**12
"""The most sequences of one length that the exhaustive check enumerates."""
SAMPLES = 1000
"""Random sequences drawn at each of the lengths 2T and 4T."""
GENERALISATION = (2, 4)

Machine = FiniteMachine | AffineMachine
Reference = Callable[[IntArray], IntArray]

VERIFY_EPILOG = """\
Checks, each one group of the certificate:
  split         the task's targets on the test split (N sequences drawn with seed S)
  exhaustive    the task's targets on every input of length 1 to L, L the task's length T
                when |alphabet|^T <= 4096, else the longest length under that cap
  samples_2T,   the task's targets on 1000 random inputs of length 2T and of 4T (seed S):
  samples_4T    length generalisation
  rnn_split     with --run, the RNN's rounded outputs on the test split
The certificate (default: MACHINE.verify.json) is written in every case; the command fails
(exit 1) unless machine and references agree everywhere.

examples:
  rasp mips verify examples/machines/parity.json --task Parity_All
  rasp mips verify parity.json --task Parity_All --run runs/parity/seed-3 --certificate c.json
"""


@dataclasses.dataclass(frozen=True)
class Group:
    """One check: what was compared, its certificate entry and the positions that differ."""

    check: CheckedInputs
    reference: str
    wrong: tuple[Disagreement, ...]

    def summary(self) -> str:
        """One line: the group, its size and how many positions disagree."""
        check = self.check
        where = f"up to length {check.max_length}" if check.max_length is not None else ""
        seed = f"seed {check.seed}" if check.seed is not None else ""
        how = ", ".join(part for part in (check.selection, where, seed) if part)
        return (
            f"{check.name} ({how}) vs {self.reference}: {check.inputs} sequences, "
            f"{check.positions} positions, {len(self.wrong)} disagree"
        )


def register_verify_commands(commands: Subparsers) -> None:
    """Add ``verify`` to ``commands``."""
    parser = add_command(
        commands,
        "verify",
        verify_command,
        summary="check a machine file against its task (and an RNN run); write a certificate",
        description="Compare a finite or affine machine with a MIPS task's targets on the test "
        "split, exhaustively on short inputs and on longer random inputs, and optionally with "
        "a trained RNN; write the comparison as a certificate.",
        epilog=VERIFY_EPILOG,
    )
    parser.add_argument("machine", type=Path, metavar="MACHINE.json")
    parser.add_argument("--task", required=True, metavar="TASK", help="the MIPS task name")
    parser.add_argument(
        "--run", type=Path, metavar="RUN_DIR", help="also compare with this trained RNN"
    )
    parser.add_argument(
        "--sequences",
        type=int,
        default=2000,
        metavar="N",
        help="sequences generated before the train/test split (default: 2000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="data seed (default: 0)")
    parser.add_argument(
        "--certificate",
        type=Path,
        metavar="FILE",
        help="where to write the certificate (default: MACHINE.verify.json)",
    )


def verify_command(args: argparse.Namespace) -> int:
    """Verify ``args.machine`` against ``args.task`` (and ``args.run``); write the certificate,
    print one line per check, and fail unless everything agrees."""
    from .lift import load_any
    from .tasks import get_task

    task = get_task(args.task)
    if task.outputs.width != 1:
        raise RaspError.single(
            "mips-verify", f"{task.name} has {task.outputs.width} outputs per step; a machine one"
        )
    machine = load_any(args.machine)
    certificate, groups = verify_machine_file(
        args.machine, machine, task, args.run, args.sequences, args.seed
    )
    path = args.certificate or args.machine.with_suffix(".verify.json")
    certificate.write(path)
    for group in groups:
        out(group.summary())
    out(f"certificate: {path}")
    if not certificate.ok:
        raise RaspError.single(
            "mips-verify",
            f"the machine {args.machine} disagrees with its references at "
            f"{certificate.disagreement_count} of {certificate.positions_compared} positions",
            hint=f"the certificate {path} lists the first disagreements; the machine does not "
            f"compute {task.name}",
        )
    return 0


def verify_machine_file(
    path: Path, machine: Machine, task: Task, run_dir: Path | None, n: int, seed: int
) -> tuple[Certificate, list[Group]]:
    """The machine of the file ``path`` against ``task`` (and the RNN of ``run_dir``, when
    given): the certificate of every check of :func:`task_groups` (and :func:`run_group`)
    and the groups themselves, on ``n`` sequences split as the task says, seed ``seed``."""
    groups = task_groups(machine, task, n, seed)
    references = [task.name]
    if run_dir is not None:
        groups.append(run_group(machine, task, run_dir, n, seed))
        references.append(f"RNN {run_dir}")
    certificate = make_certificate(
        "mips",
        LiftedSource.of(path, sha256_of_path(path), {"task": task.name}),
        path.read_text(encoding="utf-8"),
        f"machine vs {' and '.join(references)}",
        [group.check for group in groups],
        [d for group in groups for d in group.wrong],
        details=machine_details(machine, task, references),
    )
    return certificate, groups


def machine_details(machine: Machine, task: Task, references: list[str]) -> dict[str, Any]:
    """What the certificate records about the machine and its references."""
    details: dict[str, Any] = {
        "task": task.name,
        "machine_task": machine.task,
        "symbols": len(machine.alphabet),
        "references": references,
    }
    if isinstance(machine, AffineMachine):
        return details | {"kind": "affine", "state_dim": machine.state_dim}
    return details | {"kind": "finite", "states": machine.n_states}


def exhaustive_length(symbols: int, length: int) -> int:
    """The longest length up to ``length`` whose inputs number at most :data:`EXHAUSTIVE_CAP`
    (at least 1)."""
    best = 1
    while best < length and symbols ** (best + 1) <= EXHAUSTIVE_CAP:
        best += 1
    return best


def task_groups(machine: Machine, task: Task, n: int, seed: int) -> list[Group]:
    """The machine against the task: on the test split, exhaustively, and on longer samples."""
    from .extract import alphabet_symbols
    from .task_spec import make_split
    from .verify_machine import all_inputs

    label, name = task.label, task.name
    split = make_split(task, n, seed)
    groups = [compare(machine, label, split.x_test, name, CheckedInputs("split", "split", 0, 0))]
    symbols = alphabet_symbols(task.alphabet)
    longest = exhaustive_length(len(symbols), task.length)
    every = [all_inputs(symbols, length) for length in range(1, longest + 1)]
    check = CheckedInputs("exhaustive", "exhaustive", 0, 0, max_length=longest)
    groups.append(compare_many(machine, label, every, name, check))
    rng = np.random.default_rng(seed)
    for factor in GENERALISATION:
        longer = dataclasses.replace(task, length=factor * task.length, unique_inputs=False)
        x = longer.sample(longer, SAMPLES, rng)
        check = CheckedInputs(f"samples_{factor}T", "samples", 0, 0, seed=seed)
        groups.append(compare(machine, label, x, name, check))
    return groups


def run_group(machine: Machine, task: Task, run_dir: Path, n: int, seed: int) -> Group:
    """The machine against the RNN of ``run_dir`` on the task's test split."""
    from .run_files import load_run
    from .task_spec import make_split
    from .verify_machine import model_reference

    run = load_run(run_dir)
    if run.task.name != task.name:
        raise RaspError.single(
            "mips-verify", f"{run_dir} was trained on {run.task.name}, not {task.name}"
        )
    split = make_split(task, n, seed)
    check = CheckedInputs("rnn_split", "split", 0, 0)
    return compare(machine, model_reference(run.model), split.x_test, f"RNN {run_dir}", check)


def compare(
    machine: Machine, reference: Reference, inputs: IntArray, name: str, check: CheckedInputs
) -> Group:
    """``machine`` against ``reference`` on one batch of inputs."""
    return compare_many(machine, reference, [inputs], name, check)


def compare_many(
    machine: Machine,
    reference: Reference,
    batches: list[IntArray],
    name: str,
    check: CheckedInputs,
) -> Group:
    """``machine`` against ``reference`` on batches of inputs (one length each); ``check``
    filled in with the counts, every differing position a disagreement."""
    from .extract import symbol_indices

    wrong: list[Disagreement] = []
    sequences = positions = 0
    for batch in batches:
        x = np.asarray(batch, dtype=np.int64)
        found = np.asarray(machine.run(symbol_indices(x, machine.alphabet))).astype(np.int64)
        expected = np.asarray(reference(x), dtype=np.int64).reshape(found.shape)
        sequences, positions = sequences + len(x), positions + int(found.size)
        for row, at in zip(*np.nonzero(found != expected), strict=True):
            symbols = tuple(_value(s) for s in x[row].tolist())
            wrong.append(
                Disagreement(symbols, int(at), int(expected[row, at]), int(found[row, at]))
            )
    filled = dataclasses.replace(check, inputs=sequences, positions=positions)
    return Group(filled, name, tuple(wrong))


def _value(symbol: object) -> int | str:
    """A symbol as a certificate value: an integer, or a pair as the machine file writes it."""
    if isinstance(symbol, int):
        return symbol
    first, second = symbol if isinstance(symbol, list) else (0, 0)
    pair: Symbol = (int(first), int(second))
    return shown(pair)
