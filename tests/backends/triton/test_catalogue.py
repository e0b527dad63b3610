"""The triton backend on the whole catalogue, equal to the interpreter: exhaustively on codes
(its space runner, the path of ``rasp verify --exhaustive``) and on random inputs (its batch
runner), both through the same lowering (torch reference ops on a CPU).

Once the backend's entry point is installed, ``tests/test_catalogue.py`` checks exactly this
for it, and these tests step aside.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.api import BACKEND_GROUP, input_count, installed, load_program, verify
from rasp_ir.backends.triton import BACKEND
from tests.test_catalogue import PROGRAMS, SAMPLES, _small_form

pytestmark = pytest.mark.skipif(
    "triton" in installed(BACKEND_GROUP), reason="tests/test_catalogue.py checks the backend"
)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_triton_equals_the_interpreter(path: Path) -> None:
    program = load_program(path).program
    small, length = _small_form(path, program)
    report = verify(small, BACKEND, exhaustive_max_len=length)
    assert report.mismatches == []
    assert report.checked == input_count(len(small.header.vocab), length)
    sampled = verify(program, BACKEND, samples=SAMPLES, seed=7)
    assert sampled.mismatches == []
    assert sampled.checked == SAMPLES
