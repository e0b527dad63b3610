"""The four Newton tasks of reference §13 (rows 59-62): a force per step in, the position of a
unit mass that starts at rest at 0 out, integrated as ``v_t = v_{t-1} + a_t``,
``p_t = p_{t-1} + v_t``, ``y_t = p_t`` with ``p_{-1} = v_{-1} = 0``."""

from __future__ import annotations

import numpy as np

from .task_spec import Alphabet, IntArray, OutputRange, Task

FORCES = Alphabet(-10, 10)
FORCE_PAIRS = Alphabet(-10, 10, width=2)


def newton_freebody(x: IntArray) -> IntArray:
    """Acceleration ``a_t = x_t``: the double cumulative sum of the inputs."""
    return np.cumsum(np.cumsum(x, axis=1), axis=1)


def newton_gravity(x: IntArray) -> IntArray:
    """Acceleration ``a_t = x_t - 1`` (a unit of gravity on top of the force)."""
    return newton_freebody(x - 1)


def newton_spring(x: IntArray) -> IntArray:
    """A unit spring pulling back to 0: ``a_t = x_t - p_{t-1}``."""
    y = np.zeros_like(x)
    position = np.zeros(len(x), dtype=np.int64)
    velocity = np.zeros(len(x), dtype=np.int64)
    for t in range(x.shape[1]):
        velocity = velocity + x[:, t] - position
        position = position + velocity
        y[:, t] = position
    return y


def newton_magnetic(x: IntArray) -> IntArray:
    """A force ``x_t`` in the plane plus a unit magnetic force turning the velocity by a
    quarter: ``a_t = x_t + (-v_{t-1,2}, v_{t-1,1})``; outputs ``(n, T, 2)`` positions."""
    y = np.zeros_like(x)
    position = np.zeros((len(x), 2), dtype=np.int64)
    velocity = np.zeros((len(x), 2), dtype=np.int64)
    for t in range(x.shape[1]):
        turned = np.stack([-velocity[:, 1], velocity[:, 0]], axis=1)
        velocity = velocity + x[:, t] + turned
        position = position + velocity
        y[:, t] = position
    return y


NEWTON_TASKS: tuple[Task, ...] = (
    Task(59, "Newton_Freebody", FORCES, 10, OutputRange(-550, 550), 10_000, newton_freebody, 80),
    Task(60, "Newton_Gravity", FORCES, 10, OutputRange(-605, 495), 10_000, newton_gravity, 80),
    Task(61, "Newton_Spring", FORCES, 10, OutputRange(-70, 70), 10_000, newton_spring, 80),
    Task(
        62,
        "Newton_Magnetic",
        FORCE_PAIRS,
        10,
        OutputRange(-1260, 1260, width=2),
        10_000,
        newton_magnetic,
        80,
    ),
)
"""Rows 59-62 of reference §13."""
