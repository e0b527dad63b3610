"""Learning rates per step: a run's settings and its steps per epoch in, one rate per optimiser
step out (``[epoch][step]``, as :func:`~.model.temperatures` gives the temperatures).

The paper trains at a constant rate. Beyond it: a linear warm-up over the first
``warmup_epochs`` (the first step at ``lr / warm-up steps``, the last at ``lr``), then the
``cosine`` schedule's half cosine from ``lr`` down to 0 after the last step. A restarted run
multiplies these rates by its own factor (:mod:`.collapse`).
"""

from __future__ import annotations

import math

from .config import TrainConfig


def learning_rates(settings: TrainConfig, steps: int) -> list[list[float]]:
    """The rate of every step of a run of ``settings`` with ``steps`` steps per epoch; exactly
    ``settings.lr`` at every step under the paper's constant schedule and no warm-up."""
    total = settings.epochs * steps
    warm = settings.warmup_epochs * steps
    return [
        [settings.lr * _factor(epoch * steps + step, warm, total, settings.lr_schedule)
         for step in range(steps)]
        for epoch in range(settings.epochs)
    ]  # fmt: skip


def _factor(step: int, warm: int, total: int, schedule: str) -> float:
    """The multiple of the base rate at global ``step`` (0-based) of ``total``."""
    if step < warm:
        return (step + 1) / warm
    if schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
