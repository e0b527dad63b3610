"""rasp-semantics §16.9: every MLP of every example that thresholds a numeric channel, evaluated
on every state of its inputs (the inferred value sets), gives exactly the tabulated output."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from rasp_ir.backends.torch.compiler import plan
from rasp_ir.backends.torch.functions import Leaf
from rasp_ir.backends.torch.mlp import build_units
from rasp_ir.backends.torch.plan import encoder
from tests.backends.torch.helpers import EXAMPLES, example

COUNTS = (0, 1, 5)


def _leaf_vectors(leaf: Leaf, d_model: int, one: int) -> list[torch.Tensor]:
    """Residual contributions of every state of a leaf (sums read with a few counts)."""
    vectors = []
    for state, value in enumerate(leaf.states):
        x = torch.zeros(d_model, dtype=torch.float32)
        if leaf.kind == "onehot":
            dim = leaf.state_dim(state)
            if dim is not None:
                x[dim] = 1.0
        elif leaf.kind == "scalar":
            x[leaf.dims[0]] = float(value)  # type: ignore[arg-type]
        elif leaf.kind == "ratio":
            x[leaf.dims[0]] = 1.0 / (float(value) + 1.0)  # type: ignore[arg-type]
        else:
            x[leaf.dims[0]] = float(value) / (COUNTS[1] + 1)  # type: ignore[arg-type]
            x[leaf.dims[1]] = 1.0 / (COUNTS[1] + 1)
        vectors.append(x)
    return vectors


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_numeric_mlps_exact_on_every_known_input(path: Path) -> None:
    compiled = plan(example(path, 8))
    d_model = len(compiled.labels)
    for task in compiled.tasks:
        if task.layer == 0 or not any(leaf.numeric for leaf in task.table.leaves):
            continue
        units = build_units(task.table, encoder(task), compiled.one)
        w_in = torch.zeros(d_model, len(units))
        w_out = torch.zeros(len(units), d_model)
        for slot, unit in enumerate(units):
            for dim, w in unit.inp.items():
                w_in[dim, slot] = w
            for dim, w in unit.out.items():
                w_out[slot, dim] = w
        encode = encoder(task)
        per_leaf = [_leaf_vectors(leaf, d_model, compiled.one) for leaf in task.table.leaves]
        for index in itertools.product(*(range(len(v)) for v in per_leaf)):
            x = torch.zeros(d_model)
            x[compiled.one] = 1.0
            for vectors, state in zip(per_leaf, index, strict=True):
                x = x + vectors[state]
            got = torch.relu(x @ w_in) @ w_out
            want = torch.zeros(d_model)
            for dim, w in encode(int(task.table.codes[index])).items():
                want[dim] = w
            assert torch.allclose(got, want, atol=1e-4), (task.name, index)
