"""After a forward plan is built, glibc serves a run's temporaries (here one 4 MiB block) from
its heap rather than from fresh kernel pages."""

from __future__ import annotations

import ctypes

import pytest
import torch

from rasp_ir.backends.torch import compile_program
from tests.backends.torch.helpers import ROOT, example

FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (*FIELDS, "fordblks", "keepcost")]


def _mapped_blocks() -> int:
    """How many blocks glibc's malloc holds as separate mappings."""
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("not glibc")
    libc.mallinfo2.restype = _Mallinfo2
    return int(libc.mallinfo2().hblks)


def test_temporaries_of_a_run_come_from_the_heap() -> None:
    model = compile_program(example(ROOT / "examples" / "hist.rasp", max_len=4, vocab_size=3))
    model.forward_plan()
    before = _mapped_blocks()
    block = torch.empty(4 << 20, dtype=torch.uint8)
    assert _mapped_blocks() == before
    del block
