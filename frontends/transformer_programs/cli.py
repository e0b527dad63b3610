"""``rasp tp``: train, lift, compile back and demo Transformer Programs from the command line.

A command plugin (entry point ``tp`` of ``rasp_ir.commands``): :func:`register` adds ``rasp tp``.
Building the parser imports nothing heavy; torch is imported when a subcommand runs.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from rasp_ir.api import (
    RaspError,
    Subparsers,
    add_command,
    add_lift_options,
    lift_options,
    load_program,
    out,
    sha256_of_text,
    write_lifted,
)

from . import CHECKPOINTS, FRONTEND
from .config import LR_SCHEDULES, TRAINING_SAMPLERS, Architecture, TrainConfig
from .exploit import EXPLOIT_SCORES
from .population_folder import member_dir, parse_seeds
from .recipes import RECIPE_NAMES, recipe_train_config
from .tasks import TASKS, TaskData
from .text_data import DEFAULT_VOCAB_SIZE, TEXT_TASKS

# Torch threads for 'rasp tp train': one. A step of these models is many small operations
# (k <= 16, a few hundred thousand parameters), too small for more threads to pay for their
# synchronisation; one thread is also what competing processes slow down least, and what each
# torchrun process should use so that N processes fill N cores.
TRAIN_THREADS = 1

EPILOG = """\
examples:
  rasp tp demo -o tp-demo                 # the whole round trip on hist, a few minutes on CPU
  rasp tp train hist -o runs/hist         # the paper's configuration for hist (Table 1)
  rasp tp train sort -o runs/sort --epochs 50 --seed 1
  rasp tp train sort -o runs/sorts --seeds 0-31   # 32 seeds as one batched model
  rasp tp train double_hist -o runs/dh --recipe robust   # beyond the paper: clipping
  rasp tp train double_hist -o runs/dhs --seeds 0-3 --recipe robust   # + exploit rounds
  rasp tp train ner --data-dir conll2003 -o runs/ner   # CoNLL files: train.txt, valid.txt, test.txt
  rasp tp lift runs/hist -o hist.rasp     # exact program + hist.certificate.json
  rasp tp compile hist.rasp -o runs/hist-compiled
  torchrun --nproc-per-node 2 -m rasp_ir.cli.main tp train sort -o runs/sort   # data parallel
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp tp`` and its subcommands."""
    parser = add_command(
        subparsers,
        "tp",
        lambda args: _usage(parser),
        summary="Transformer Programs: train, lift exactly, compile back, demo",
        description="Train Transformer Programs, lift them into exact RASP programs with a "
        "certificate, and compile (edited) programs back into weights.",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="tp_command", metavar="SUBCOMMAND")
    _train_parser(commands)
    _lift_parser(commands)
    _compile_parser(commands)
    _demo_parser(commands)
    _corpus_parser(commands)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _train_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "train",
        train_command,
        summary="train a Transformer Program on a built-in task",
        description="Train on one of the paper's tasks; defaults are the paper's configuration "
        "for that task (Table 1: layers, heads and MLPs per layer; Adam 5e-2, batch 512, "
        "250 epochs, temperature 3 -> 0.01).",
        epilog="Heads and MLPs per layer are split evenly between categorical and numerical.\n"
        "Writes RUN_DIR/model.{safetensors,json} (the final model), best.* (the epoch with "
        "the best validation accuracy),\nlast.* (for --resume), data.safetensors and "
        "metrics.json.\n--resume continues RUN_DIR with its own settings; options that "
        "differ from them are refused.\n--seeds trains a population: one model per seed, "
        "batched, on the data of the first seed;\nRUN_DIR/seed-S/ holds each member's "
        "model.* and best.*, population.json every member's accuracies and\nthe member "
        "validation selects (what 'rasp tp lift RUN_DIR' lifts; --member SEED lifts another).\n"
        "--recipe robust trains with this project's preset beyond the paper (gradient clipping "
        "at norm 1;\nfor a population also exploit rounds every 10 epochs ranked by training "
        "loss);\noptions given beside it override its values.",
    )
    tasks = sorted([*TASKS, *TEXT_TASKS])
    parser.add_argument("task", choices=tasks, metavar="TASK", help=", ".join(tasks))
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="RUN_DIR")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="ner: CoNLL files train.txt, valid.txt, test.txt (or eng.train, eng.testa, "
        "eng.testb); classify: train.csv/.tsv, test.csv/.tsv (optional valid) with 'label' "
        "and 'text' columns",
    )
    parser.add_argument(
        "--vocab-size",
        type=int,
        default=DEFAULT_VOCAB_SIZE,
        metavar="N",
        help=f"ner, classify: the N most frequent training words ({DEFAULT_VOCAB_SIZE}); "
        "others read as <unk>",
    )
    parser.add_argument(
        "--embedding-chunks",
        type=int,
        metavar="M",
        help="ner, classify: the paper's factored embedding, M chunks of K values per word "
        "(default: one-hot words)",
    )
    parser.add_argument(
        "--chunk-values", type=int, metavar="K", help="values per chunk (32, the paper's NER)"
    )
    parser.add_argument(
        "--pool",
        action=argparse.BooleanOptionalAction,
        help="the paper's pooled readout: the label at <s> is read from the features averaged "
        "over the whole input (default: on for classify, off otherwise)",
    )
    parser.add_argument(
        "--max-words",
        type=int,
        metavar="N",
        help="ner, classify: words kept per example (ner 30, classify 64)",
    )
    parser.add_argument("--layers", type=int, help="layers")
    parser.add_argument("--heads", type=int, help="attention heads per layer (cat + num)")
    parser.add_argument("--mlps", type=int, help="MLPs per layer (cat + num)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="train one model per seed as one batched model: 0-31, 0,3,7 or 0-3,7",
    )
    parser.add_argument("--dataset-size", type=int, help="examples before splitting (20000)")
    parser.add_argument(
        "--sampler",
        choices=TRAINING_SAMPLERS,
        help="relaxation of the discrete choices while training (gumbel_soft, the paper's; "
        "gumbel_hard: straight-through, one-hot forward values)",
    )
    parser.add_argument(
        "--gumbel-samples", type=int, help="average each batch's loss over N draws (1)"
    )
    parser.add_argument(
        "--hard-samples",
        type=int,
        help="of those draws, the last N straight-through (gumbel_hard) whatever --sampler (0)",
    )
    parser.add_argument("--tau-init", type=float, help="temperature of the first step (3.0)")
    parser.add_argument("--tau-end", type=float, help="temperature of the last epoch (0.01)")
    parser.add_argument(
        "--clip-grad-norm",
        type=float,
        metavar="X",
        help="clip each step's gradient to global norm X (default: none, as the paper)",
    )
    _recipe_arguments(parser)
    parser.add_argument(
        "--threads",
        type=int,
        default=TRAIN_THREADS,
        metavar="N",
        help=f"torch threads per process ({TRAIN_THREADS}: these models are too small to gain "
        "from more, and under torchrun each process is one core)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="cpu",
        help="where to train: cpu (default), cuda, or auto (CUDA when present); on CUDA a run "
        "differs from the CPU run of its seed (other random draws)",
    )
    parser.add_argument(
        "--attention-impl",
        choices=("auto", "torch", "triton"),
        default="auto",
        help="categorical attention: the fused Triton kernel (triton), the torch reference "
        "(torch), or the kernel where CUDA is (auto, the default)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """The recipe and the training options beyond the paper's."""
    parser.add_argument(
        "--recipe",
        choices=RECIPE_NAMES,
        help="paper (the default: the paper's recipe) or robust (gradient clipping at "
        "norm 1, and a population's exploit rounds every 10 epochs by training loss; "
        "benchmarks/results/tp_recipe*.md)",
    )
    parser.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES, help="constant (the paper's) or cosine decay to 0"
    )
    parser.add_argument(
        "--warmup-epochs", type=int, metavar="N", help="linear learning-rate warm-up (0)"
    )
    parser.add_argument(
        "--restart-drop",
        type=float,
        metavar="X",
        help="restart a run from its best epoch once its validation accuracy stays more than "
        "X (a fraction: 0.1 is 10 points) below the best (default: never)",
    )
    parser.add_argument(
        "--restart-patience", type=int, metavar="N", help="epochs in a row below, to restart (3)"
    )
    parser.add_argument(
        "--restart-lr-factor",
        type=float,
        metavar="F",
        help="multiply a run's learning rate by F at each restart (1)",
    )
    parser.add_argument(
        "--choice-entropy",
        type=float,
        metavar="W",
        help="add W x the mean entropy of the structure choices to each step's loss (0)",
    )
    parser.add_argument(
        "--exploit-every",
        type=int,
        metavar="N",
        help="a population only: every N epochs its worst members take the training state of "
        "its best (default: never)",
    )
    parser.add_argument(
        "--exploit-start",
        type=int,
        metavar="EPOCH",
        help="no exploit round before this epoch (0: from the first)",
    )
    parser.add_argument(
        "--exploit-score",
        choices=tuple(EXPLOIT_SCORES),
        help="what members are ranked by at a round: val_accuracy (the argmax model's, the "
        "default) or train_loss (the relaxed model's, lower is better)",
    )
    parser.add_argument(
        "--exploit-fraction",
        type=float,
        metavar="F",
        help="the share of members that take another's state at each round (0.25)",
    )
    parser.add_argument(
        "--exploit-margin",
        type=float,
        metavar="X",
        help="copy only from a member whose mean score over the last N epochs is better by more "
        "than X (accuracy: a fraction, 0.05 is 5 points; loss: nats; 0.05)",
    )
    parser.add_argument(
        "--cull-after",
        type=int,
        metavar="EPOCH",
        help="a population only: after this epoch only the members of lowest training loss go "
        "on, the others stop there (default: never)",
    )
    parser.add_argument(
        "--cull-keep",
        type=int,
        metavar="K",
        help="the members a cull keeps (default: a quarter of them)",
    )


def train_command(args: argparse.Namespace) -> int:
    """Train and print the argmax model's accuracy on every split."""
    from .population_train import saved_population
    from .train import default_architecture, default_train_config, saved_settings, train

    seeds = _seeds(args)
    population = saved_population(args.output) if args.resume else None
    if population is not None:
        base, base_settings, saved_seeds = population
        seeds = seeds or saved_seeds
    elif args.resume:
        base, base_settings = saved_settings(args.output)
    else:
        base, base_settings = default_architecture(args.task), default_train_config(args.task)
    if args.recipe is not None:
        base_settings = recipe_train_config(args.recipe, base_settings, seeds is not None)
    arch = base
    if (args.layers, args.heads, args.mlps) != (None, None, None):
        arch = Architecture.split(
            args.layers or base.n_layers,
            base.n_heads_cat + base.n_heads_num if args.heads is None else args.heads,
            base.n_cat_mlps + base.n_num_mlps if args.mlps is None else args.mlps,
        )
    overrides = {
        "epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "dataset_size": args.dataset_size,
        "sampler": args.sampler,
        "gumbel_samples": args.gumbel_samples,
        "hard_samples": args.hard_samples,
        "tau_init": args.tau_init,
        "tau_end": args.tau_end,
        "clip_grad_norm": args.clip_grad_norm,
        "lr_schedule": args.lr_schedule,
        "warmup_epochs": args.warmup_epochs,
        "restart_drop": args.restart_drop,
        "restart_patience": args.restart_patience,
        "restart_lr_factor": args.restart_lr_factor,
        "choice_entropy": args.choice_entropy,
        "exploit_every": args.exploit_every,
        "exploit_start": args.exploit_start,
        "exploit_score": args.exploit_score,
        "exploit_fraction": args.exploit_fraction,
        "exploit_margin": args.exploit_margin,
        "cull_after": args.cull_after,
        "cull_keep": args.cull_keep,
    }
    if seeds is not None and population is None:
        overrides["seed"] = seeds[0]  # the data's seed
    settings = replace(base_settings, **{k: v for k, v in overrides.items() if v is not None})
    options = _run_options(args, settings)
    if seeds is not None:
        return _train_population(args, seeds, arch, settings, options)
    result = train(args.task, args.output, arch, settings, **options)
    if os.environ.get("RANK", "0") != "0":
        return 0
    acc = result.accuracy
    out(
        f"{args.task}: argmax accuracy train {acc['train']:.2%}  val {acc['val']:.2%}  "
        f"test {acc['test']:.2%}  ({result.seconds_per_epoch:.2f} s/epoch) -> {args.output}"
    )
    if result.best_accuracy is not None:
        best = result.best_accuracy
        out(
            f"best validation epoch {result.best_epoch}: train {best['train']:.2%}  "
            f"val {best['val']:.2%}  test {best['test']:.2%} -> {args.output / 'best'}"
        )
    for restart in result.restarts:
        out(_restart_line(restart))
    return 0


def _run_options(args: argparse.Namespace, settings: TrainConfig) -> dict[str, Any]:
    """The keyword arguments a single run and a population take alike (the NLP tasks' data is
    read with the data's seed, ``settings.seed``)."""
    return {
        "resume": args.resume,
        "progress": not args.quiet,
        "threads": args.threads,
        "data": _text_data(args, settings.seed),
        "embedding": _embedding(args),
        "attention_impl": args.attention_impl,
        "device": args.device,
        "pool": args.pool,
    }


def _restart_line(restart: dict[str, Any]) -> str:
    """A restart, as the summary after training shows it."""
    return (
        f"restarted after epoch {restart['epoch']} (val "
        f"{restart['val_accuracy_argmax']:.2%}) from epoch {restart['from_epoch']} (val "
        f"{restart['best_val_accuracy_argmax']:.2%}), learning rate x{restart['lr_factor']:g}"
    )


def _seeds(args: argparse.Namespace) -> tuple[int, ...] | None:
    """The seeds of ``--seeds`` (None without it); refused beside ``--seed``."""
    if args.seeds is None:
        return None
    if args.seed is not None:
        raise RaspError.single(
            "usage",
            "--seed and --seeds together",
            hint="--seed S trains one model, --seeds 0-31 a population (its data from the "
            "first seed)",
        )
    return parse_seeds(args.seeds)


def _train_population(
    args: argparse.Namespace,
    seeds: tuple[int, ...],
    arch: Architecture,
    settings: TrainConfig,
    options: dict[str, Any],
) -> int:
    """Train the population and print every member's accuracies and the selection."""
    from .population_train import train_population

    result = train_population(args.task, args.output, seeds, arch, settings, **options)
    out(
        f"{args.task}: {len(seeds)} members ({result.seconds_per_epoch:.2f} s/epoch for all) "
        f"-> {args.output}"
    )
    out("    seed  final val  final test  best epoch  best val  best test")
    for member in result.members:
        acc, best = member.accuracy, member.best_accuracy
        line = f"  {member.seed:>6}  {acc['val']:9.2%}  {acc['test']:10.2%}"
        if best is not None:
            line += f"  {member.best_epoch:>10}  {best['val']:8.2%}  {best['test']:9.2%}"
        if member.diverged:
            line += f"  diverged at epoch {member.diverged['epoch']}, frozen"
        if member.restarts:
            line += f"  restarted {len(member.restarts)}x"
        if member.culled:
            line += f"  culled after epoch {member.culled['epoch']}"
        if member.exploits:
            line += "  took the state of " + ", ".join(
                f"seed {copy['from_seed']} (epoch {copy['epoch']})" for copy in member.exploits
            )
        out(line)
    for which, label in (("model", "final models"), ("best", "best epochs")):
        if which in result.selected:
            seed = result.selected[which]
            chosen = next(m for m in result.members if m.seed == seed)
            acc = chosen.accuracy if which == "model" else chosen.best_accuracy or {}
            out(
                f"selected by validation among the {label}: seed {seed} (val {acc['val']:.2%}, "
                f"test {acc['test']:.2%}) -> {member_dir(args.output, seed) / which}"
            )
    return 0


def _text_data(args: argparse.Namespace, seed: int) -> TaskData | None:
    """The data of an NLP task read from ``--data-dir`` (None for the generated tasks)."""
    text = TEXT_TASKS.get(args.task)
    if text is None:
        if args.data_dir is not None:
            raise RaspError.single("usage", f"the {args.task} task generates its own data")
        return None
    if args.data_dir is None:
        raise RaspError.single(
            "usage", f"the {args.task} task reads its data from files", hint="pass --data-dir DIR"
        )
    if args.vocab_size < 1 or (args.max_words is not None and args.max_words < 1):
        raise RaspError.single("usage", "--vocab-size and --max-words must be at least 1")
    return text.read(args.data_dir, args.vocab_size, args.max_words or text.max_words, seed)


def _embedding(args: argparse.Namespace) -> tuple[int, int] | None:
    """(m, k) of the factored embedding asked for, or None for one-hot tokens."""
    if args.embedding_chunks is None and args.chunk_values is None:
        return None
    if args.task not in TEXT_TASKS:
        raise RaspError.single("usage", "--embedding-chunks is for the ner and classify tasks")
    chunks = 4 if args.embedding_chunks is None else args.embedding_chunks
    values = 32 if args.chunk_values is None else args.chunk_values
    if chunks < 1 or values < 2:
        raise RaspError.single("usage", "--embedding-chunks >= 1 and --chunk-values >= 2")
    return chunks, values


def _corpus_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "corpus",
        corpus_command,
        summary="write a small generated NER or classification corpus",
        description="Write a generated corpus whose labels follow simple rules, to try "
        "'rasp tp train ner|classify --data-dir' without a data set.",
        epilog="ner: a capitalised name after in/at/from is B-LOC, after met/saw/with B-PER, "
        "every other word O (CoNLL files train.txt, valid.txt, test.txt).\n"
        "classify: pos when the text holds good or great, else neg (train.csv, valid.csv, "
        "test.csv).\n\nexamples:\n  rasp tp corpus ner -o toy-ner\n"
        "  rasp tp corpus classify -o toy-classify --size 400",
    )
    parser.add_argument("task", choices=sorted(TEXT_TASKS), metavar="TASK", help="ner, classify")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="DIR")
    parser.add_argument("--size", type=int, default=400, help="examples in all (400)")
    parser.add_argument("--seed", type=int, default=0)


def corpus_command(args: argparse.Namespace) -> int:
    """Write the generated corpus of ``args.task`` into ``args.output``."""
    from .text_corpus import write_classify_corpus, write_ner_corpus

    if args.size < 10:
        raise RaspError.single("usage", "--size must be at least 10 (8 : 1 : 1 splits)")
    write = write_ner_corpus if args.task == "ner" else write_classify_corpus
    for path in write(args.output, args.size, args.seed):
        out(f"wrote {path}")
    return 0


def _lift_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "lift",
        lift_command,
        summary="lift a trained model into an exact program with a certificate",
        description="Write the argmax model of RUN_DIR as a RASP program, checked against the "
        "model on the test split, every input up to a length, and random inputs.",
        epilog="The certificate (PROGRAM.certificate.json) lists the inputs and the agreement;\n"
        "lifting fails (exit 1) unless program and model agree at every position.\n"
        "In a population's folder (rasp tp train --seeds) it lifts the member validation "
        "selects, or --member SEED.\n"
        "The same as: rasp lift --frontend transformer_programs RUN_DIR -o PROGRAM.rasp",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="PROGRAM.rasp")
    parser.add_argument(
        "--checkpoint",
        choices=CHECKPOINTS,
        default="model",
        help="the final model (default) or the epoch with the best validation accuracy",
    )
    parser.add_argument(
        "--member",
        type=int,
        metavar="SEED",
        help="a population's member, by its seed (default: the one validation selects)",
    )
    parser.add_argument("--certificate", type=Path, metavar="FILE")
    add_lift_options(parser, max_len=False)


def lift_command(args: argparse.Namespace) -> int:
    """Lift with the ``transformer_programs`` frontend; write the program and its certificate."""
    settings = [("checkpoint", args.checkpoint)]
    if args.member is not None:
        settings.append(("member", str(args.member)))
    options = lift_options(args, settings)
    write_lifted(FRONTEND.lift(args.run_dir, options), args.output, args.certificate)
    return 0


def _compile_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "compile",
        compile_command,
        summary="compile a lifted (or edited) program back into model weights",
        description="Build Transformer Program weights whose argmax model computes PROGRAM, "
        "and check them against the program on every input up to a length and random inputs.",
        epilog="Writes RUN_DIR/model.{safetensors,json}; the sidecar keeps the program text.",
    )
    parser.add_argument("program", type=Path, metavar="PROGRAM.rasp")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="RUN_DIR")
    parser.add_argument("--exhaustive-limit", type=int, default=5_000, metavar="N")
    parser.add_argument("--fuzz", type=int, default=500, metavar="N")
    parser.add_argument(
        "--data",
        type=Path,
        metavar="TRAIN_RUN",
        help="also check on the test split of a 'rasp tp train' run folder (e.g. the run the "
        "program was lifted from: the real sentences of an NLP task)",
    )


def compile_command(args: argparse.Namespace) -> int:
    """Compile with the ``tp`` backend, check the model against the program, save."""
    from .backend import BACKEND
    from .lift import compare, exhaustive_inputs, fuzz_inputs, run_test_inputs

    try:
        text = args.program.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {args.program}: {error}") from None
    program = load_program(args.program, text=text).program
    compiled = BACKEND.lower(program)
    inputs = exhaustive_inputs(compiled.model.config, args.exhaustive_limit)[0]
    inputs += fuzz_inputs(compiled.model.config, args.fuzz, 0)
    data = [] if args.data is None else run_test_inputs(args.data)
    compared, found = compare(compiled.model, program, inputs + data)
    if found:
        raise RaspError.single(
            "tp-compile", f"the compiled model disagrees with the program at {len(found)} positions"
        )
    meta = {
        "compiled_from": str(args.program),
        "program_sha256": sha256_of_text(text),
        "program_text": text,
        "verified_positions": compared,
    }
    BACKEND.save(compiled, args.output, meta)
    of_data = f", {len(data)} of them the test split of {args.data}" if args.data else ""
    out(
        f"{args.output}: model = program on {len(inputs) + len(data)} inputs{of_data} "
        f"({compared} positions)"
    )
    return 0


def _demo_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "demo",
        demo_command,
        summary="train, lift, print, emit Python, compile back and verify, on CPU",
        description="The whole round trip on the hist task with a small configuration.",
        epilog="Artifacts go to DIR (default ./tp-demo): run/, program.rasp, its certificate,\n"
        "program.py (when the python backend is installed), compiled/, edited.rasp, summary.md.",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("tp-demo"), metavar="DIR")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="train one model per seed as one batched model: 0-31, 0,3,7 or 0-3,7",
    )


def demo_command(args: argparse.Namespace) -> int:
    """Run the demo."""
    from .demo import run_demo

    run_demo(args.output, epochs=args.epochs, seed=args.seed, echo=out)
    return 0
