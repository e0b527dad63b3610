"""The 62 MIPS tasks of reference §13 by their paper names: a name in, its :class:`Task` out
(alphabet, length, output range, split, training steps, reference function, seeded data).

Semantics follow the anchor's generators as §13 states them, not its docstrings (Parity_All
and Parity_Last4 are parities, not ORs; Max_Seen is a maximum, not a sum; the Div tasks
divide a number given most significant bit first). Inputs before position 0 count as 0.
"""

from __future__ import annotations

import difflib

from rasp_ir.api import RaspError

from .task_bits import BIT_TASKS
from .task_newton import NEWTON_TASKS
from .task_numbers import NUMBER_TASKS
from .task_spec import (
    ANCHOR_SEED,
    DATASET_SIZE,
    Alphabet,
    IntArray,
    OutputRange,
    SplitData,
    Task,
    make_split,
)

__all__ = [
    "ANCHOR_SEED",
    "DATASET_SIZE",
    "TASKS",
    "Alphabet",
    "IntArray",
    "OutputRange",
    "SplitData",
    "Task",
    "get_task",
    "make_split",
]

TASKS: dict[str, Task] = {
    task.name: task
    for task in sorted((*BIT_TASKS, *NUMBER_TASKS, *NEWTON_TASKS), key=lambda t: t.number)
}
"""Every task by paper name, in the order of §13's table."""


def get_task(name: str) -> Task:
    """The task called ``name`` (exact paper spelling); an unknown name is a ``RaspError``
    that suggests the closest names."""
    task = TASKS.get(name)
    if task is not None:
        return task
    lowered = {known.lower(): known for known in TASKS}
    close = difflib.get_close_matches(name.lower(), lowered, n=3, cutoff=0.6)
    hint = (
        "did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"
        if close
        else "`rasp mips tasks` lists the 62 task names"
    )
    raise RaspError.single("mips-task", f"unknown MIPS task {name!r}", hint=hint)
