"""Training: a task and settings in, a run folder out (data, checkpoints, per-epoch metrics,
the argmax model's accuracy on every split).

Adam at a constant learning rate, Gumbel-softmax with the temperature annealed geometrically per
step (§4, §11); optionally another relaxation, the loss averaged over several draws, the
gradient clipped to a global norm (not the paper's: its mid-temperature gradient spikes can wreck
a run), a learning-rate schedule (:mod:`.lr_schedule`) and restarts of a collapsed run from its
best epoch (:mod:`.collapse`; each restart is recorded in its epoch's metrics row).
Per-epoch validation accuracy is that of the *argmax* model (the repo's is stochastic); each
epoch also records the median and largest gradient norm of its steps (before clipping). Under
``torchrun`` (``WORLD_SIZE`` > 1) training is data parallel with DistributedDataParallel over
gloo; otherwise one process. ``resume=True`` continues from ``RUN_DIR/last`` (model, optimiser,
every rank's torch random state, Python's and numpy's, the metrics so far; the data order is a
function of the seed and the epoch), reproducing an uninterrupted run launched the same way (the
same number of processes) with the same settings (others are refused) bit for bit. Every file
is written whole or not at all (a temporary file renamed into place; a checkpoint's tensors and
sidecar commit together), so a run killed at any moment resumes from its last epoch.

Run folder: ``model.{safetensors,json}`` (final), ``best.{safetensors,json}`` (the epoch with
the best validation accuracy, :mod:`.best_epoch`), ``last.{safetensors,json}`` (for resuming),
``data.safetensors`` (the tokenised splits), ``metrics.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm  # type: ignore[import-untyped]

from rasp_ir.api import RaspError
from rasp_ir.backends.torch.crash_points import crash_point
from rasp_ir.backends.torch.process_group import join_gloo_group
from rasp_ir.backends.torch.tensor_files import save_tensors, write_text_atomically
from rasp_ir.kernels.program_exec import Impl

from . import checkpoint
from .best_epoch import BestEpoch
from .choice_entropy import mean_choice_entropy
from .collapse import CollapseWatch, restart_record
from .config import (
    LR_SCHEDULES,
    PAPER_ARCHITECTURES,
    TRAINING_SAMPLERS,
    Architecture,
    ModelConfig,
    TrainConfig,
    paper_epochs,
)
from .exploit import EXPLOIT_SCORES
from .lr_schedule import learning_rates
from .model import SampleMode, TransformerProgram, temperatures, token_loss
from .random_states import host_random_states, restore_host_random_states
from .recipes import RECIPE_NAMES
from .tasks import TASKS, Split, TaskData, TaskSpec, make_data
from .text_data import TEXT_TASKS

# Sequences per forward pass of the argmax (float64) model when measuring accuracy. Its
# temporaries grow with the batch: on sort's training split (11,441 sequences, 1 thread) batches
# of 4,096 raised the process's peak by 388 MiB, of 512 by 67 MiB, in less time (4.3 s against
# 4.8 s); batches of 256 took 5.7 s.
EVAL_BATCH = 512


@dataclass(frozen=True)
class RunResult:
    """What a training run produced (``restarts``: its restarts from its best epoch, as
    :func:`~.collapse.restart_record` writes them)."""

    run_dir: Path
    accuracy: dict[str, float]
    sizes: dict[str, int]
    seconds_per_epoch: float
    epochs: int
    best_epoch: int | None = None
    best_accuracy: dict[str, float] | None = None
    restarts: tuple[dict[str, Any], ...] = ()


def default_architecture(task: str) -> Architecture:
    """The paper's architecture of ``task`` (Table 1; §14 for the NLP tasks)."""
    if task in TEXT_TASKS:
        return TEXT_TASKS[task].architecture
    return PAPER_ARCHITECTURES[task]


def default_train_config(task: str, **overrides: Any) -> TrainConfig:
    """The paper's training settings for ``task``, with ``overrides`` (None values ignored)."""
    text = TEXT_TASKS.get(task)
    base = (
        TrainConfig(epochs=paper_epochs(task))
        if text is None
        else TrainConfig(epochs=text.epochs, batch_size=text.batch_size, lr=text.lr)
    )
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def check_settings(settings: TrainConfig) -> None:
    """Refuse settings no run can use, with what to pass instead."""
    problems = _sampling_problems(settings)
    if not 0 < settings.tau_end <= settings.tau_init:
        problems.append(
            f"temperatures must satisfy 0 < --tau-end <= --tau-init "
            f"(got {settings.tau_init} -> {settings.tau_end})"
        )
    for name in ("epochs", "batch_size", "dataset_size"):
        if getattr(settings, name) < 1:
            problems.append(f"--{name.replace('_', '-')} must be at least 1")
    if settings.lr <= 0:
        problems.append(f"--lr must be positive, not {settings.lr}")
    if settings.clip_grad_norm is not None and not settings.clip_grad_norm > 0:
        problems.append(f"--clip-grad-norm must be positive, not {settings.clip_grad_norm}")
    problems.extend(_recipe_problems(settings))
    if problems:
        raise RaspError.single(
            "option", "; ".join(problems), hint="see 'rasp tp train --help' for the defaults"
        )


def _sampling_problems(settings: TrainConfig) -> list[str]:
    """What is wrong with the sampler and the draws per step."""
    problems = []
    if settings.sampler not in TRAINING_SAMPLERS:
        problems.append(
            f"unknown sampler {settings.sampler!r} (one of {', '.join(TRAINING_SAMPLERS)})"
        )
    if settings.gumbel_samples < 1:
        problems.append(f"--gumbel-samples must be at least 1, not {settings.gumbel_samples}")
    elif not 0 <= settings.hard_samples <= settings.gumbel_samples:
        problems.append(
            f"--hard-samples must be between 0 and --gumbel-samples ({settings.gumbel_samples}), "
            f"not {settings.hard_samples}"
        )
    elif settings.sampler == "softmax" and settings.gumbel_samples - settings.hard_samples > 1:
        problems.append("the softmax sampler draws no noise: every draw would be the same")
    return problems


def _recipe_problems(settings: TrainConfig) -> list[str]:
    """What is wrong with the settings beyond the paper's (schedules, restarts, the recipe)."""
    problems = []
    if settings.lr_schedule not in LR_SCHEDULES:
        problems.append(
            f"unknown --lr-schedule {settings.lr_schedule!r} (one of {', '.join(LR_SCHEDULES)})"
        )
    if not 0 <= settings.warmup_epochs < settings.epochs:
        problems.append(
            f"--warmup-epochs must be at least 0 and below --epochs ({settings.epochs}), not "
            f"{settings.warmup_epochs}"
        )
    if settings.restart_drop is not None and not 0 < settings.restart_drop < 1:
        problems.append(
            f"--restart-drop is a fraction of the validation accuracy, above 0 and below 1 "
            f"(0.1 is 10 points), not {settings.restart_drop}"
        )
    if settings.restart_patience < 1:
        problems.append(f"--restart-patience must be at least 1, not {settings.restart_patience}")
    if not 0 < settings.restart_lr_factor <= 1:
        problems.append(
            f"--restart-lr-factor must be above 0 and at most 1, not {settings.restart_lr_factor}"
        )
    if not settings.choice_entropy >= 0:
        problems.append(f"--choice-entropy must be at least 0, not {settings.choice_entropy}")
    problems.extend(_exploit_problems(settings))
    problems.extend(_cull_problems(settings))
    if settings.recipe not in RECIPE_NAMES:
        problems.append(f"unknown recipe {settings.recipe!r} (one of {', '.join(RECIPE_NAMES)})")
    return problems


def _exploit_problems(settings: TrainConfig) -> list[str]:
    """What is wrong with the settings of a population's exploit rounds."""
    problems = []
    if settings.exploit_every is not None and settings.exploit_every < 1:
        problems.append(f"--exploit-every must be at least 1, not {settings.exploit_every}")
    if settings.exploit_score not in EXPLOIT_SCORES:
        problems.append(
            f"unknown --exploit-score {settings.exploit_score!r} (one of "
            f"{', '.join(EXPLOIT_SCORES)})"
        )
    if settings.exploit_start < 0:
        problems.append(f"--exploit-start must be at least 0, not {settings.exploit_start}")
    if not 0 < settings.exploit_fraction <= 0.5:
        problems.append(
            f"--exploit-fraction is the share of members that copy, above 0 and at most 0.5, "
            f"not {settings.exploit_fraction}"
        )
    if not 0 <= settings.exploit_margin < 1:
        problems.append(
            f"--exploit-margin is a fraction of the validation accuracy, at least 0 and below 1 "
            f"(0.05 is 5 points), not {settings.exploit_margin}"
        )
    return problems


def _cull_problems(settings: TrainConfig) -> list[str]:
    """What is wrong with the settings of a population's cull."""
    problems = []
    after, keep = settings.cull_after, settings.cull_keep
    if after is not None and not 1 <= after < settings.epochs:
        problems.append(
            f"--cull-after is the epoch after which the population is culled, at least 1 and "
            f"below --epochs ({settings.epochs}), not {after}"
        )
    if keep is not None and keep < 1:
        problems.append(f"--cull-keep must be at least 1, not {keep}")
    if keep is not None and after is None:
        problems.append("--cull-keep says how many members a cull keeps: give --cull-after too")
    return problems


def saved_settings(run_dir: Path) -> tuple[Architecture, TrainConfig]:
    """The architecture and training settings of the run whose ``last`` checkpoint is in
    ``run_dir`` (what ``--resume`` continues)."""
    if not (run_dir / "last.json").exists():
        raise RaspError.single(
            "checkpoint",
            f"{run_dir} holds no run to resume (no last.json)",
            hint="start the run without --resume",
        )
    # The architecture comes from the checkpoint as loaded: its config checked against the
    # weights on file before a model is built, so an edited config cannot ask for more memory.
    _, saved, _ = checkpoint.load(run_dir / "last")
    try:
        settings = TrainConfig.from_json(saved.meta["train"])
    except (KeyError, TypeError, ValueError) as error:
        raise RaspError.single(
            "checkpoint", f"{run_dir / 'last.json'}: no usable training settings ({error})"
        ) from None
    return saved.config.architecture(), settings


def model_config(
    task: str,
    data: TaskData,
    arch: Architecture,
    embedding: tuple[int, int] | None = None,
    pool: bool | None = None,
) -> ModelConfig:
    """The model config of ``task`` on ``data`` (k = max(N, vocabulary size), as the scripts);
    the NLP tasks are neither causal nor predict ``<pad>`` or ``<unk>``. ``embedding``: the
    factored embedding's (m chunks, k values) instead of one-hot tokens (k = max(N, k)).
    ``pool``: the pooled readout (§10); None: the task's own (classification pools)."""
    spec = TASKS.get(task, TaskSpec(task, len(data.vocab), 1, data.n_ctx))
    chunks, values = embedding or (0, len(data.vocab))
    text = TEXT_TASKS.get(task)
    pooled = (text is not None and text.pooled) if pool is None else pool
    return ModelConfig(
        vocab=data.vocab,
        classes=data.classes,
        n_ctx=data.n_ctx,
        d_var=max(data.n_ctx, values),
        embedding_chunks=chunks,
        pool_outputs=pooled,
        n_layers=arch.n_layers,
        n_heads_cat=arch.n_heads_cat,
        n_heads_num=arch.n_heads_num,
        n_cat_mlps=arch.n_cat_mlps,
        n_num_mlps=arch.n_num_mlps,
        causal=spec.causal,
        unembed_mask=spec.unembed_mask,
    )


def accuracy(model: TransformerProgram, split: Split) -> float:
    """Token accuracy of the argmax model over the split's non-pad targets."""
    correct = total = 0
    device = model.unembed.device
    for start in range(0, len(split), EVAL_BATCH):
        x = torch.from_numpy(split.x[start : start + EVAL_BATCH]).to(device)
        y = torch.from_numpy(split.y[start : start + EVAL_BATCH])
        real = y != 0
        correct += int(((model.predict(x).cpu() == y) & real).sum())
        total += int(real.sum())
    return correct / max(total, 1)


def save_data(path: Path, data: TaskData) -> None:
    """The tokenised splits as int64 tensors (no pickle)."""
    tensors = {}
    for name in ("train", "val", "test"):
        split = data.split(name)
        tensors[f"{name}.x"] = torch.from_numpy(split.x)
        tensors[f"{name}.y"] = torch.from_numpy(split.y)
    save_tensors(tensors, path)


def load_split(path: Path, name: str) -> Split:
    """One split saved by :func:`save_data`."""
    try:
        tensors = load_file(str(path))
        return Split(tensors[f"{name}.x"].numpy(), tensors[f"{name}.y"].numpy())
    except Exception as error:  # safetensors raises its own error types for bad files
        raise RaspError.single(
            "checkpoint", f"{path}: cannot read split {name!r} ({error})"
        ) from None


class _Distributed:
    """Rank and world size under torchrun (gloo), or a single process (also when
    ``data_parallel`` is off: every process of a sweep trains its own model)."""

    def __init__(self, data_parallel: bool) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1")) if data_parallel else 1
        self.rank = int(os.environ.get("RANK", "0")) if data_parallel else 0
        self.owns_group = self.world > 1 and not dist.is_initialized()
        if self.owns_group:
            join_gloo_group()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: TransformerProgram) -> torch.nn.Module:
        if self.world == 1:
            return model
        # parameters of absent module kinds (no categorical MLPs, say) are empty and unused
        unused = any(parameter.numel() == 0 for parameter in model.parameters())
        return DistributedDataParallel(model, find_unused_parameters=unused)

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def close(self) -> None:
        """The run's end, reached by every process: wait for all of them, then destroy the
        process group this run created (a group left to the interpreter's exit can abort the
        process while gloo's threads still run); a group the caller made is left to it."""
        self.barrier()
        if self.owns_group:
            dist.destroy_process_group()

    def rng_states(self) -> list[torch.Tensor]:
        """Every rank's torch random state, in rank order (a collective: all ranks call it)."""
        state = torch.get_rng_state()
        if self.world == 1:
            return [state]
        states = [torch.empty_like(state) for _ in range(self.world)]
        dist.all_gather(states, state)
        return states


def progress_bar(total: int, start: int, enabled: bool) -> Callable[[int, str], None]:
    """A tqdm bar over the epochs on stderr (its text: loss, validation accuracy of the argmax
    model, temperature), starting at ``start`` when resuming; or nothing."""
    if not enabled:
        return lambda _done, _text: None
    bar = tqdm(total=total, initial=start, unit="epoch", desc="training", dynamic_ncols=True)

    def update(done: int, text: str) -> None:
        bar.update(done - bar.n)
        bar.set_postfix_str(text)
        if done == total:
            bar.close()

    return update


def epoch_batches(
    n: int, batch_size: int, seed: int, epoch: int, rank: int, world: int
) -> Iterator[Any]:
    """This rank's share of each global batch of one epoch (the same order on every rank)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        if len(batch) < world:  # a tail too small to give every rank an example: skipped
            return
        yield batch[rank::world]


def optimizer_tensors(
    parameters: Iterable[tuple[str, torch.Tensor]], optimizer: torch.optim.Optimizer
) -> dict[str, torch.Tensor]:
    """The optimiser's state of each named parameter as tensors ``optim.NAME.KEY``."""
    tensors: dict[str, torch.Tensor] = {}
    for name, parameter in parameters:
        for key, value in optimizer.state.get(parameter, {}).items():
            tensors[f"optim.{name}.{key}"] = torch.as_tensor(value)
    return tensors


def restore_optimizer(
    parameters: Iterable[tuple[str, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, Any],
) -> None:
    """Give each named parameter the optimiser state :func:`optimizer_tensors` saved."""
    for name, parameter in parameters:
        state = {
            key: tensors[f"optim.{name}.{key}"].to(parameter.device if key != "step" else "cpu")
            for key in ("step", "exp_avg", "exp_avg_sq")
            if f"optim.{name}.{key}" in tensors
        }
        if state:
            optimizer.state[parameter] = state


def _restore_rng(path: Path, tensors: dict[str, Any], rank: int, world: int) -> None:
    """Give this rank the random state it had when ``path`` was saved; refuse a checkpoint
    saved by another number of processes (the run could not continue identically). Checkpoints
    written before per-rank states (one ``rng.torch``) were saved by a single process."""
    if "rng.torch" in tensors:
        tensors = {"rng.torch.0": tensors["rng.torch"]}
    saved_world = sum(1 for key in tensors if key.startswith("rng.torch."))
    if saved_world != world:
        launch = "python" if saved_world == 1 else f"torchrun --nproc-per-node {saved_world}"
        raise RaspError.single(
            "checkpoint",
            f"{path} was saved by {saved_world} training process(es), this run has {world}",
            hint=f"resume the same way the run was started: {launch} ... --resume",
        )
    torch.set_rng_state(tensors[f"rng.torch.{rank}"])


def train(
    task: str,
    run_dir: Path,
    arch: Architecture | None = None,
    settings: TrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    data_parallel: bool = True,
    threads: int | None = None,
    data: TaskData | None = None,
    embedding: tuple[int, int] | None = None,
    attention_impl: Impl = "auto",
    device: str = "cpu",
    pool: bool | None = None,
) -> RunResult:
    """Train ``task`` into ``run_dir`` and evaluate the argmax model on every split; the
    epoch whose argmax model had the best validation accuracy is kept as ``run_dir/best`` and
    evaluated on every split too.

    Torch runs on ``threads`` threads (None: as it is set) with denormal floats flushed to zero
    (:func:`training_environment`); both are restored afterwards. ``attention_impl`` picks the
    categorical attention: the torch reference, the fused Triton kernel, or ``auto`` (the kernel
    on CUDA); the kernel on a CPU needs ``TRITON_INTERPRET=1`` (a correctness tool, slow).
    ``device``: ``cpu``, ``cuda`` or ``auto`` (CUDA when present). On CUDA the Gumbel draws come
    from CUDA's generator, so a run differs from the CPU run of its seed, and ``resume``
    restores weights, optimiser and the CPU random state but not CUDA's.

    Under torchrun the processes train one model data parallel, unless ``data_parallel`` is
    off (a sweep in which each process trains models of its own).

    ``stop_after`` ends the run after that many epochs as if it were interrupted (``last`` is
    saved; ``resume=True`` continues it on the same schedule).

    ``data``: the task's data when it is read from files (the NLP tasks); the algorithmic
    tasks generate theirs. ``embedding``: (m, k) of the paper's factored token embedding
    (default: one-hot tokens). ``pool``: the pooled readout (None: the task's own)."""
    settings, data, config = run_setup(task, arch, settings, data, embedding, pool)
    if settings.exploit_every is not None:
        raise RaspError.single(
            "usage",
            "--exploit-every copies the training state between members of a population; a "
            "single run has none",
            hint="train several seeds as one population (--seeds 0-7), or leave out "
            "--exploit-every",
        )
    if settings.cull_after is not None:
        raise RaspError.single(
            "usage",
            "--cull-after stops the worst members of a population; a single run has none",
            hint="train several seeds as one population (--seeds 0-15), or leave out --cull-after",
        )
    if attention_impl == "triton" and not torch.cuda.is_available() and not _interpreting():
        raise RaspError.single(
            "usage",
            "--attention-impl triton needs a CUDA device (training runs on the CPU here)",
            hint="use --attention-impl torch or auto, or set TRITON_INTERPRET=1 to run the "
            "kernel in Triton's interpreter (slow: for checking, not for training)",
        )
    where = training_device(device, data_parallel)
    with training_environment(threads):
        return _train(
            task, data, config, run_dir, settings, resume, progress, stop_after, data_parallel,
            attention_impl, where,
        )  # fmt: skip


def run_setup(
    task: str,
    arch: Architecture | None,
    settings: TrainConfig | None,
    data: TaskData | None,
    embedding: tuple[int, int] | None,
    pool: bool | None = None,
) -> tuple[TrainConfig, TaskData, ModelConfig]:
    """What a run of ``task`` trains with, checked: its settings (the paper's by default), its
    data (generated from ``settings.seed`` unless given; the NLP tasks must be given theirs) and
    the model config of ``arch`` (the paper's by default; ``pool``: the pooled readout, None:
    the task's own)."""
    if task in TEXT_TASKS and data is None:
        raise RaspError.single(
            "task", f"the {task} task reads its data from files", hint="pass --data-dir DIR"
        )
    if task not in TASKS and task not in TEXT_TASKS:
        known = ", ".join(sorted([*TASKS, *TEXT_TASKS]))
        raise RaspError.single("task", f"unknown task {task!r}", hint=f"tasks: {known}")
    arch = arch or default_architecture(task)
    settings = settings or default_train_config(task)
    check_settings(settings)
    if data is None:
        data = make_data(task, settings.dataset_size, settings.seed)
    return settings, data, model_config(task, data, arch, embedding, pool)


def training_device(name: str, data_parallel: bool = True) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (CUDA when present) as a device; a usage error for CUDA
    where there is none, or under torchrun (the processes talk through gloo, on CPUs)."""
    if name not in ("cpu", "cuda", "auto"):
        raise RaspError.single("usage", f"unknown device {name!r}", hint="cpu, cuda or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RaspError.single(
            "usage", "--device cuda: torch sees no CUDA device", hint="use --device cpu or auto"
        )
    if name == "cuda" and data_parallel and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RaspError.single(
            "usage",
            "--device cuda under torchrun is not supported (data parallel training runs on CPUs)",
            hint="train on one GPU without torchrun, or use --device cpu",
        )
    return torch.device(name)


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


@contextmanager
def training_environment(threads: int | None) -> Iterator[None]:
    """Torch on ``threads`` threads (None: unchanged) and flushing denormal floats to zero (on
    CPUs that can: x86 with SSE3): a denormal costs about a hundred times a normal float to
    compute with, and the relaxed model's near-zero probabilities and Adam's moments reach them.
    Both are restored on exit (flushing is off by default)."""
    previous = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise RaspError.single("usage", f"--threads must be at least 1, not {threads}")
        torch.set_num_threads(threads)
    flushing = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        if flushing:
            torch.set_flush_denormal(False)


def _train(
    task: str,
    data: TaskData,
    config: ModelConfig,
    run_dir: Path,
    settings: TrainConfig,
    resume: bool,
    progress: bool,
    stop_after: int | None,
    data_parallel: bool,
    attention_impl: Impl,
    device: torch.device,
) -> RunResult:
    """:func:`train` with its settings checked, inside its environment."""
    parallel = _Distributed(data_parallel)
    torch.manual_seed(settings.seed)
    model = TransformerProgram(config).to(device)
    model.attention_impl = attention_impl
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    meta: dict[str, Any] = {"task": task, "train": settings.to_json()}
    metrics: list[dict[str, Any]] = []
    start_epoch = 0
    best = BestEpoch()
    watch = CollapseWatch.of(settings)
    if resume:
        start_epoch, metrics, saved_watch = _resume(
            run_dir, model, optimizer, task, config, settings, parallel
        )
        best = BestEpoch.resumed(run_dir)
        watch = watch.resumed(saved_watch, str(run_dir / "last.json"))
    else:
        torch.manual_seed(noise_seed(settings.seed, parallel.rank))
    if parallel.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_data(run_dir / "data.safetensors", data)
        if resume:  # metrics.json may lag behind last (killed between the two writes)
            write_metrics(run_dir, task, metrics)
    steps = -(-len(data.train) // settings.batch_size)
    trainer = _Trainer(
        model,
        parallel.wrap(model),
        optimizer,
        settings,
        parallel,
        data,
        temperatures(settings.tau_init, settings.tau_end, settings.epochs, steps),
        learning_rates(settings, steps),
        watch,
        torch.from_numpy(data.train.x).to(device),
        torch.from_numpy(data.train.y).to(device),
    )
    report = progress_bar(settings.epochs, start_epoch, progress and parallel.main)
    timings: list[float] = []
    end = settings.epochs if stop_after is None else min(stop_after, settings.epochs)
    for epoch in range(start_epoch, end):
        row = trainer.epoch(epoch)
        timings.append(row["seconds"])
        metrics.append(row)
        if best.update(model, epoch + 1, row["val_accuracy_argmax"]) and parallel.main:
            best.save(run_dir, config, meta)
        trainer.restart_if_collapsed(row, best)
        rng_states = parallel.rng_states()
        if parallel.main:
            progress_meta = {**meta, "collapse_watch": watch.to_json()}
            _save_progress(run_dir, model, optimizer, progress_meta, metrics, rng_states)
        val = 100 * row["val_accuracy_argmax"]
        report(epoch + 1, f"loss {row['loss']:.4f} val {val:.2f}% tau {row['tau']:.3g}")
    restarts = tuple(row["restart"] for row in metrics if "restart" in row)
    return _finish(trainer, run_dir, config, meta, best, end, timings, restarts)


def noise_seed(seed: int, rank: int = 0) -> int:
    """The seed of the generator a run of ``seed`` draws its Gumbel noise from (process
    ``rank`` of a data-parallel run), after the model's weights were drawn from ``seed``."""
    return seed + 7919 * (rank + 1)


@dataclass
class _Trainer:
    """What one epoch of training uses: the model (and its data-parallel wrapper, which the
    losses go through), the optimiser, the settings, the processes, the data, the per-step
    temperatures and learning rates, the collapse watch and the training split as tensors."""

    model: TransformerProgram
    wrapped: torch.nn.Module
    optimizer: torch.optim.Optimizer
    settings: TrainConfig
    parallel: _Distributed
    data: TaskData
    schedule: list[list[float]]
    rates: list[list[float]]
    watch: CollapseWatch
    x_train: torch.Tensor
    y_train: torch.Tensor

    def restart_if_collapsed(self, row: dict[str, Any], best: BestEpoch) -> None:
        """When the run has collapsed (its epoch's ``row`` counted by the watch), go back to
        the ``best`` epoch's weights with a fresh optimiser state and record the restart in
        ``row`` (``restart``). Every process decides alike: they share weights and data."""
        val = row["val_accuracy_argmax"]
        if best.state is None or not self.watch.collapsed(val, best.val_accuracy):
            return
        self.model.load_state_dict(best.state)
        self.optimizer.state.clear()
        row["restart"] = restart_record(
            row["epoch"], val, best.epoch, best.val_accuracy, self.watch.lr_factor
        )

    def epoch(self, epoch: int) -> dict[str, Any]:
        """Train one epoch; its metrics row (mean loss, the argmax model's validation
        accuracy, gradient norms, seconds spent training)."""
        began = time.perf_counter()
        self.model.train()
        losses, norms = self._steps(epoch)
        seconds = time.perf_counter() - began
        self.model.eval()
        return {
            "epoch": epoch + 1,
            "loss": float(np.mean(losses)),
            "tau": self.schedule[epoch][-1],
            "val_accuracy_argmax": accuracy(self.model, self.data.val),
            "grad_norm_median": float(np.median(norms)),
            "grad_norm_max": max(norms),
            "seconds": seconds,
        }

    def _steps(self, epoch: int) -> tuple[list[float], list[float]]:
        """The optimiser steps of one epoch; each step's loss and gradient norm (before
        clipping). A gradient that is not finite ends the run."""
        settings, parallel = self.settings, self.parallel
        losses: list[float] = []
        norms: list[float] = []
        batches = epoch_batches(
            len(self.data.train),
            settings.batch_size,
            settings.seed,
            epoch,
            parallel.rank,
            parallel.world,
        )
        for step, index in enumerate(batches):
            self.model.set_sampling(tau=self.schedule[epoch][step])
            for group in self.optimizer.param_groups:
                group["lr"] = self.rates[epoch][step] * self.watch.lr_factor
            self.optimizer.zero_grad()
            losses.append(
                backpropagate(
                    self.wrapped, self.x_train[index], self.y_train[index], draw_modes(settings)
                )
            )
            if settings.choice_entropy > 0:
                parameters = {name: p[None] for name, p in self.model.named_parameters()}
                penalty = settings.choice_entropy * mean_choice_entropy(parameters).sum()
                penalty.backward()  # type: ignore[no-untyped-call]
            norms.append(gradient_norm(self.model))
            if not math.isfinite(norms[-1]):
                raise RaspError.single(
                    "training",
                    f"the run diverged at epoch {epoch + 1}, step {step + 1}: the gradients are "
                    f"not finite (loss {losses[-1]:.4g})",
                    hint=f"train again with a lower --lr (this run: {settings.lr})",
                )
            if settings.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), settings.clip_grad_norm)
            self.optimizer.step()
            crash_point(f"epoch{epoch + 1}:step{step + 1}")
        return losses, norms


def _finish(
    trainer: _Trainer,
    run_dir: Path,
    config: ModelConfig,
    meta: dict[str, Any],
    best: BestEpoch,
    end: int,
    timings: list[float],
    restarts: tuple[dict[str, Any], ...],
) -> RunResult:
    """Evaluate the argmax model, and the best epoch's, on every split; save both (the main
    process) and say what the run produced."""
    model, data, parallel = trainer.model, trainer.data, trainer.parallel
    epochs = trainer.settings.epochs
    model.set_sampling(mode="argmax")
    result = {name: accuracy(model, data.split(name)) for name in ("train", "val", "test")}
    sizes = {name: len(data.split(name)) for name in ("train", "val", "test")}
    per_epoch = float(np.mean(timings)) if timings else 0.0
    best_result = best_epoch_accuracy(best, config, data, end, result)
    if parallel.main:
        final = {**meta, "accuracy_argmax": result, "sizes": sizes, "seconds_per_epoch": per_epoch}
        final["epochs_run"] = epochs
        checkpoint.save(run_dir / "model", model, final)
        if best_result is not None:
            best.save(run_dir, config, {**meta, "accuracy_argmax": best_result, "sizes": sizes})
    parallel.close()
    return RunResult(
        run_dir,
        result,
        sizes,
        per_epoch,
        epochs,
        best.epoch if best_result is not None else None,
        best_result,
        restarts,
    )


def best_epoch_accuracy(
    best: BestEpoch, config: ModelConfig, data: TaskData, end: int, final: dict[str, float]
) -> dict[str, float] | None:
    """The best epoch's argmax accuracy on every split (the final model's when the last epoch
    was the best), or None when no epoch was kept."""
    if best.epoch == end and best.state is not None:  # the final model itself
        return dict(final)
    best_model = best.model(config)
    if best_model is None:
        return None
    return {name: accuracy(best_model, data.split(name)) for name in final}


def draw_modes(settings: TrainConfig) -> list[SampleMode]:
    """The sampling mode of each of a step's ``gumbel_samples`` draws: ``sampler``'s, the last
    ``hard_samples`` of them straight-through (``gumbel_hard``)."""
    relaxed = cast(SampleMode, settings.sampler)  # one of TRAINING_SAMPLERS: check_settings
    hard: list[SampleMode] = ["gumbel_hard"] * settings.hard_samples
    return [relaxed] * (settings.gumbel_samples - settings.hard_samples) + hard


def backpropagate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, modes: Sequence[SampleMode]
) -> float:
    """Accumulate the gradient of the batch loss averaged over one independent sample of every
    discrete choice (§4) per entry of ``modes``, each drawn in that mode; returns that loss. The
    model (under DDP, the one it wraps) is left in the last mode. Under DDP the gradients are
    averaged across processes once, with the last draw."""
    program = model.module if isinstance(model, DistributedDataParallel) else model
    assert isinstance(program, TransformerProgram)
    total = 0.0
    for draw, mode in enumerate(modes):
        program.set_sampling(mode=mode)
        last = draw == len(modes) - 1
        local = isinstance(model, DistributedDataParallel) and not last
        with model.no_sync() if local else nullcontext():  # type: ignore[operator]
            loss = token_loss(model(x), y) / len(modes)
            loss.backward()  # type: ignore[no-untyped-call]
        total += float(loss.detach())
    return total


def gradient_norm(model: torch.nn.Module) -> float:
    """The global L2 norm of the gradients, before any clipping: inf or nan when one is not
    finite. The same on every process (DDP has averaged the gradients)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0


def _save_progress(
    run_dir: Path,
    model: TransformerProgram,
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
    metrics: list[dict[str, Any]],
    rng_states: list[torch.Tensor],
) -> None:
    """Write ``RUN_DIR/last`` (model, optimiser, random states, the epochs' metrics: all a
    resumed run needs, committed at once) and then ``metrics.json`` for people."""
    extra = {f"rng.torch.{rank}": state for rank, state in enumerate(rng_states)}
    extra.update(optimizer_tensors(model.named_parameters(), optimizer))
    state = {"epoch": len(metrics), "metrics": metrics, "random": host_random_states()}
    checkpoint.save(run_dir / "last", model, {**meta, **state}, extra)
    write_metrics(run_dir, meta["task"], metrics)


def write_metrics(run_dir: Path, task: str, metrics: list[dict[str, Any]]) -> None:
    """``RUN_DIR/metrics.json``: every epoch's row so far (atomically)."""
    text = json.dumps({"task": task, "epochs": metrics}, indent=2) + "\n"
    write_text_atomically(run_dir / "metrics.json", text)


def refuse_changed_settings(run_dir: Path, meta: dict[str, Any], settings: TrainConfig) -> None:
    """A RaspError naming every setting of ``settings`` that differs from those the run in
    ``run_dir`` was trained with (``meta``: its checkpoint's metadata)."""
    before = TrainConfig.from_json(meta.get("train", {}))
    changed = [
        f"{name} {value} (the run has {getattr(before, name)})"
        for name, value in asdict(settings).items()
        if getattr(before, name) != value
    ]
    if changed:
        raise RaspError.single(
            "checkpoint",
            f"{run_dir} was trained with other settings: {'; '.join(changed)}",
            hint="'rasp tp train TASK -o RUN_DIR --resume' continues with the run's own settings",
        )


def _resume(
    run_dir: Path,
    model: TransformerProgram,
    optimizer: torch.optim.Optimizer,
    task: str,
    config: ModelConfig,
    settings: TrainConfig,
    parallel: _Distributed,
) -> tuple[int, list[dict[str, Any]], Any]:
    """Load ``RUN_DIR/last`` into the model and optimiser; the epochs trained, their metrics and
    the collapse watch's saved state (None in runs saved before restarts existed)."""
    saved, info, extra = checkpoint.load(run_dir / "last")
    if info.config != config or info.meta.get("task") != task:
        raise RaspError.single(
            "checkpoint",
            f"{run_dir / 'last.json'} was trained with another task or architecture",
            hint="resume with the settings of the original run, or train into a new folder",
        )
    refuse_changed_settings(run_dir, info.meta, settings)
    model.load_state_dict(saved.state_dict())
    restore_optimizer(model.named_parameters(), optimizer, extra)
    _restore_rng(run_dir / "last.safetensors", extra, parallel.rank, parallel.world)
    if "random" in info.meta:
        restore_host_random_states(info.meta["random"], str(run_dir / "last.json"))
    metrics = info.meta.get("metrics")
    if metrics is None:  # written before the checkpoint carried its metrics
        metrics_path = run_dir / "metrics.json"
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))["epochs"]
    epoch = int(info.meta.get("epoch", len(metrics)))
    return epoch, list(metrics)[:epoch], info.meta.get("collapse_watch")
