"""The extraction subcommand of ``rasp mips``: an argparse sub-parsers object in, ``extract``
added to it (``extract RUN_DIR -o MACHINE.json [--method geometric|behaviour|affine]
[--tolerance T] [--depth K] [--sequences N] [--seed S] [--exhaustive L] [--max-states K]``).

Building the parser imports nothing heavy (torch is imported when the command runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.api import Subparsers, add_command, out

if TYPE_CHECKING:
    from .affine import AffineMachine
    from .machine import FiniteMachine
    from .run_files import Run
    from .task_spec import IntArray

DEFAULT_TOLERANCE = 0.1

EXTRACT_EPILOG = """\
RUN_DIR holds model.json ({"config": <RNN configuration>, "task": <task name>}) and
model.safetensors (the GeneralRNN's state_dict). The RNN is run from h_0 = 0 on the training
split of N sequences drawn with the seed; every hidden state is clustered (each within the
tolerance of its cluster's representative, representatives more than twice the tolerance
apart), the transition and output tables are read off (refused unless single-valued),
transitions no sequence took become self-loops, and the minimal machine is written. The
machine is then compared with the RNN and with the task on the test split, and with
--exhaustive L on every input of length 1 to L (refused above a million sequences); the
comparisons are reported, not enforced: an RNN that misses its task still has a machine.

--method behaviour (for trained RNNs, whose states drift so that no tolerance separates
them) merges two traced states when the RNN, run from each, rounds to the same output now
and after every continuation of length 1 to --depth (refused above 4194304 states x
continuations of the last length). The machine then equals the RNN on every traced sequence;
beyond that, only the comparisons printed say how far it holds.

--method affine (for RNNs over large alphabets, e.g. 0..99, whose states lie on an integer
lattice, as a linear RNN's do) fits the update h' = W h + U x + c, takes the lattice the
input directions W^k u generate, and refuses unless every hidden state is within the
tolerance of it; integer A, B, c and readout C, d (or mod k) must then reproduce every traced
transition and rounded output exactly. The machine file has kind "affine".

--method impulse (for RNNs linear end to end whose update is not nilpotent, so that their
states are on no lattice) computes the Markov parameters F W^k U and the bias response from
the weights, rounds them, and refuses unless the bound they give on the distance between the
RNN's output and the integer filter stays within the tolerance (default 0.4) at every position
up to the task's length: the shift-register machine then equals the RNN's rounded outputs on
every input of that length. The machine file has kind "affine".

--method recurrence (for RNNs of any shape that compute a linear task through states that
are on no lattice) reads no hidden state: it fits the RNN's rounded outputs on the traced
sequences as an integer filter of the inputs, finds the shortest integer linear recurrence
its Markov parameters satisfy (refused unless the traced length determines it), and realizes
it in companion form, equal to the RNN's rounded outputs on every traced sequence.

examples:
  rasp mips extract runs/parity -o parity.json --exhaustive 8
  rasp mips extract runs/add_mod_3 -o add_mod_3.json --tolerance 0.05 --sequences 5000
  rasp mips extract runs/parity/seed-3 -o parity.json --method behaviour --depth 4
  rasp mips extract runs/sum_last2 -o sum_last2.json --method affine
  rasp mips extract runs/prev4 -o prev4.json --method impulse
  rasp mips extract runs/newton_spring -o spring.json --method recurrence
  rasp mips lift parity.json -o parity.rasp
"""


def register_extract_commands(commands: Subparsers) -> None:
    """Add ``extract`` to ``commands``."""
    parser = add_command(
        commands,
        "extract",
        extract_command,
        summary="read a Moore machine (JSON) off a trained RNN",
        description="Cluster the hidden states a trained RNN visits into a finite Moore "
        "machine, checked single-valued and minimised, and write it as a machine file.",
        epilog=EXTRACT_EPILOG,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="MACHINE.json")
    parser.add_argument(
        "--method",
        choices=("geometric", "behaviour", "affine", "impulse", "recurrence"),
        default="geometric",
        help="cluster states by distance or by behaviour, or read an integer-affine machine "
        "off a lattice of states, off a linear RNN's impulse response, or off the linear "
        "recurrence of its outputs (default: geometric)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=4,
        metavar="K",
        help="behaviour: continuation length compared (default: 4)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        help="geometric: max-norm radius of a state cluster (default: 0.1); affine: the "
        "largest deviation from the lattice, in hidden units and lattice coordinates "
        "(default: 0.4); impulse: the largest bound on the output's error (default: 0.4)",
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
        "--exhaustive",
        type=int,
        default=0,
        metavar="L",
        help="also compare with the RNN and the task on every input of length 1 to L",
    )
    parser.add_argument(
        "--max-states",
        type=int,
        default=256,
        metavar="K",
        help="refuse when the states need more clusters (default: 256)",
    )


def extract_command(args: argparse.Namespace) -> int:
    """Extract the machine of the run in ``args.run_dir`` and write it to ``args.output``;
    print what was found and how the machine compares on the test split."""
    from .run_files import load_run
    from .task_spec import make_split
    from .verify_machine import (
        agreement,
        exhaustive_agreement,
        model_reference,
        task_reference,
    )

    run = load_run(args.run_dir)
    split = make_split(run.task, args.sequences, args.seed)
    extractors = {
        "affine": _extract_affine,
        "impulse": _extract_impulse,
        "recurrence": _extract_recurrence,
    }
    extract = extractors.get(args.method, _extract_finite)
    machine = extract(args, run, split.x_train)
    references = ((model_reference(run.model), "RNN"), (task_reference(run.task), run.task.name))
    for reference, name in references:
        out(agreement(machine, reference, split.x_test, f"{name} on the test split").summary())
    if args.exhaustive > 0:
        for reference, name in references:
            every = f"{name} on every input up to length {args.exhaustive}"
            out(exhaustive_agreement(machine, reference, args.exhaustive, every).summary())
    return 0


def _extract_finite(args: argparse.Namespace, run: Run, inputs: IntArray) -> FiniteMachine:
    """Extract, save and report the finite machine of ``run`` traced on ``inputs``."""
    from .extract import alphabet_symbols, extract_machine
    from .machine import save_machine

    behaviour = args.method == "behaviour"
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    setting = f"behaviour depth {args.depth}" if behaviour else f"tolerance {tolerance}"
    found = extract_machine(
        run.model,
        inputs,
        alphabet_symbols(run.task.alphabet),
        tolerance=tolerance,
        max_states=args.max_states,
        task=run.task.name,
        source=f"extracted from {args.run_dir} at {setting}",
        method=args.method,
        depth=args.depth,
    )
    save_machine(found.machine, args.output)
    groups = "behaviour classes" if behaviour else "clusters"
    out(
        f"{args.output}: {found.machine.n_states} states (from {found.clustered.n_states} "
        f"{groups} of {sum(found.sizes)} hidden states; largest deviation "
        f"{found.max_deviation:.3g}, smallest separation {found.min_separation:.3g}); "
        f"{found.observed} transitions traced, {len(found.unobserved)} unobserved made "
        "self-loops"
    )
    return found.machine


def _extract_affine(args: argparse.Namespace, run: Run, inputs: IntArray) -> AffineMachine:
    """Extract, save and report the integer-affine machine of ``run`` traced on ``inputs``."""
    from .affine import save_affine
    from .extract import alphabet_symbols
    from .extract_affine import DEFAULT_TOLERANCE as AFFINE_TOLERANCE
    from .extract_affine import extract_affine

    tolerance = AFFINE_TOLERANCE if args.tolerance is None else args.tolerance
    found = extract_affine(
        run.model,
        inputs,
        alphabet_symbols(run.task.alphabet),
        tolerance=tolerance,
        task=run.task.name,
        source=f"extracted from {args.run_dir} (integer lattice) at tolerance {tolerance}",
    )
    machine = found.machine
    save_affine(machine, args.output)
    readout = "identity" if machine.modulus is None else f"mod {machine.modulus}"
    if machine.kinks:
        readout = f"with {len(machine.kinks)} abs term(s)"
    out(
        f"{args.output}: integer-affine machine of state dimension {machine.state_dim}, "
        f"readout {readout} ({found.states} hidden states traced, lattice denominator "
        f"{found.denominator}; largest deviation {found.max_deviation:.3g}, largest fractional "
        f"part {found.max_fraction:.3g}); {found.transitions} transitions reproduced exactly"
    )
    return machine


def _extract_impulse(args: argparse.Namespace, run: Run, inputs: IntArray) -> AffineMachine:
    """Extract, save and report the shift-register machine of ``run``'s impulse response over
    the task's length (``inputs`` are not needed: the bound covers every input)."""
    from .affine import save_affine
    from .extract import alphabet_symbols
    from .extract_impulse import DEFAULT_TOLERANCE as IMPULSE_TOLERANCE
    from .extract_impulse import extract_impulse

    tolerance = IMPULSE_TOLERANCE if args.tolerance is None else args.tolerance
    found = extract_impulse(
        run.model,
        alphabet_symbols(run.task.alphabet),
        run.task.length,
        tolerance=tolerance,
        task=run.task.name,
        source=f"extracted from {args.run_dir} (impulse response) at tolerance {tolerance}",
    )
    save_affine(found.machine, args.output)
    out(
        f"{args.output}: shift-register machine of state dimension {found.machine.state_dim} "
        f"(Markov parameters rounded over {found.length} steps; largest error bound "
        f"{found.max_error:.3g}): equal to the RNN's rounded outputs on every input of length "
        f"<= {found.length}"
    )
    return found.machine


def _extract_recurrence(args: argparse.Namespace, run: Run, inputs: IntArray) -> AffineMachine:
    """Extract, save and report the companion-form machine of ``run``'s outputs on
    ``inputs``."""
    from .affine import save_affine
    from .extract import alphabet_symbols
    from .extract_recurrence import extract_recurrence

    found = extract_recurrence(
        run.model,
        inputs,
        alphabet_symbols(run.task.alphabet),
        task=run.task.name,
        source=f"extracted from {args.run_dir} (recurrence of the outputs)",
    )
    save_affine(found.machine, args.output)
    out(
        f"{args.output}: companion-form machine of state dimension {found.machine.state_dim} "
        f"(recurrence coefficients {list(found.coefficients)}), equal to the RNN's rounded "
        f"outputs on {found.positions} traced positions"
    )
    return found.machine
