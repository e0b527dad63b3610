"""once_per_distinct_row: a row-wise function computed on one row of each group of identical
rows gives every row exactly its own output; different rows (signed zeros included) are never
merged; a hash collision falls back to computing every row."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from rasp_ir.frontends.transformer_programs import distinct_rows as module
from rasp_ir.frontends.transformer_programs.distinct_rows import (
    distinct_rows,
    once_per_distinct_row,
)


class Recording:
    """A row-wise function (each row's sum and its first entry's reciprocal) that remembers
    how many rows it was given."""

    def __init__(self) -> None:
        self.rows_seen: list[int] = []

    def __call__(self, rows: Tensor) -> Tensor:
        self.rows_seen.append(len(rows))
        flat = rows.flatten(1)
        return torch.stack([flat.sum(-1), 1 / flat[:, 0]], dim=-1)


def _one_hot_pairs(batch: int, positions: int, k: int, seed: int) -> Tensor:
    """batch x positions x 2 x k one-hot rows: at most k * k distinct (2, k) rows."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, k, (batch, positions, 2), generator=generator)
    return torch.nn.functional.one_hot(codes, k).to(torch.float64)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_every_row_gets_its_own_output_from_one_call_on_the_distinct_rows(
    dtype: torch.dtype,
) -> None:
    inputs = _one_hot_pairs(64, 8, 3, seed=1).to(dtype)
    function = Recording()
    got = once_per_distinct_row(inputs, 2, function)
    want = Recording()(inputs.reshape(-1, 2, 3)).reshape(64, 8, 2)
    assert got.shape == (64, 8, 2) and got.dtype == dtype
    assert torch.equal(got, want)
    assert function.rows_seen == [9]  # the 3 x 3 pairs, not 512 rows


def test_rows_that_differ_only_in_the_sign_of_a_zero_are_kept_apart() -> None:
    inputs = torch.tensor([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    function = Recording()
    got = once_per_distinct_row(inputs, 1, function)
    assert got[:, 1].tolist() == [float("inf"), float("-inf"), float("inf")]
    assert function.rows_seen == [2]


def test_grouping_is_bit_for_bit_and_keeps_nan_rows() -> None:
    rows = torch.tensor([[float("nan"), 2.0], [1.0, 2.0], [float("nan"), 2.0]])
    found = distinct_rows(rows)
    assert found is not None
    first, inverse = found
    assert len(first) == 2
    assert torch.equal(rows[first][inverse].view(torch.int32), rows.view(torch.int32))


def test_a_hash_collision_computes_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_row_keys", lambda bits: torch.zeros(len(bits), dtype=torch.int64))
    inputs = _one_hot_pairs(4, 5, 3, seed=2)
    assert distinct_rows(inputs.reshape(20, 6)) is None
    function = Recording()
    got = once_per_distinct_row(inputs, 2, function)
    assert torch.equal(got, Recording()(inputs.reshape(-1, 2, 3)).reshape(4, 5, 2))
    assert function.rows_seen == [20]


def test_an_empty_batch_is_passed_through() -> None:
    function = Recording()
    got = once_per_distinct_row(torch.zeros(0, 8, 2, 3, dtype=torch.float64), 2, function)
    assert got.shape == (0, 8, 2) and function.rows_seen == [0]
