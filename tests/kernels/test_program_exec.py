"""The program-execution kernels against their torch reference (tiny grids under the Triton
interpreter): selector reductions over every leaf kind, causal and ragged batches, key loops
longer than a tile; nearest matches with and without BOS; whole programs through the triton
backend with the kernels forced."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from rasp_ir.api import load_program, verify
from rasp_ir.backends.triton import TritonBackend
from rasp_ir.kernels.program_exec import (
    CLOSEST,
    SELECT,
    Leaves,
    select_closest,
    selector_reduce,
)
from tests.backends.triton.test_backend import BOS, REDUCTIONS

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _random_leaves(
    generator: torch.Generator, batch: int, width: int, kinds: tuple[int, ...], codes: int
) -> Leaves:
    count = len(kinds)
    keys = torch.randint(0, codes, (count, batch, width), generator=generator, dtype=torch.int32)
    queries = torch.randint(0, codes, (count, batch, width), generator=generator)
    chosen = torch.randint(-1, width, (count, batch, width), generator=generator)
    tables = torch.randint(0, 2, (count * codes * codes,), generator=generator)
    return Leaves(
        keys=keys.to(DEVICE),
        queries=queries.to(DEVICE, torch.int32),
        chosen=chosen.to(DEVICE, torch.int32),
        tables=tables.to(DEVICE, torch.int8),
        offsets=torch.arange(count, device=DEVICE) * codes * codes,
        widths=torch.full((count,), codes, device=DEVICE),
        kinds=kinds,
    )


@pytest.mark.parametrize(
    ("width", "kinds", "causal"),
    [
        (5, (SELECT,), False),
        (6, (SELECT, CLOSEST, SELECT), True),
        (37, (CLOSEST, SELECT), False),  # two key tiles, ragged
    ],
)
def test_selector_reduce_equals_the_reference(
    width: int, kinds: tuple[int, ...], causal: bool
) -> None:
    generator = torch.Generator().manual_seed(width)
    batch, codes = 3, 4
    leaves = _random_leaves(generator, batch, width, kinds, codes)
    truth = torch.randint(0, 2, (1 << len(kinds),), generator=generator).to(DEVICE, torch.int8)
    lengths = torch.tensor([width, 0, width - 2], device=DEVICE)
    values = torch.randint(0, 9, (batch, width), generator=generator).to(DEVICE, torch.int32)
    weights = torch.randint(-50, 50, (batch, width), generator=generator).to(DEVICE)
    args = (leaves, truth, lengths, causal, values, weights)
    kernel, reference = selector_reduce(*args, impl="triton"), selector_reduce(*args, impl="torch")
    assert kernel.count.sum() > 0
    for field in ("count", "total", "high", "low"):
        assert torch.equal(getattr(kernel, field), getattr(reference, field)), field


def test_one_tensor_per_leaf_equals_the_stack() -> None:
    generator = torch.Generator().manual_seed(6)
    batch, width, codes = 3, 6, 4
    stacked = _random_leaves(generator, batch, width, (SELECT, CLOSEST, SELECT), codes)
    # Position-major storage, as the triton backend's executor passes them to the reference.
    per_leaf = replace(
        stacked,
        keys=tuple(k.t().contiguous().t() for k in stacked.keys),
        queries=tuple(stacked.queries),
        chosen=tuple(stacked.chosen),
    )
    truth = torch.tensor([0, 1, 1, 0, 1, 1, 0, 1], dtype=torch.int8, device=DEVICE)
    lengths = torch.tensor([width, 2, width - 1], device=DEVICE)
    values = torch.randint(0, 9, (batch, width), generator=generator).to(DEVICE, torch.int32)
    expected = selector_reduce(stacked, truth, lengths, True, values, None, impl="torch")
    for impl in ("torch", "triton"):
        found = selector_reduce(per_leaf, truth, lengths, True, values, None, impl=impl)
        for field in ("count", "high", "low"):
            assert torch.equal(getattr(found, field), getattr(expected, field)), (impl, field)


@pytest.mark.parametrize(("causal", "bos"), [(False, False), (True, True), (False, True)])
def test_select_closest_equals_the_reference(causal: bool, bos: bool) -> None:
    generator = torch.Generator().manual_seed(3)
    batch, width, codes = 3, 37, 3
    keys = torch.randint(0, codes, (batch, width), generator=generator).to(DEVICE, torch.int32)
    queries = torch.randint(0, codes, (batch, width), generator=generator).to(DEVICE, torch.int32)
    table = torch.tensor([[1, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=torch.int8, device=DEVICE)
    lengths = torch.tensor([width, 1, 20], device=DEVICE)
    args = (keys, queries, table, lengths, causal, bos)
    kernel, reference = select_closest(*args, impl="triton"), select_closest(*args, impl="torch")
    assert torch.equal(kernel, reference)
    assert (reference == -1).any() and (reference >= 0).any()


@pytest.mark.parametrize("text", [REDUCTIONS, BOS], ids=["reductions", "bos"])
def test_programs_through_the_kernels_equal_the_interpreter(text: str) -> None:
    program = load_program("p.rasp", text=text).program
    backend = TritonBackend(DEVICE, impl="triton")
    report = verify(program, backend, exhaustive_max_len=2, samples=6, seed=1)
    assert (report.mismatch_count, report.mismatches) == (0, [])
