"""Training recipes by name: a recipe's name, the task's paper settings and whether they train a
population in, the settings to train with out.

``paper`` is the paper's recipe, unchanged. ``robust`` is this project's, beyond the paper,
chosen from the ingredients' measured effect on the seed distribution
(``benchmarks/tp_recipe.py``, ``benchmarks/results/tp_recipe*.md``; each ingredient is a field
of :class:`~.config.TrainConfig` whose default is the paper's behaviour, so the CLI's explicit
options override a preset's values one by one):

- gradient clipping at global norm 1 (per member): the one single-run ingredient that moved the
  seed distribution up, in the reduced-scale benchmark and in full-scale double_hist and
  most_freq runs (``benchmarks/results/tp_reproduce.md``);
- for a population, exploit rounds every 10 epochs from the first on, members ranked by their
  relaxed training loss (``exploit_every`` 10, ``exploit_score`` ``train_loss``: a
  population's worst quarter take its best quarter's training state, :mod:`.exploit`): against
  clipping alone on the same seeds at full scale, the final models' median rose from 72.64 to
  97.83 on double_hist (seeds 0-3, one member learned the task) and from 74.96 to 75.43 on
  most_freq (``benchmarks/results/tp_recipe_full_*_exploit.md``). They pool a population's
  luck, they do not make it: without a member that finds the program (double_hist seeds 4-7)
  they gain nothing, and the members are no longer independent seeds (every copy is recorded).
  A single run has no members to copy, so its preset is clipping alone;
- not the cosine learning-rate decay: it lowered the median seed in the benchmark, alone and
  beside clipping (``--lr-schedule cosine``, an option);
- not restarts from the best epoch (``--restart-drop``, an option): at full scale, 10 points
  below the best for 3 epochs also catches the noisy argmax accuracy of the hot early epochs,
  and a double_hist run that the paper's recipe takes to 97.6% validation accuracy was
  restarted 12 times, its learning rate halved each time, and stalled below 58%;
- not a cull (``--cull-after``, :mod:`.cull`): how wide a run starts is the user's choice of
  cost. Measured once (double_hist, seeds 16-31 cut to 4 after epoch 30, exploit rounds from
  the cut on), every kept member ended at 98.45-98.91% test against 90.13-94.22% for this
  preset on seeds 16-19 (``benchmarks/results/tp_recipe_full_double_hist_wide.md``): the README
  shows it as ``--recipe robust --cull-after 30 --exploit-start 30``.
"""

from __future__ import annotations

from dataclasses import replace

from rasp_ir.api import RaspError

from .config import TrainConfig

RECIPE_NAMES: tuple[str, ...] = ("paper", "robust")


def recipe_train_config(name: str, base: TrainConfig, population: bool = False) -> TrainConfig:
    """``base`` (a task's paper settings) under the recipe ``name``, labelled with it, for a
    population of members (``population``) or a single run; a usage error naming the recipes
    for an unknown name."""
    if name == "paper":
        return replace(base, recipe="paper")
    if name == "robust":
        robust = replace(base, recipe="robust", clip_grad_norm=1.0)
        if population:
            return replace(robust, exploit_every=10, exploit_score="train_loss")
        return robust
    raise RaspError.single(
        "usage", f"unknown recipe {name!r}", hint=f"recipes: {', '.join(RECIPE_NAMES)}"
    )
