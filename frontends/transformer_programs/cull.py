"""Culling a population (one cut of successive halving, Jamieson and Talwalkar 2016): the
members' recent relaxed training losses in; which members go on training, and the record of a
culled member, out.

On double_hist one seed in four to eight finds the task's program, and the relaxed model's
training loss tells it early: the seed that learnt the task had a loss of at most 0.32 from
epoch 20 on, the others at least 0.41 (``benchmarks/results/tp_recipe_full_double_hist_exploit
.md``), while the argmax model's accuracy leads only later. A population that starts wide and,
after epoch ``cull_after``, keeps only its ``cull_keep`` members of lowest loss (averaged over
the last :data:`CULL_WINDOW` epochs) draws many seeds' luck for the price of training few of
them to the end. The culled members stop where they are: their final model is the one at the
cut, saved and evaluated as a finished member's, and the run records when and why each went.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# Epochs the loss that ranks the members is averaged over (fewer when the cut comes earlier):
# one epoch's relaxed loss moves by a few hundredths while the temperature is high.
CULL_WINDOW = 5


def kept_count(keep: int | None, members: int) -> int:
    """The members a cut of ``members`` keeps: ``keep`` (``cull_keep``), or when it is None a
    quarter, at least one."""
    return keep or max(1, math.ceil(members / 4))


def ranking(scores: Sequence[float | None]) -> list[int]:
    """The positions in ``scores``, lowest score first; a member without one (frozen, or a
    loss that was not finite: None) ranks after every member with one. Ties rank by position."""
    return sorted(
        range(len(scores)),
        key=lambda index: (scores[index] is None, scores[index] or 0.0, index),
    )


def members_kept(scores: Sequence[float | None], keep: int) -> list[int]:
    """The positions (in ``scores``, ascending) of the ``keep`` members first in
    :func:`ranking`."""
    return sorted(ranking(scores)[:keep])


def cull_record(epoch: int, score: float | None, kept_scores: Sequence[float]) -> dict[str, Any]:
    """What a run records of a culled member: the epoch it stopped after (1-based), its mean
    relaxed training loss over the window (None: it had none) and the highest of the kept
    members' (the bar it missed)."""
    return {
        "epoch": epoch,
        "scored_by": "train_loss",
        "score": score,
        "kept_below": max(kept_scores) if kept_scores else None,
    }
