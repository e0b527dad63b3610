"""How many threads torch uses for a compiled model's forward pass: the size of the work in,
a context that sets the thread count for it out.

A compiled model's tensors are narrow (tens to hundreds of residual dimensions), so splitting
one matrix product over threads costs more in synchronisation than it saves: measured with
``benchmarks/everyday_paths.py`` on a 2-core machine, one thread ran ``CompiledTransformer.run``
faster at every batch size tried (1,000 inputs: 1.7-2.5x; 32,768 inputs: 1.4x less CPU time).
Below :data:`SMALL_WORK` residual floats (the largest chunk ``rasp verify`` and the backend's
runner send) a run uses one thread; above it torch keeps the thread count it was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

SMALL_WORK = 1 << 27


@contextmanager
def small_work_threads(residual_floats: int) -> Iterator[None]:
    """Run the block on one thread when ``residual_floats`` (batch x positions x d_model) is
    below :data:`SMALL_WORK`, restoring the thread count afterwards."""
    previous = torch.get_num_threads()
    if residual_floats >= SMALL_WORK or previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
