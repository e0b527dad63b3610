"""Training a population: a task, settings and many seeds in; one batched model trained for all
of them, and the run folder of :mod:`.population_folder` out (every member's checkpoints and
metrics, and the member validation selects).

Every member keeps what a single run of its seed has: its initial weights and Gumbel noise
(:class:`~.population.Population`), its data order (the batches of
:func:`~.train.epoch_batches` for its seed), its Adam state (Adam is elementwise, no weight
decay, one parameter group: a member's slice of a stacked parameter is updated as its own
parameter would be), its gradient norm and clipping (per member, never a shared norm), the
temperature and learning-rate schedules, its best-validation epoch and, when the settings ask
for restarts, its own collapse watch, learning-rate factor and restarts from its best epoch
(:mod:`.collapse`; Adam per member, :mod:`.member_adam`, so that one member's state can be
reset alone). With ``exploit_every`` the population does what no single run can: every that
many epochs its worst members take the training state of its best (:mod:`.exploit`), after
which a member that took one is no longer the single run of its seed (the metrics and
``population.json`` record every copy). With ``cull_after`` it starts wide and, after that
epoch, goes on with only its members of lowest training loss (:mod:`.cull`); a culled member's
final model is its model at the cut. The data is shared: generated from ``settings.seed``
(the CLI's first seed). A member whose gradient is not finite is frozen at its last weights
(the others go on) and the step is recorded. ``resume=True`` continues from ``RUN_DIR/last`` as
an uninterrupted run would (every file is written whole or not at all).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rasp_ir.api import RaspError, write_text_atomically
from rasp_ir.backends.torch.crash_points import crash_point
from rasp_ir.kernels.program_exec import Impl

from . import checkpoint
from .best_epoch import BestEpoch
from .choice_entropy import mean_choice_entropy
from .collapse import CollapseWatch, restart_record
from .config import Architecture, ModelConfig, TrainConfig
from .cull import CULL_WINDOW, cull_record, kept_count, members_kept
from .exploit import exploit_pairs, exploit_record, exploit_round, window_scores
from .lr_schedule import learning_rates
from .member_adam import MemberAdam
from .model import TransformerProgram, temperatures
from .population import Population
from .population_folder import POPULATION_FILE, member_dir, select_by_validation
from .random_states import host_random_states, restore_host_random_states
from .tasks import TaskData
from .train import (
    accuracy,
    best_epoch_accuracy,
    draw_modes,
    epoch_batches,
    noise_seed,
    progress_bar,
    refuse_changed_settings,
    run_setup,
    save_data,
    training_device,
    training_environment,
    write_metrics,
)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class MemberResult:
    """One member's outcome: its seed, the final argmax model's accuracy on every split, its
    best-validation epoch and that epoch's accuracies, where it diverged (None: never) and its
    restarts from its best epoch (:func:`~.collapse.restart_record`), the training states it
    took from other members (:func:`~.exploit.exploit_record`) and, for a member that a cull
    stopped, when and why (:func:`~.cull.cull_record`; its final model is the one at the cut)."""

    seed: int
    accuracy: dict[str, float]
    best_epoch: int | None
    best_accuracy: dict[str, float] | None
    diverged: dict[str, int] | None
    restarts: tuple[dict[str, Any], ...] = ()
    exploits: tuple[dict[str, Any], ...] = ()
    culled: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The member's entry in ``population.json``."""
        return {
            "seed": self.seed,
            "accuracy_argmax": self.accuracy,
            "best_epoch": self.best_epoch,
            "best_accuracy_argmax": self.best_accuracy,
            "diverged": self.diverged,
            "restarts": list(self.restarts),
            "exploits": list(self.exploits),
            "culled": self.culled,
        }

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> MemberResult:
        """The inverse of :meth:`to_json` (a KeyError, TypeError or ValueError when ``entry``
        is not one)."""
        return cls(
            int(entry["seed"]),
            dict(entry["accuracy_argmax"]),
            entry["best_epoch"],
            entry["best_accuracy_argmax"],
            entry["diverged"],
            tuple(entry["restarts"]),
            tuple(entry["exploits"]),
            entry["culled"],
        )


@dataclass(frozen=True)
class PopulationResult:
    """What a population run produced: its folder, every member (in the order of the seeds),
    the seed validation selects among the final models (``model``) and among the best epochs
    (``best``), the training seconds per epoch and the epochs."""

    run_dir: Path
    members: tuple[MemberResult, ...]
    selected: dict[str, int]
    seconds_per_epoch: float
    epochs: int


def train_population(
    task: str,
    run_dir: Path,
    seeds: Sequence[int],
    arch: Architecture | None = None,
    settings: TrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    threads: int | None = None,
    data: TaskData | None = None,
    embedding: tuple[int, int] | None = None,
    attention_impl: Impl = "auto",
    device: str = "cpu",
    pool: bool | None = None,
    own_population: bool = False,
) -> PopulationResult:
    """Train one model of ``arch`` per seed of ``seeds`` on ``task``, as one batched model, into
    ``run_dir``; the arguments are :func:`~.train.train`'s (``settings.seed``: the data's seed;
    ``stop_after`` ends the run early as if interrupted). The attention runs on torch ops (the
    fused kernels do not batch over members); one process: refused under torchrun, unless
    ``own_population`` (a sweep in which each process trains populations of its own)."""
    if attention_impl == "triton":
        raise RaspError.single(
            "usage",
            "--attention-impl triton does not train populations (they batch the attention "
            "over their members with torch ops)",
            hint="leave out --attention-impl, or train one seed with --seed",
        )
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not own_population:
        raise RaspError.single(
            "usage",
            "a population trains in one process, not under torchrun",
            hint="run 'rasp tp train TASK --seeds ...' without torchrun",
        )
    settings, data, config = run_setup(task, arch, settings, data, embedding, pool)
    keep = kept_count(settings.cull_keep, len(seeds))
    if settings.cull_after is not None and keep >= len(seeds):
        raise RaspError.single(
            "usage",
            f"a cull that keeps {keep} members keeps every member of a population of {len(seeds)}",
            hint="keep fewer members than the seeds, or leave out --cull-after",
        )
    where = training_device(device, data_parallel=False)
    with training_environment(threads):
        trainer = PopulationTrainer(task, data, config, settings, tuple(seeds), where)
        return trainer.run(run_dir, resume, progress, stop_after)


class PopulationTrainer:
    """The state of a population run: the batched model, its optimiser, the data as tensors,
    the temperatures and learning rates, each member's best epoch and collapse watch, which
    members are frozen and which still train (:attr:`active`: positions in :attr:`seeds`; the
    batched model and its optimiser hold these members only, in this order).
    :func:`train_population` builds one from :func:`~.train.run_setup`'s settings, data and
    model config; an epoch is :meth:`batches`, one :meth:`step` per batch, :meth:`validate` and
    :meth:`save_progress` (what ``benchmarks/tp_protocol_time.py`` times)."""

    def __init__(
        self,
        task: str,
        data: TaskData,
        config: ModelConfig,
        settings: TrainConfig,
        seeds: tuple[int, ...],
        device: torch.device,
    ) -> None:
        self.task, self.data, self.config, self.settings = task, data, config, settings
        self.seeds = seeds
        noise = [noise_seed(seed) for seed in seeds]
        self.population = Population(config, seeds, noise).to(device)
        self.optimizer = MemberAdam(self.population.weights, len(seeds))
        steps = -(-len(data.train) // settings.batch_size)
        self.schedule = temperatures(settings.tau_init, settings.tau_end, settings.epochs, steps)
        self.rates = learning_rates(settings, steps)
        self.watches = [CollapseWatch.of(settings) for _ in seeds]
        self.x_train = torch.from_numpy(data.train.x).to(device)
        self.y_train = torch.from_numpy(data.train.y).to(device)
        self.bests = [BestEpoch() for _ in seeds]
        self.diverged: dict[int, dict[str, int]] = {}
        self.metrics: list[dict[str, Any]] = []
        self.active = list(range(len(seeds)))
        self.culled: dict[int, MemberResult] = {}

    @property
    def meta(self) -> dict[str, Any]:
        """What every checkpoint of the run records: task, settings and seeds."""
        return {"task": self.task, "train": self.settings.to_json(), "seeds": list(self.seeds)}

    def member_meta(self, index: int) -> dict[str, Any]:
        """A member checkpoint's metadata: the settings of a single run of its seed on this
        run's data, and where it comes from."""
        seed = self.seeds[index]
        return {
            "task": self.task,
            "train": replace(self.settings, seed=seed).to_json(),
            "data_seed": self.settings.seed,
            "population": {"seeds": list(self.seeds), "member": seed},
        }

    def frozen(self) -> torch.Tensor:
        """Which of the members still training are frozen (diverged), bool, one per member of
        the batched model, on the weights' device."""
        flags = [self.seeds[position] in self.diverged for position in self.active]
        return torch.tensor(flags, device=self.population.device)

    def by_member(self, values: Sequence[Any]) -> list[Any]:
        """One value per member of the batched model (in :attr:`active`'s order) as one per
        seed, None for a culled member (what every per-member list of the metrics holds)."""
        spread: list[Any] = [None] * len(self.seeds)
        for position, value in zip(self.active, values, strict=True):
            spread[position] = value
        return spread

    def run(
        self, run_dir: Path, resume: bool, progress: bool, stop_after: int | None
    ) -> PopulationResult:
        """Train (from ``RUN_DIR/last`` when resuming), saving after every epoch; finish."""
        start = self._resume(run_dir) if resume else 0
        run_dir.mkdir(parents=True, exist_ok=True)
        save_data(run_dir / "data.safetensors", self.data)
        if resume:  # metrics.json may lag behind last (killed between the two writes)
            write_metrics(run_dir, self.task, self.metrics)
        epochs = self.settings.epochs
        end = epochs if stop_after is None else min(stop_after, epochs)
        report = progress_bar(epochs, start, progress)
        for epoch in range(start, end):
            row, members = self.epoch(epoch)
            self.metrics.append(row)
            for index, member in zip(self.active, members, strict=True):
                val = row["val_accuracy_argmax"][index]
                if self.bests[index].update(member, epoch + 1, val):
                    folder = member_dir(run_dir, self.seeds[index])
                    self.bests[index].save(folder, self.config, self.member_meta(index))
            self._restart_collapsed(row)
            self._cull(run_dir, row)
            self._exploit(row)
            self.save_progress(run_dir)
            best = max(self.active, key=lambda i: row["val_accuracy_argmax"][i])
            report(
                epoch + 1,
                f"best val {100 * row['val_accuracy_argmax'][best]:.2f}% (seed "
                f"{self.seeds[best]}) tau {row['tau']:.3g}",
            )
        return self._finish(run_dir, end)

    def epoch(self, epoch: int) -> tuple[dict[str, Any], list[TransformerProgram]]:
        """Train one epoch; its metrics row (per seed: the member's mean loss, its argmax
        model's validation accuracy and its median and largest gradient norm, None where not
        finite or where the member was culled; the seconds spent training) and the members
        still training as plain models (in :attr:`active`'s order)."""
        began = time.perf_counter()
        losses, norms = self._steps(epoch)
        seconds = time.perf_counter() - began
        accuracies, members = self.validate()
        row = {
            "epoch": epoch + 1,
            "tau": self.schedule[epoch][-1],
            "loss": self.by_member(_finite(np.mean(losses, axis=0))),
            "grad_norm_median": self.by_member(_finite(np.median(norms, axis=0))),
            "grad_norm_max": self.by_member(_finite(np.max(norms, axis=0))),
            "seconds": seconds,
        }
        row["val_accuracy_argmax"] = self.by_member(accuracies)
        return row, members

    def validate(self) -> tuple[list[float], list[TransformerProgram]]:
        """The argmax validation accuracy of every member still training, and those members as
        plain models (on the weights' device), in :attr:`active`'s order: what each epoch ends
        with."""
        device = self.population.device
        members = [self.population.member(i).to(device) for i in range(self.population.size)]
        return [accuracy(member, self.data.val) for member in members], members

    def _restart_collapsed(self, row: dict[str, Any]) -> None:
        """Put every member that has collapsed (and is not frozen) back to its best epoch, with
        a fresh optimiser state; record the restarts in ``row`` (``restarts``, one entry per
        member, None where it did not restart) when there are any."""
        restarts: list[dict[str, Any] | None] = [None] * len(self.seeds)
        for slot, index in enumerate(self.active):
            val = row["val_accuracy_argmax"][index]
            best, watch = self.bests[index], self.watches[index]
            if self.seeds[index] in self.diverged or best.state is None:
                continue
            if not watch.collapsed(val, best.val_accuracy):
                continue
            self.population.set_member(slot, best.state)
            self.optimizer.reset(slot)
            restarts[index] = restart_record(
                row["epoch"], val, best.epoch, best.val_accuracy, watch.lr_factor
            )
        if any(restarts):
            row["restarts"] = restarts

    def _exploit(self, row: dict[str, Any]) -> None:
        """After an exploit round's epoch (``row``, already in the metrics): give each member
        that :func:`~.exploit.exploit_pairs` picks its donor's weights, Adam state and
        learning-rate factor (with a fresh collapse count); record the copies in ``row``
        (``exploits``, one entry per member, None where it took none) when there are any."""
        settings, epoch = self.settings, int(row["epoch"])
        every = settings.exploit_every
        if every is None or not exploit_round(
            epoch, every, settings.epochs, settings.exploit_start
        ):
            return
        frozen = [self._out_of_ranking(index) for index in range(len(self.seeds))]
        score = settings.exploit_score
        scores = window_scores(self.metrics, every, frozen, score)
        copies = exploit_pairs(
            scores,
            settings.exploit_fraction,
            settings.exploit_margin,
            higher_is_better=score == "val_accuracy",
        )
        exploits: list[dict[str, Any] | None] = [None] * len(self.seeds)
        for copy in copies:
            recipient, donor = copy.recipient, copy.donor
            into, out_of = self.active.index(recipient), self.active.index(donor)
            self.population.copy_member(into, out_of)
            self.optimizer.copy_member(into, out_of)
            self.watches[recipient].take_from(self.watches[donor])
            exploits[recipient] = exploit_record(epoch, self.seeds[donor], copy, score)
        if any(exploits):
            row["exploits"] = exploits

    def _out_of_ranking(self, index: int) -> bool:
        """Whether member ``index`` (a position in the seeds) takes no part in a ranking:
        frozen, or culled."""
        return self.seeds[index] in self.diverged or index not in self.active

    def _cull(self, run_dir: Path, row: dict[str, Any]) -> None:
        """After the cull's epoch (``row``, already in the metrics): finish the members that do
        not rank among the ``cull_keep`` of lowest mean training loss over the last
        :data:`~.cull.CULL_WINDOW` epochs (their final model is the current one) and go on with
        the others; record the cut in ``row`` (``culled``, one entry per member, None where it
        goes on)."""
        epoch, after = int(row["epoch"]), self.settings.cull_after
        if after is None or epoch != after:
            return
        keep = kept_count(self.settings.cull_keep, len(self.seeds))
        frozen = [self._out_of_ranking(index) for index in range(len(self.seeds))]
        scores = window_scores(self.metrics, min(CULL_WINDOW, epoch), frozen, "train_loss")
        kept = members_kept(scores, keep)
        kept_scores = [score for index in kept if (score := scores[index]) is not None]
        culled: list[dict[str, Any] | None] = [None] * len(self.seeds)
        for slot, index in enumerate(self.active):
            if index in kept:
                continue
            culled[index] = cull_record(epoch, scores[index], kept_scores)
            model = self.population.member(slot)
            self.culled[self.seeds[index]] = self._finish_member(
                run_dir, index, model, epoch, culled[index]
            )
        slots = [self.active.index(index) for index in kept]
        self.population.keep(slots)
        self.optimizer.keep(slots, self.population.weights)
        self.active = kept
        row["culled"] = culled

    def _steps(self, epoch: int) -> tuple[list[list[float]], list[list[float]]]:
        """The optimiser steps of one epoch; each step's loss and gradient norm (before
        clipping) per member."""
        losses: list[list[float]] = []
        norms: list[list[float]] = []
        for step, rows in enumerate(self.batches(epoch)):
            step_losses, step_norms = self.step(epoch, step, rows)
            losses.append(step_losses)
            norms.append(step_norms)
            crash_point(f"epoch{epoch + 1}:step{step + 1}")
        return losses, norms

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        """The batches of epoch ``epoch``: per step, each member's rows of the training split
        (its own order, :func:`~.train.epoch_batches` for its seed)."""
        size = self.settings.batch_size
        orders = [
            epoch_batches(len(self.data.train), size, self.seeds[index], epoch, 0, 1)
            for index in self.active
        ]
        return zip(*orders, strict=True)

    def step(
        self, epoch: int, step: int, rows: Sequence[torch.Tensor]
    ) -> tuple[list[float], list[float]]:
        """Optimiser step ``step`` of epoch ``epoch`` (its temperature and learning rate) on each
        member's ``rows``; each member's loss and gradient norm before clipping."""
        settings, population = self.settings, self.population
        index = torch.stack(list(rows)).to(population.device)
        x, y = self.x_train[index], self.y_train[index]
        tau = self.schedule[epoch][step]
        self.optimizer.zero_grad()
        step_losses = [0.0] * population.size
        modes = draw_modes(settings)
        for mode in modes:
            draw = population.losses(x, y, tau, mode)
            draw = draw / len(modes)
            draw.sum().backward()  # type: ignore[no-untyped-call]
            step_losses = [a + float(b) for a, b in zip(step_losses, draw.detach(), strict=True)]
        if settings.choice_entropy > 0:
            penalty = settings.choice_entropy * mean_choice_entropy(population.weights)
            penalty.sum().backward()  # type: ignore[no-untyped-call]
        step_norms = population.gradient_norms()
        self._freeze_diverged(step_norms, epoch, step)
        recorded = [float(n) for n in step_norms]
        self._update(step_norms, self.rates[epoch][step])
        return step_losses, recorded

    def _freeze_diverged(self, norms: torch.Tensor, epoch: int, step: int) -> None:
        """Record the members whose gradient is not finite for the first time."""
        seeds = [self.seeds[index] for index in self.active]
        for seed, norm in zip(seeds, norms.tolist(), strict=True):
            if not math.isfinite(norm) and seed not in self.diverged:
                self.diverged[seed] = {"epoch": epoch + 1, "step": step + 1}

    def _update(self, norms: torch.Tensor, rate: float) -> None:
        """Clip each member's gradient (when asked) and step Adam at the schedule's ``rate``
        times each member's factor; frozen members keep their weights (their gradients are
        zeroed and their weights put back)."""
        population, frozen = self.population, self.frozen()
        kept = {}
        if bool(frozen.any()):
            population.zero_gradients_of(frozen)
            norms = torch.where(frozen, torch.zeros_like(norms), norms)
            kept = {name: w[frozen].detach().clone() for name, w in population.weights.items()}
        if self.settings.clip_grad_norm is not None:
            population.clip_gradients(norms, self.settings.clip_grad_norm)
        self.optimizer.step([rate * self.watches[index].lr_factor for index in self.active])
        with torch.no_grad():
            for name, weights in kept.items():
                population.weights[name][frozen] = weights

    def save_progress(self, run_dir: Path) -> None:
        """Write ``RUN_DIR/last`` (the population, Adam's state, the members' generators, the
        metrics and frozen members: all a resumed run needs) and then ``metrics.json``."""
        population = self.population
        extra = self.optimizer.state_tensors()
        for index, state in enumerate(population.generator_states()):
            extra[f"rng.member.{index}"] = state
        meta = {
            **self.meta,
            "epoch": len(self.metrics),
            "metrics": self.metrics,
            "diverged": {str(seed): where for seed, where in self.diverged.items()},
            "active": [self.seeds[index] for index in self.active],
            "culled": [member.to_json() for member in self.culled.values()],
            "collapse_watches": [watch.to_json() for watch in self.watches],
            "random": host_random_states(),
        }
        checkpoint.save_population(run_dir / "last", self.config, population.state(), meta, extra)
        write_metrics(run_dir, self.task, self.metrics)

    def _resume(self, run_dir: Path) -> int:
        """Load ``RUN_DIR/last`` and the members' best epochs; the epochs already trained."""
        path = run_dir / "last"
        if not path.with_suffix(".json").exists():
            raise RaspError.single(
                "checkpoint",
                f"{run_dir} holds no run to resume (no last.json)",
                hint="start the run without --resume",
            )
        saved, weights, extra = checkpoint.load_population(path)
        meta = saved.meta
        if saved.config != self.config or meta.get("task") != self.task:
            raise RaspError.single(
                "checkpoint",
                f"{path.with_suffix('.json')} was trained with another task or architecture",
                hint="resume with the settings of the original run, or train into a new folder",
            )
        if list(meta.get("seeds", [])) != list(self.seeds):
            raise RaspError.single(
                "checkpoint",
                f"{run_dir} is a population of seeds {meta.get('seeds')}, not {list(self.seeds)}",
                hint="resume with the run's own seeds (leave out --seeds)",
            )
        refuse_changed_settings(run_dir, meta, self.settings)
        try:
            active = [self.seeds.index(int(seed)) for seed in meta.get("active", self.seeds)]
            culled = [MemberResult.from_json(entry) for entry in meta.get("culled", [])]
            states = [extra[f"rng.member.{slot}"] for slot in range(len(active))]
            epoch = int(meta["epoch"])
            self.metrics = list(meta["metrics"])[:epoch]
            self.diverged = {int(s): dict(w) for s, w in meta["diverged"].items()}
        except (KeyError, TypeError, ValueError) as error:
            raise RaspError.single(
                "checkpoint", f"{path.with_suffix('.json')}: not a population's progress ({error})"
            ) from None
        if len(active) < len(self.seeds):  # culled: the batched model holds the others only
            self.population.keep(active)
            self.optimizer.keep(active, self.population.weights)
        self.active, self.culled = active, {member.seed: member for member in culled}
        self.population.restore(weights, states)
        where = str(path.with_suffix(".json"))
        self.optimizer.restore(extra, where)
        self._resume_watches(meta.get("collapse_watches"), where)
        restore_host_random_states(meta["random"], where)
        self.bests = [BestEpoch.resumed(member_dir(run_dir, seed)) for seed in self.seeds]
        return epoch

    def _resume_watches(self, saved: Any, where: str) -> None:
        """Give each member the collapse watch saved for it (none saved: a population from
        before restarts existed, whose watches start afresh)."""
        if saved is None:
            return
        if not isinstance(saved, list) or len(saved) != len(self.seeds):
            raise RaspError.single(
                "checkpoint", f"{where}: collapse watches that do not match the seeds"
            )
        self.watches = [
            watch.resumed(state, where) for watch, state in zip(self.watches, saved, strict=True)
        ]

    def _finish(self, run_dir: Path, end: int) -> PopulationResult:
        """Evaluate every member's final model and best epoch on every split, save both (a
        culled member's were at the cut), select by validation and write ``population.json``."""
        members = []
        for index, seed in enumerate(self.seeds):
            if seed in self.culled:
                members.append(self.culled[seed])
                continue
            model = self.population.member(self.active.index(index))
            members.append(self._finish_member(run_dir, index, model, end, None))
        entries = [member.to_json() for member in members]
        selected = {
            "model": select_by_validation(entries, "accuracy_argmax"),
            "best": select_by_validation(entries, "best_accuracy_argmax"),
        }
        summary = {
            **self.meta,
            "data_seed": self.settings.seed,
            "architecture": self.config.architecture().label(),
            "epochs_run": end,
            "seconds_per_epoch": self._seconds_per_epoch(),
            "sizes": self._sizes(),
            "selected": selected,
            "members": entries,
        }
        write_text_atomically(run_dir / POPULATION_FILE, json.dumps(summary, indent=2) + "\n")
        chosen = {name: seed for name, seed in selected.items() if seed is not None}
        return PopulationResult(run_dir, tuple(members), chosen, self._seconds_per_epoch(), end)

    def _finish_member(
        self,
        run_dir: Path,
        index: int,
        model: TransformerProgram,
        end: int,
        culled: dict[str, Any] | None,
    ) -> MemberResult:
        """Evaluate member ``index``'s final ``model`` (after epoch ``end``) and its best epoch
        on every split, save both in its folder, and return its result; ``culled``: the record
        of the cut that stopped it (None: it trained to the end)."""
        seed = self.seeds[index]
        model.set_sampling(mode="argmax")
        final = {name: accuracy(model, self.data.split(name)) for name in SPLITS}
        best = self.bests[index]
        best_result = best_epoch_accuracy(best, self.config, self.data, end, final)
        folder, meta = member_dir(run_dir, seed), self.member_meta(index)
        sizes = self._sizes()
        record: dict[str, Any] = {
            "accuracy_argmax": final,
            "sizes": sizes,
            "seconds_per_epoch": self._seconds_per_epoch(),
        }
        if culled is not None:
            record["culled"] = culled
        checkpoint.save(folder / "model", model, {**meta, **record, "epochs_run": end})
        if best_result is not None:
            best_record = {"accuracy_argmax": best_result, "sizes": sizes}
            best.save(folder, self.config, {**meta, **best_record})
        return MemberResult(
            seed,
            final,
            best.epoch if best_result is not None else None,
            best_result,
            self.diverged.get(seed),
            tuple(member_events(self.metrics, "restarts", index)),
            tuple(member_events(self.metrics, "exploits", index)),
            culled,
        )

    def _sizes(self) -> dict[str, int]:
        """The number of sequences in each split."""
        return {name: len(self.data.split(name)) for name in SPLITS}

    def _seconds_per_epoch(self) -> float:
        """The mean training seconds of the epochs run so far (0 before the first)."""
        timings = [row["seconds"] for row in self.metrics]
        return float(np.mean(timings)) if timings else 0.0


def member_events(metrics: Sequence[dict[str, Any]], key: str, index: int) -> list[dict[str, Any]]:
    """What happened to member ``index`` (a position in the seeds) in a population's metrics
    under ``key``: ``restarts`` (its restarts from its best epoch) or ``exploits`` (the
    training states it took from other members); each row holds one entry per member."""
    found = (row.get(key, [None] * (index + 1))[index] for row in metrics)
    return [event for event in found if event is not None]


def _finite(values: Any) -> list[float | None]:
    """A list of floats with None where a value is not finite (JSON has no inf or nan)."""
    return [float(v) if math.isfinite(float(v)) else None for v in values]


def saved_population(run_dir: Path) -> tuple[Architecture, TrainConfig, tuple[int, ...]] | None:
    """The architecture, settings and seeds of the population whose ``last`` checkpoint is in
    ``run_dir`` (what ``--resume`` continues); None when it holds no population's."""
    path = run_dir / "last"
    if not path.with_suffix(".json").exists() or "seeds" not in checkpoint.read_sidecar(path):
        return None
    saved, _, _ = checkpoint.load_population(path)
    try:
        settings = TrainConfig.from_json(saved.meta["train"])
        seeds = tuple(int(seed) for seed in saved.meta["seeds"])
    except (KeyError, TypeError, ValueError) as error:
        raise RaspError.single(
            "checkpoint", f"{path.with_suffix('.json')}: no usable training settings ({error})"
        ) from None
    return saved.config.architecture(), settings, seeds
