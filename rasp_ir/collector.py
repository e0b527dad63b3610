"""A block of code in; the same block run with Python's cycle collector paused out.

Parsing, resolving and formatting a large program allocate many objects and free few, so the
collector's passes over them find nothing and cost a third of the time or more
(benchmarks/large_programs.py, benchmarks/fmt_speed.py). Reference counting still frees
everything that is not in a cycle; the collector runs again after the block.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the ``with`` block with the cycle collector off (left off if it was off)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
