"""The run folder of a population (``rasp tp train --seeds``): its layout, the selection of a
member by validation accuracy, and finding the checkpoint of a member to lift. No torch here.

Layout: ``population.json`` (the seeds, every member's accuracies, and which member validation
selects), ``metrics.json`` (every epoch's loss, validation accuracy and gradient norms, one
value per member in the order of the seeds), ``data.safetensors`` (the splits, shared),
``last.{safetensors,json}`` (the whole population, for ``--resume``) and, per member,
``seed-S/model.*`` and ``seed-S/best.*``: ordinary checkpoints, as a single run of seed S
writes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rasp_ir.api import RaspError

POPULATION_FILE = "population.json"


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


def member_checkpoint(run_dir: Path, which: str, member: int | None) -> tuple[Path, int | None]:
    """The checkpoint ``which`` (``model`` or ``best``) to lift from ``run_dir`` and the seed of
    its member: member ``member`` of a population, or the one validation selected; the run's own
    checkpoint (and None) for a single run."""
    population = read_population(run_dir)
    if population is None:
        if member is not None:
            raise RaspError.single(
                "usage",
                f"{run_dir} holds a single run, not a population",
                hint="leave out --member",
            )
        return run_dir / which, None
    seeds = population["seeds"]
    if member is None:
        if which not in population["selected"]:
            raise RaspError.single(
                "checkpoint",
                f"{run_dir / POPULATION_FILE} selects no member for the {which} checkpoints",
                hint="name one with --member SEED",
            )
        member = population["selected"][which]
    if member not in seeds:
        listed = ", ".join(str(seed) for seed in seeds)
        raise RaspError.single(
            "usage",
            f"{run_dir} has no member trained with seed {member}",
            hint=f"--member is a seed of the population: {listed}",
        )
    return member_dir(run_dir, member) / which, member
