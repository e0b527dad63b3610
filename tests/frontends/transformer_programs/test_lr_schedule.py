"""Learning rates per step: the paper's constant rate exactly, a linear warm-up, a cosine decay."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from rasp_ir.frontends.transformer_programs.config import TrainConfig
from rasp_ir.frontends.transformer_programs.lr_schedule import learning_rates


def test_the_papers_rate_is_the_same_at_every_step() -> None:
    rates = learning_rates(TrainConfig(epochs=3, lr=0.05), steps=4)
    assert rates == [[0.05] * 4] * 3


def test_warm_up_then_cosine_decay() -> None:
    settings = TrainConfig(epochs=4, lr=0.1, lr_schedule="cosine", warmup_epochs=1)
    rates = [rate for epoch in learning_rates(settings, steps=2) for rate in epoch]
    assert rates[:2] == pytest.approx([0.05, 0.1])  # warm-up: 1/2, 2/2 of the rate
    decay = [0.1 * 0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)]
    assert rates[2:] == pytest.approx(decay)
    assert rates[2] == 0.1 and all(a > b > 0 for a, b in pairwise(rates[2:]))


def test_warm_up_alone_keeps_the_rate_after_it() -> None:
    settings = TrainConfig(epochs=3, lr=0.2, warmup_epochs=2)
    rates = learning_rates(settings, steps=1)
    assert rates == [[0.1], [0.2], [0.2]]
