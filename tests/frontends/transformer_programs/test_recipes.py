"""Recipes by name: the paper's settings unchanged, the robust preset's ingredients, unknown
names refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.config import TrainConfig
from rasp_ir.frontends.transformer_programs.recipes import RECIPE_NAMES, recipe_train_config
from rasp_ir.frontends.transformer_programs.train import check_settings, default_train_config


def test_the_papers_recipe_is_the_papers_settings() -> None:
    base = default_train_config("sort")
    assert recipe_train_config("paper", base) == base == TrainConfig()


@pytest.mark.parametrize("task", ["sort", "induction", "ner"])
def test_the_robust_recipe_changes_only_its_ingredients(task: str) -> None:
    base = default_train_config(task)
    robust = recipe_train_config("robust", base)
    check_settings(robust)
    assert robust.recipe == "robust"
    kept = ("epochs", "batch_size", "lr", "tau_init", "tau_end", "seed", "dataset_size", "sampler")
    assert all(getattr(robust, name) == getattr(base, name) for name in kept)
    assert robust != replace(base, recipe="robust")


def test_the_robust_recipe_of_a_population_adds_exploit_rounds_by_training_loss() -> None:
    base = default_train_config("double_hist")
    single = recipe_train_config("robust", base)
    population = recipe_train_config("robust", base, population=True)
    assert single.exploit_every is None and single.clip_grad_norm == 1.0
    assert population == replace(single, exploit_every=10, exploit_score="train_loss")
    check_settings(population)
    assert recipe_train_config("paper", base, population=True) == base


def test_an_unknown_recipe_is_refused() -> None:
    with pytest.raises(RaspError, match="unknown recipe 'fast'") as refused:
        recipe_train_config("fast", TrainConfig())
    assert "recipes: paper, robust" in str(refused.value)
    assert RECIPE_NAMES == ("paper", "robust")
