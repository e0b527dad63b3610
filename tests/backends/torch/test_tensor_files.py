"""Writing tensors: the file appears, or a RaspError names it (never safetensors' own error)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rasp_ir.backends.torch.tensor_files import save_tensors
from rasp_ir.diagnostics import RaspError


def test_tensors_round_trip(tmp_path: Path) -> None:
    save_tensors({"w": torch.arange(6.0).reshape(2, 3)}, tmp_path / "t.safetensors")
    assert torch.equal(
        load_file(str(tmp_path / "t.safetensors"))["w"], torch.arange(6.0).reshape(2, 3)
    )


def test_an_unwritable_place_is_a_file_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "t.safetensors"
    with pytest.raises(RaspError) as error:
        save_tensors({"w": torch.zeros(2)}, target)
    assert [d.code for d in error.value.diagnostics] == ["file"]
    assert f"cannot write {target}" in str(error.value)
