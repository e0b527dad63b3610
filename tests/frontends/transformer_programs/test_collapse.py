"""The collapse watch: a run is restarted after ``patience`` epochs in a row more than ``drop``
below its best, the count starts again after each restart, and the factor compounds."""

from __future__ import annotations

import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.collapse import CollapseWatch
from rasp_ir.frontends.transformer_programs.config import TrainConfig

SETTINGS = TrainConfig(restart_drop=0.1, restart_patience=2, restart_lr_factor=0.5)


def test_without_a_drop_the_watch_never_fires() -> None:
    watch = CollapseWatch.of(TrainConfig())
    assert not any(watch.collapsed(0.0, 1.0) for _ in range(10))
    assert watch.lr_factor == 1.0


def test_patience_epochs_in_a_row_below_the_threshold_collapse_a_run() -> None:
    watch = CollapseWatch.of(SETTINGS)
    vals = [0.9, 0.85, 0.7, 0.81, 0.7, 0.6, 0.5, 0.5, 0.5]
    fired = [watch.collapsed(val, 0.9) for val in vals]
    # 0.85 and 0.81 are within 10 points of 0.9; 0.7 once is not enough.
    assert fired == [False, False, False, False, False, True, False, True, False]
    assert watch.lr_factor == 0.25 and watch.epochs_below == 1


def test_the_watch_resumes_its_count_and_factor() -> None:
    watch = CollapseWatch.of(SETTINGS)
    watch.collapsed(0.5, 0.9)
    again = CollapseWatch.of(SETTINGS).resumed(watch.to_json(), "last.json")
    assert again == watch
    assert CollapseWatch.of(SETTINGS).resumed(None, "last.json") == CollapseWatch.of(SETTINGS)
    with pytest.raises(RaspError, match=r"last\.json: no usable collapse watch"):
        CollapseWatch.of(SETTINGS).resumed({"lr_factor": 1.0}, "last.json")
