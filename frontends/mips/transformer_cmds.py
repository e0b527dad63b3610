"""The transformer check of ``rasp mips``: an argparse sub-parsers object in,
``verify-transformer`` added to it (``verify-transformer PROGRAM.rasp MACHINE.json --task TASK
[--run RUN_DIR] [--backend NAME] [--sequences N] [--seed S] [--certificate FILE]``).

The program is compiled by a backend and run on the task's test split and on random inputs of
2T and 4T; its outputs are compared with the machine, the task's targets and, with ``--run``,
the RNN's rounded outputs. The certificate is written before the command fails on any
disagreement. Building the parser imports nothing heavy.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.api import LiftedSource, RaspError, Subparsers, add_command, out, sha256_of_path

from .command_defaults import SPLIT_SEQUENCES

if TYPE_CHECKING:
    from .rnn import GeneralRNN

EPILOG = """\
Groups of the certificate (one line each), every one compared at every position:
  split, samples_2T, samples_4T          the task's targets on the test split (N sequences
                                         drawn with seed S) and on 1000 random inputs of 2T
                                         and of 4T (seed S); samples_max_len instead where 2T
                                         or 4T exceed the program's max_len
  machine_split, machine_samples_2T, ... the machine, on the same inputs
  rnn_split                              with --run, the RNN's rounded outputs on the split
The certificate (default: PROGRAM.transformer.json) is written whenever the comparison runs; the
command fails (exit 1), showing the first disagreeing inputs, unless everything agrees.

examples:
  rasp mips lift examples/machines/parity.json -o parity.rasp --max-len 40
  rasp mips verify-transformer parity.rasp examples/machines/parity.json --task Parity_All
  rasp mips verify-transformer parity.rasp parity.json --task Parity_All --run runs/parity
"""


def register_transformer_commands(commands: Subparsers) -> None:
    """Add ``verify-transformer`` to ``commands``."""
    parser = add_command(
        commands,
        "verify-transformer",
        verify_transformer_command,
        summary="run a lifted program compiled by a backend against its machine, task and RNN",
        description="Compile a program written by 'rasp mips lift' with a backend, run it on "
        "the task's test split and on longer random inputs, compare it with the machine, the "
        "task and optionally the RNN, and write the comparison as a certificate.",
        epilog=EPILOG,
    )
    parser.add_argument("program", type=Path, metavar="PROGRAM.rasp")
    parser.add_argument("machine", type=Path, metavar="MACHINE.json")
    parser.add_argument("--task", required=True, metavar="TASK", help="the MIPS task name")
    parser.add_argument(
        "--run", type=Path, metavar="RUN_DIR", help="also compare with this trained RNN"
    )
    parser.add_argument(
        "--backend", default="torch", metavar="NAME", help="the backend (default: torch)"
    )
    parser.add_argument(
        "--sequences",
        type=int,
        default=SPLIT_SEQUENCES,
        metavar="N",
        help=f"sequences generated before the train/test split (default: {SPLIT_SEQUENCES})",
    )
    parser.add_argument("--seed", type=int, default=0, help="data seed (default: 0)")
    parser.add_argument(
        "--certificate",
        type=Path,
        metavar="FILE",
        help="where to write the certificate (default: PROGRAM.transformer.json)",
    )


def verify_transformer_command(args: argparse.Namespace) -> int:
    """Check the transformer of ``args.program``; write the certificate, print one line per
    group, and fail unless everything agrees."""
    from rasp_ir.api import load_program

    from .lift import load_any
    from .tasks import get_task
    from .transformer_check import require_agreement, summary_lines, verify_transformer

    task = get_task(args.task)
    machine = load_any(args.machine)
    program = load_program(args.program).program
    facts: dict[str, object] = {
        "task": task.name,
        "machine": str(args.machine),
        "machine_sha256": sha256_of_path(args.machine),
        "backend": args.backend,
    }
    model, model_name = None, "RNN"
    if args.run is not None:
        model, model_name = _model(args.run, task.name), f"RNN {args.run}"
        facts["run"] = str(args.run)
    certificate = verify_transformer(
        program,
        machine,
        task,
        model=model,
        backend=args.backend,
        sequences=args.sequences,
        seed=args.seed,
        source=LiftedSource.of(args.program, sha256_of_path(args.program), facts),
        model_name=model_name,
    )
    path = args.certificate or args.program.with_suffix(".transformer.json")
    certificate.write(path)
    for line in summary_lines(certificate):
        out(line)
    out(f"certificate: {path}")
    require_agreement(certificate, f"the {args.backend} transformer of {args.program}")
    return 0


def _model(run_dir: Path, task: str) -> GeneralRNN:
    """The RNN of the run in ``run_dir``; a RaspError unless it was trained on ``task``."""
    from .run_files import load_run

    run = load_run(run_dir)
    if run.task.name != task:
        raise RaspError.single(
            "mips-verify-transformer", f"{run_dir} was trained on {run.task.name}, not {task}"
        )
    return run.model
