"""Named points in the writers and the training loop where a test can kill the process, to
prove that an interruption there leaves nothing half-written and that training resumes
exactly: the environment variable ``RASP_IR_KILL_AT=NAME#K`` sends SIGKILL to the process the
K-th time it passes the point ``NAME`` (``#1`` when ``#K`` is left out). Unset, a point costs
one dictionary lookup."""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT = "RASP_IR_KILL_AT"
_passed: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Pass the point ``name``; die here if ``RASP_IR_KILL_AT`` names this passage."""
    target = os.environ.get(KILL_AT)
    if not target:
        return
    _passed[name] += 1
    wanted, _, count = target.partition("#")
    if wanted == name and _passed[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
