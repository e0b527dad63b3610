"""``rasp mips train``: a task and an RNN architecture in, a run folder (checkpoints, metrics)
and each seed's whole-test-split accuracy on stdout out.

:func:`register_train_commands` adds the command to the sub-parsers of ``rasp mips``; torch is
imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.api import RaspError, Subparsers, add_command, out

from .task_spec import Task
from .tasks import ANCHOR_SEED, get_task

if TYPE_CHECKING:
    from .train import TrainSettings

EPILOG = f"""\
Data: --dataset-size sequences (100000; the paper's 10^6 is slow on a CPU) generated from seed
{ANCHOR_SEED} and split as the task says. Loss 1/2 log(1 + (y' - y)^2), AdamW (weight decay 0).
A seed is 'perfect' only when it rounds every output of the whole test split right.
--seeds K trains the seeds S..S+K-1 together as one batched model and saves each in
RUN_DIR/seed-N/; one seed is saved as RUN_DIR/model.{{safetensors,json}}.
examples:
  rasp mips train Parity_All -o runs/parity --hidden 2 --steps 2000 --lr 0.01
  rasp mips train Prev1 -o runs/prev1 --hidden 2 --hidden-depth 1 --seeds 5 --device cuda
"""


def register_train_commands(commands: Subparsers) -> None:
    """Add the ``train`` subcommand to ``commands``."""
    parser = add_command(
        commands,
        "train",
        train_command,
        summary="train GeneralRNNs on a task",
        description="Train a GeneralRNN (hidden MLP f on [h ; x], output MLP g) on TASK for "
        "one or more seeds and report each seed's accuracy on the whole test split.",
        epilog=EPILOG,
    )
    parser.add_argument("task", metavar="TASK", help="a paper task name (see `rasp mips tasks`)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="RUN_DIR")
    architecture = parser.add_argument_group("architecture")
    for flag, default, text in (
        ("--hidden", 4, "hidden state size D"),
        ("--hidden-depth", 2, "layers of the hidden MLP (1 = a linear RNN)"),
        ("--hidden-width", 16, "width of the hidden MLP"),
        ("--output-depth", 2, "layers of the output MLP"),
        ("--output-width", 16, "width of the output MLP"),
    ):
        architecture.add_argument(flag, type=positive, default=default, help=f"{text} ({default})")
    training = parser.add_argument_group("training")
    add_training_options(training, batch_size=4096, polish=0)
    training.add_argument("--seed", type=int, default=0, metavar="S", help="first seed (0)")
    training.add_argument("--seeds", type=positive, default=1, metavar="K", help="seeds (1)")
    training.add_argument(
        "--stop-when-perfect",
        action="store_true",
        help="end at the first log step where a seed is right on the whole test split",
    )
    training.add_argument("--quiet", action="store_true", help="no progress bar")


def add_training_options(group: argparse._ArgumentGroup, batch_size: int, polish: int) -> None:
    """Add the options every training command shares (steps, batch size, learning rate,
    dataset size, log interval, polishing, device, threads) to ``group``, with ``batch_size``
    and ``polish`` as defaults."""
    group.add_argument("--steps", type=positive, help="optimiser steps (the task's)")
    group.add_argument("--batch-size", type=positive, default=batch_size, help=f"({batch_size})")
    group.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (1e-3)")
    group.add_argument("--dataset-size", type=positive, default=100_000, help="(100000)")
    group.add_argument(
        "--eval-every", type=positive, default=100, help="log test-batch accuracy every N (100)"
    )
    group.add_argument(
        "--polish-steps",
        type=int,
        default=polish,
        metavar="N",
        help=f"steps trained after the first perfect seed when stopping early ({polish})",
    )
    group.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1")
    group.add_argument(
        "--threads",
        type=positive,
        default=1,
        help="torch CPU threads (1: these tensors are tiny, and a second thread made a shared "
        "2-core machine 15x slower)",
    )


def training_settings(args: argparse.Namespace, task: Task) -> TrainSettings:
    """The settings the shared training options ask for (``--steps`` defaults to the task's);
    sets torch's thread count to ``--threads``. A RaspError for a CUDA device on a machine
    without one."""
    import torch

    torch.set_num_threads(args.threads)
    from .train import TrainSettings

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise RaspError.single("option", f"--device {args.device}: no CUDA device here")
    return TrainSettings(
        steps=args.steps or task.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        dataset_size=args.dataset_size,
        eval_every=args.eval_every,
        stop_when_perfect=getattr(args, "stop_when_perfect", False),
        polish_steps=args.polish_steps,
    )


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def train_command(args: argparse.Namespace) -> int:
    """Train ``args.seeds`` seeds of the chosen architecture on ``args.task``; print each
    seed's whole-test-split accuracy and whether it is perfect (0: the run finished)."""
    from .rnn import RNNConfig
    from .train import train_rnn

    task = get_task(args.task)
    config = RNNConfig(
        input_dim=task.alphabet.width,
        output_dim=task.outputs.width,
        hidden_dim=args.hidden,
        hidden_depth=args.hidden_depth,
        hidden_width=args.hidden_width,
        output_depth=args.output_depth,
        output_width=args.output_width,
    )
    settings = training_settings(args, task)
    seeds = range(args.seed, args.seed + args.seeds)
    result = train_rnn(
        task, args.output, config, settings, not args.quiet, args.device, list(seeds)
    )
    for seed in result.seeds:
        verdict = "perfect" if seed.perfect else "not perfect"
        out(
            f"seed {seed.seed}: test accuracy {seed.test_accuracy:.6f} on all "
            f"{result.test_size} test sequences, {verdict} -> {seed.checkpoint}.safetensors"
        )
    perfect = sum(seed.perfect for seed in result.seeds)
    steps = f" after {result.steps} steps" if result.steps < settings.steps else ""
    out(f"{perfect} of {len(result.seeds)} seed(s) perfect in {result.seconds:.1f} s{steps}")
    return 0
