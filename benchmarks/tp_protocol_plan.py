"""The units of the paper's protocol and how processes share them: recipes, tasks,
configurations, seeds and settings in; one unit per (recipe, task, configuration), each one
population run (its members are the seeds), its folder, and a deterministic split of the units
between processes out. No torch here.

Every Table 1 task is trained at every configuration of the paper's grid (or the ones chosen);
the in-context task (``induction``) only at its own configuration (2 layers, 1 categorical
head, no MLPs, causal). The settings are the recipe's for a population applied to the task's
paper settings (``robust``: with its exploit rounds), then ``--epochs`` and the data set size;
the data's seed is the first seed, as ``rasp tp train --seeds`` has it, so every configuration
of a task trains and is validated on the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rasp_ir.frontends.transformer_programs.config import (
    PAPER_ARCHITECTURES,
    PAPER_GRID,
    Architecture,
    TrainConfig,
    paper_epochs,
)
from rasp_ir.frontends.transformer_programs.recipes import recipe_train_config
from rasp_ir.frontends.transformer_programs.tasks import TASKS

IN_CONTEXT_TASK = "induction"


@dataclass(frozen=True)
class Unit:
    """One population run of the protocol: a recipe's settings for a task at a configuration,
    one member per seed. ``protocol_epochs``: the epochs the whole protocol trains it for (the
    recipe's at the paper's schedule), which the time estimate scales to."""

    recipe: str
    task: str
    arch: Architecture
    settings: TrainConfig
    seeds: tuple[int, ...]
    protocol_epochs: int

    @property
    def folder(self) -> Path:
        """Where the unit's run folder lies under the runs folder: recipe, task, then the
        configuration and what else makes a run different (epochs, data set size, seeds), so
        that no invocation resumes another's run."""
        label = self.arch.label().replace("/", "-")
        settings = self.settings
        name = f"{label}-e{settings.epochs}-n{settings.dataset_size}-s{seeds_text(self.seeds)}"
        return Path(self.recipe) / self.task / name

    def cost(self, epochs_left: int) -> float:
        """A proxy of the training time of ``epochs_left`` more epochs, for sharing the units
        out before any is measured: members x epochs x layers x (heads x positions squared +
        MLPs x positions)."""
        positions = TASKS[self.task].max_length + 2
        arch = self.arch
        heads = arch.n_heads_cat + arch.n_heads_num
        mlps = arch.n_cat_mlps + arch.n_num_mlps
        per_layer = heads * positions**2 + mlps * positions
        return float(len(self.seeds) * epochs_left * arch.n_layers * max(per_layer, 1))


def seeds_text(seeds: Sequence[int]) -> str:
    """Seeds as runs of consecutive ones, the way ``--seeds`` reads them: ``0-4``, ``0-3,7``."""
    parts: list[str] = []
    start = previous = seeds[0]
    for seed in [*seeds[1:], None]:
        if seed is not None and seed == previous + 1:
            previous = seed
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if seed is not None:
            start = previous = seed
    return ",".join(parts)


def plan_units(
    recipes: Sequence[str],
    tasks: Sequence[str],
    seeds: Sequence[int],
    configurations: Sequence[Architecture] | None = None,
    epochs: int | None = None,
    dataset_size: int | None = None,
) -> list[Unit]:
    """Every unit of the protocol, recipe by recipe, task by task, in the grid's order:
    ``configurations`` (default: the paper's grid) for the Table 1 tasks, its own for the
    in-context task."""
    units = []
    for recipe in recipes:
        for task in tasks:
            paper = TrainConfig(epochs=paper_epochs(task), seed=seeds[0])
            protocol = recipe_train_config(recipe, paper, population=True)
            settings = protocol
            if epochs is not None:
                settings = replace(settings, epochs=epochs)
            if dataset_size is not None:
                settings = replace(settings, dataset_size=dataset_size)
            archs = (
                [PAPER_ARCHITECTURES[task]]
                if task == IN_CONTEXT_TASK
                else list(configurations or PAPER_GRID)
            )
            units += [
                Unit(recipe, task, arch, settings, tuple(seeds), protocol.epochs) for arch in archs
            ]
    return units


def share_out(costs: Sequence[float], processes: int) -> list[list[int]]:
    """The indices of ``costs`` each of ``processes`` processes takes: the costliest first, each
    to the process with the least so far (the lowest rank among equals); each share in index
    order. The same costs always give the same shares, so every process computes them alike."""
    totals = [0.0] * processes
    shares: list[list[int]] = [[] for _ in range(processes)]
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        rank = min(range(processes), key=lambda r: (totals[r], r))
        totals[rank] += costs[index]
        shares[rank].append(index)
    return [sorted(share) for share in shares]
