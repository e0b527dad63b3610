"""The run folder of a population (``rasp tp train --seeds``): its layout, the selection of a
member by validation accuracy, and finding the checkpoint of a member to lift. No torch here.

Layout: ``population.json`` (the seeds, every member's accuracies, and which member validation
selects), ``metrics.json`` (every epoch's loss, validation accuracy and gradient norms, one
value per member in the order of the seeds, null after a member's cull), ``data.safetensors``
(the splits, shared), ``last.{safetensors,json}`` (the population's members still training,
for ``--resume``) and, per member,
``seed-S/model.*`` and ``seed-S/best.*``: ordinary checkpoints, as a single run of seed S
writes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasp_ir.api import RaspError

from . import CHECKPOINT_FORMAT

POPULATION_FILE = "population.json"
# The whole population's progress, written after every epoch (what --resume reads).
PROGRESS_FILE = "last.json"


def member_dir(run_dir: Path, seed: int) -> Path:
    """The folder of the member trained with ``seed``."""
    return run_dir / f"seed-{seed}"


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0-31``, ``0,3,7`` or both (``0-3,7``) as distinct seeds in the order given; a usage
    error naming the problem otherwise."""
    seeds: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise RaspError.single(
                "usage",
                f"--seeds {text!r}: {part.strip()!r} is not a seed or a range",
                hint="write seeds as 0-31, 0,3,7 or 0-3,7",
            ) from None
        if first < 0 or last < first:
            raise RaspError.single(
                "usage", f"--seeds {text!r}: {part.strip()!r} is not a range of seeds >= 0"
            )
        seeds.extend(range(first, last + 1))
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise RaspError.single(
            "usage", f"--seeds {text!r} names seed {repeated[0]} twice", hint="list each seed once"
        )
    return tuple(seeds)


def select_by_validation(members: Sequence[dict[str, Any]], key: str) -> int | None:
    """The seed of the member whose ``key`` accuracies (``accuracy_argmax`` of the final
    models, ``best_accuracy_argmax`` of the best epochs) are best on the validation split, the
    first of equals; None when no member has them."""
    scored = [m for m in members if m.get(key) is not None]
    if not scored:
        return None
    return int(max(scored, key=lambda m: float(m[key]["val"]))["seed"])


def read_population(run_dir: Path) -> dict[str, Any] | None:
    """``RUN_DIR/population.json``, or None when ``run_dir`` holds a single run."""
    path = run_dir / POPULATION_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seeds = [int(seed) for seed in data["seeds"]]
        selected = {str(k): int(v) for k, v in data["selected"].items() if v is not None}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise RaspError.single(
            "checkpoint",
            f"{path}: not a readable population file ({error})",
            hint="train the population again, or resume it with --resume",
        ) from None
    return {**data, "seeds": seeds, "selected": selected}


@dataclass(frozen=True)
class MemberCheckpoint:
    """A checkpoint to lift or show: ``path`` (without suffix), ``run_dir`` (the run folder that
    holds its data and metrics: a population's folder for a member), ``seed`` (the member's, None
    for a single run) and ``population`` (what :func:`read_population` read, None for a single
    run)."""

    path: Path
    run_dir: Path
    seed: int | None = None
    population: dict[str, Any] | None = None

    @property
    def index(self) -> int | None:
        """The member's place among the seeds (its column in ``metrics.json``)."""
        if self.population is None or self.seed is None:
            return None
        return int(self.population["seeds"].index(self.seed))

    def selected_as(self) -> tuple[str, ...]:
        """The checkpoints (``model``, ``best``) for which validation selected this member."""
        if self.population is None:
            return ()
        return tuple(k for k, seed in self.population["selected"].items() if seed == self.seed)


def population_of(folder: Path) -> tuple[Path, dict[str, Any], int | None] | None:
    """The population ``folder`` belongs to: its folder, what :func:`read_population` read, and
    the member whose folder ``folder`` is (``RUN_DIR/seed-S``; None for ``RUN_DIR`` itself).
    None when ``folder`` is neither; a RaspError when ``folder`` is a population whose training
    has not finished (no ``population.json`` yet)."""
    population = read_population(folder)
    if population is not None:
        return folder, population, None
    _refuse_unfinished(folder)
    named = folder if folder.name not in ("", "..") else folder.resolve()
    low, dash, seed = named.name.partition("-")
    if low != "seed" or not dash or not seed.isdigit():
        return None
    parent = named.parent
    population = read_population(parent)
    if population is None or int(seed) not in population["seeds"]:
        return None
    return parent, population, int(seed)


def member_checkpoint(folder: Path, which: str, member: int | None) -> MemberCheckpoint:
    """The checkpoint ``which`` (``model`` or ``best``) of ``folder``: for a population's folder,
    that of member ``member`` or, when None, of the member validation selected; for a member's
    own folder (``RUN_DIR/seed-S``), that member's (``member`` may only repeat S); for a single
    run, the run's own (``member`` must be None)."""
    found = population_of(folder)
    if found is None:
        if member is not None:
            raise RaspError.single(
                "usage",
                f"{folder} holds a single run, not a population",
                hint="leave out --member",
            )
        return MemberCheckpoint(folder / which, folder)
    run_dir, population, own = found
    if own is not None:
        if member is not None and member != own:
            raise RaspError.single(
                "usage",
                f"{folder} is the folder of member {own}, not of member {member}",
                hint=f"leave out --member, or give the population's folder {run_dir}",
            )
        member = own
    if member is None:
        if which not in population["selected"]:
            raise RaspError.single(
                "checkpoint",
                f"{run_dir / POPULATION_FILE} selects no member for the {which} checkpoints",
                hint="name one with --member SEED",
            )
        member = population["selected"][which]
    if member not in population["seeds"]:
        listed = ", ".join(str(seed) for seed in population["seeds"])
        raise RaspError.single(
            "usage",
            f"{run_dir} has no member trained with seed {member}",
            hint=f"--member is a seed of the population: {listed}",
        )
    return MemberCheckpoint(member_dir(run_dir, member) / which, run_dir, member, population)


def _refuse_unfinished(folder: Path) -> None:
    """A RaspError when ``folder`` holds a population still training (or stopped before its
    end): its ``last.json`` is a Transformer Programs population's checkpoint (it names seeds)
    but there is no ``population.json`` yet."""
    try:
        progress = json.loads((folder / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return
    if not isinstance(progress, dict) or progress.get("format") != CHECKPOINT_FORMAT:
        return
    if "seeds" not in progress:
        return
    raise RaspError.single(
        "checkpoint",
        f"{folder} is a population whose training has not finished (no {POPULATION_FILE})",
        hint=f"finish it: rasp tp train {progress.get('task', 'TASK')} -o {folder} --resume",
    )
