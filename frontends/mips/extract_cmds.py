"""The extraction subcommand of ``rasp mips``: an argparse sub-parsers object in, ``extract``
added to it (``extract RUN_DIR -o MACHINE.json [--method geometric|behaviour] [--tolerance T]
[--depth K] [--sequences N] [--seed S] [--exhaustive L] [--max-states K]``).

Building the parser imports nothing heavy (torch is imported when the command runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rasp_ir.api import Subparsers, add_command, out

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

examples:
  rasp mips extract runs/parity -o parity.json --exhaustive 8
  rasp mips extract runs/add_mod_3 -o add_mod_3.json --tolerance 0.05 --sequences 5000
  rasp mips extract runs/parity/seed-3 -o parity.json --method behaviour --depth 4
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
        choices=("geometric", "behaviour"),
        default="geometric",
        help="cluster states by distance or by behaviour (default: geometric)",
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
        default=0.1,
        help="geometric: max-norm radius of a state cluster (default: 0.1)",
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
    from .extract import alphabet_symbols, extract_machine
    from .machine import save_machine
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
    behaviour = args.method == "behaviour"
    setting = f"behaviour depth {args.depth}" if behaviour else f"tolerance {args.tolerance}"
    found = extract_machine(
        run.model,
        split.x_train,
        alphabet_symbols(run.task.alphabet),
        tolerance=args.tolerance,
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
    references = ((model_reference(run.model), "RNN"), (task_reference(run.task), run.task.name))
    for reference, name in references:
        out(
            agreement(found.machine, reference, split.x_test, f"{name} on the test split").summary()
        )
    if args.exhaustive > 0:
        for reference, name in references:
            every = f"{name} on every input up to length {args.exhaustive}"
            out(exhaustive_agreement(found.machine, reference, args.exhaustive, every).summary())
    return 0
