"""Training recipes by name: a recipe's name and a task's paper settings in, the settings that
recipe trains with out. No torch here.

``paper`` is the paper's recipe (App. B), the settings unchanged.
"""

from __future__ import annotations

from rasp_ir.api import RaspError

from .config import TrainConfig

RECIPE_NAMES: tuple[str, ...] = ("paper",)


def recipe_train_config(name: str, base: TrainConfig) -> TrainConfig:
    """The settings recipe ``name`` trains with, given a task's paper settings ``base``; a usage
    error naming the recipes for an unknown name."""
    if name == "paper":
        return base
    raise RaspError.single(
        "usage", f"unknown recipe {name!r}", hint=f"recipes: {', '.join(RECIPE_NAMES)}"
    )
