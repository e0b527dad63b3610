"""Training GeneralRNNs on a MIPS task (reference §4): a task, an RNN configuration, settings and
one or more seeds in; a run folder with each seed's checkpoint and metrics, and a
:class:`TrainResult`, out.

The loss is the robust ``½·log(1 + (ŷ − y)²)`` averaged over positions and output dimensions,
the optimiser AdamW (lr 1e-3, weight decay 0, float32), batches of 4,096 training sequences.
Every ``eval_every`` steps the rounding accuracy on one random test batch is logged (progress
only); at the end every seed is evaluated on the **whole** test split, and a seed is
``perfect`` only when all of it is right (§16: not one batch).

Seeds train together as one :class:`RNNPopulation`: the loss is the sum of per-seed means, so
seeds do not share gradients, and each seed draws its batches from its own generator. Data:
``dataset_size`` sequences generated with ``data_seed`` and split as the task says; the
default of 100,000 (not the anchor's 10⁶) keeps CPU runs short.

Run folder: one seed writes ``model.{safetensors,json}``; several write
``seed-S/model.{safetensors,json}`` per seed. ``metrics.json`` (always at the top) holds the
logged history and every seed's final test accuracy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm  # type: ignore[import-untyped]

from rasp_ir.api import RaspError, write_text_atomically

from . import checkpoint
from .population import RNNPopulation
from .rnn import RNNConfig
from .task_spec import ANCHOR_SEED, IntArray, SplitData, Task, make_split


@dataclass(frozen=True)
class TrainSettings:
    """How to train: steps, batch sizes, AdamW's learning rate and weight decay, how many
    sequences to generate (and from which seed), and how often to log test-batch accuracy.
    With ``stop_when_perfect``, a log step at which some seed is right on the whole test split
    ends the run early (the architecture search needs one perfect seed, not every step), after
    ``polish_steps`` more steps: they make more seeds perfect and the weights more precise,
    which the extraction of integer lattices needs."""

    steps: int = 10_000
    batch_size: int = 4096
    lr: float = 1e-3
    weight_decay: float = 0.0
    dataset_size: int = 100_000
    data_seed: int = ANCHOR_SEED
    eval_every: int = 100
    eval_batch: int = 65_536
    stop_when_perfect: bool = False
    polish_steps: int = 0

    def __post_init__(self) -> None:
        counts = ("steps", "batch_size", "dataset_size", "eval_every", "eval_batch")
        problems = [f"{name} must be at least 1" for name in counts if getattr(self, name) < 1]
        if not self.lr > 0:
            problems.append(f"lr must be positive, not {self.lr}")
        if self.polish_steps < 0:
            problems.append(f"polish_steps must be 0 or more, not {self.polish_steps}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be 0 or more, not {self.weight_decay}")
        if problems:
            raise RaspError.single("mips-train", "; ".join(problems))


@dataclass(frozen=True)
class SeedResult:
    """One seed's outcome: its whole-test-split accuracy, whether that is 100%, its last
    training loss, and its checkpoint (without suffix)."""

    seed: int
    test_accuracy: float
    perfect: bool
    final_loss: float
    checkpoint: Path


@dataclass(frozen=True)
class TrainResult:
    """What a run produced: the run folder, each seed's result (in the order of the seeds),
    the size of the test split, the training time in seconds and the steps taken (fewer than
    asked when the run stopped at a perfect seed)."""

    run_dir: Path
    seeds: tuple[SeedResult, ...]
    test_size: int
    seconds: float
    steps: int

    @property
    def best(self) -> SeedResult:
        """The seed with the highest test accuracy (the first of equals)."""
        return max(self.seeds, key=lambda result: result.test_accuracy)


def seed_dir(run_dir: Path, seeds: Sequence[int], seed: int) -> Path:
    """The folder of ``seed``'s checkpoint in a run of ``seeds``: the run folder itself for
    one seed, ``seed-S`` inside it for several."""
    return run_dir if len(seeds) == 1 else run_dir / f"seed-{seed}"


def robust_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``½·log(1 + (ŷ − y)²)`` averaged over every dimension after the first (seed): ``(S,)``."""
    loss = 0.5 * torch.log1p((prediction - target) ** 2)
    return loss.flatten(1).mean(dim=1)


def as_features(values: IntArray) -> torch.Tensor:
    """Integer task arrays ``(n, T)`` or ``(n, T, w)`` as float32 ``(n, T, w)``."""
    tensor = torch.from_numpy(values).to(torch.float32)
    return tensor.unsqueeze(-1) if tensor.dim() == 2 else tensor


def check_config(task: Task, config: RNNConfig) -> None:
    """Refuse a configuration whose input or output size is not the task's."""
    wanted = (task.alphabet.width, task.outputs.width)
    if (config.input_dim, config.output_dim) != wanted:
        raise RaspError.single(
            "mips-train",
            f"{task.name} has {wanted[0]} input(s) and {wanted[1]} output(s) per step, the RNN "
            f"{config.input_dim} and {config.output_dim}",
            hint=f"use input_dim={wanted[0]}, output_dim={wanted[1]}",
        )


def split_accuracy(
    model: RNNPopulation, x: torch.Tensor, y: torch.Tensor, chunk: int
) -> list[float]:
    """Each seed's rounding accuracy on all of ``x``, ``y`` (``(n, T, w)``, the same for every
    seed), evaluated ``chunk`` sequences at a time."""
    size = len(model.seeds)
    correct = torch.zeros(size, dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, len(x), chunk):
            xs = x[start : start + chunk].unsqueeze(0).expand(size, -1, -1, -1)
            ys = y[start : start + chunk]
            right = torch.round(model(xs)) == ys.unsqueeze(0)
            correct += right.flatten(1).sum(dim=1).cpu()
    total = max(y.numel(), 1)
    return [int(c) / total for c in correct]


class _Trainer:
    """The state of a run: data on the device, the population, its optimiser, and each
    seed's batch generator."""

    def __init__(
        self,
        data: SplitData,
        config: RNNConfig,
        settings: TrainSettings,
        seeds: Sequence[int],
        device: str,
    ) -> None:
        self.settings = settings
        self.device = torch.device(device)
        self.x_train = as_features(data.x_train).to(self.device)
        self.y_train = as_features(data.y_train).to(self.device)
        self.x_test = as_features(data.x_test).to(self.device)
        self.y_test = as_features(data.y_test).to(self.device)
        self.model = RNNPopulation(config, seeds).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
        )
        self.batch_rngs = [np.random.default_rng([seed, 1]) for seed in seeds]
        self.eval_rng = np.random.default_rng([settings.data_seed, 2])

    def step(self) -> list[float]:
        """One AdamW step on a fresh batch per seed (training sequences drawn uniformly with
        replacement by that seed's own generator); each seed's loss."""
        size = self.settings.batch_size
        rows = np.stack([rng.integers(0, len(self.x_train), size) for rng in self.batch_rngs])
        index = torch.from_numpy(rows).to(self.device)
        losses = robust_loss(self.model(self.x_train[index]), self.y_train[index])
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        return [float(v) for v in losses.detach().cpu()]

    def test_batch_accuracy(self) -> list[float]:
        """Each seed's accuracy on one random test batch (for the log only)."""
        size = min(self.settings.eval_batch, len(self.x_test))
        rows = torch.from_numpy(self.eval_rng.choice(len(self.x_test), size, replace=False))
        rows = rows.to(self.device)
        return split_accuracy(self.model, self.x_test[rows], self.y_test[rows], size)

    def test_accuracy(self) -> list[float]:
        """Each seed's accuracy on the whole test split."""
        return split_accuracy(self.model, self.x_test, self.y_test, self.settings.eval_batch)


class _Progress:
    """A tqdm bar over the steps on stderr (nothing at all when disabled): calling it advances
    one step and shows its text; :meth:`close` ends the bar early with a last text."""

    def __init__(self, steps: int, enabled: bool) -> None:
        self.steps = steps
        self.bar = (
            tqdm(total=steps, unit="step", desc="training", dynamic_ncols=True) if enabled else None
        )

    def __call__(self, text: str) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if text:
            self.bar.set_postfix_str(text)
        if self.bar.n == self.steps:
            self.bar.close()

    def close(self, text: str) -> None:
        """Advance the step that ended the run, show ``text`` and close the bar."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text)
            self.bar.close()


def _train_loop(trainer: _Trainer, settings: TrainSettings, progress: bool) -> list[dict[str, Any]]:
    """Run the steps; the log of losses and test-batch accuracies every ``eval_every`` steps
    and at the last step. With ``stop_when_perfect``, the first log step at which some seed is
    perfect on its test batch and then on the whole test split ends the run after
    ``polish_steps`` more steps (at most ``steps`` in all)."""
    advance = _Progress(settings.steps, progress)
    history: list[dict[str, Any]] = []
    last = settings.steps
    for step in range(1, settings.steps + 1):
        losses = trainer.step()
        text = ""
        if step % settings.eval_every == 0 or step == last:
            accuracy = trainer.test_batch_accuracy()
            history.append({"step": step, "loss": losses, "test_batch_accuracy": accuracy})
            text = f"best loss {min(losses):.4f} batch acc {max(accuracy):.4f}"
            if (
                settings.stop_when_perfect
                and last == settings.steps
                and _some_seed_perfect(trainer, accuracy)
            ):
                last = min(settings.steps, step + settings.polish_steps)
        if step == last < settings.steps:
            advance.close(f"{text}, stopped {settings.polish_steps} steps after a perfect seed")
            return history
        advance(text)
    return history


def _some_seed_perfect(trainer: _Trainer, batch_accuracy: list[float]) -> bool:
    """Whether a seed that is perfect on the test batch is also perfect on the whole split."""
    return max(batch_accuracy) == 1.0 and max(trainer.test_accuracy()) == 1.0


def train_rnn(
    task: Task,
    run_dir: Path,
    config: RNNConfig,
    settings: TrainSettings,
    progress: bool = True,
    device: str = "cpu",
    seeds: Sequence[int] = (0,),
) -> TrainResult:
    """Train one GeneralRNN of ``config`` on ``task`` per seed in ``seeds`` (together, as one
    batched model) and write the run folder described in the module docstring. The same task,
    configuration, settings and seeds give the same weights on the same device."""
    check_config(task, config)
    started = time.perf_counter()
    data = make_split(task, settings.dataset_size, settings.data_seed)
    if len(data.x_train) == 0 or len(data.x_test) == 0:
        raise RaspError.single(
            "mips-train",
            f"{settings.dataset_size} sequences leave an empty train or test split",
            hint="raise the dataset size",
        )
    trainer = _Trainer(data, config, settings, seeds, device)
    history = _train_loop(trainer, settings, progress)
    accuracy = trainer.test_accuracy()
    seconds = time.perf_counter() - started
    results = []
    for index, seed in enumerate(seeds):
        path = seed_dir(run_dir, seeds, seed) / "model"
        result = SeedResult(
            seed, accuracy[index], accuracy[index] == 1.0, history[-1]["loss"][index], path
        )
        checkpoint.save(path, trainer.model.member(index), _meta(task, settings, result))
        results.append(result)
    metrics = {
        "task": task.name,
        "seeds": list(seeds),
        "test_size": len(data.x_test),
        "test_accuracy": accuracy,
        "perfect": [r.perfect for r in results],
        "seconds": seconds,
        "steps": history[-1]["step"],
        "history": history,
    }
    write_text_atomically(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return TrainResult(run_dir, tuple(results), len(data.x_test), seconds, history[-1]["step"])


def _meta(task: Task, settings: TrainSettings, result: SeedResult) -> dict[str, Any]:
    return {
        "task": task.name,
        "seed": result.seed,
        "settings": asdict(settings),
        "metrics": {
            "test_accuracy": result.test_accuracy,
            "perfect": result.perfect,
            "final_loss": result.final_loss,
        },
    }
