"""``rasp verify --backend torch --exhaustive``: the README's command, with the result it
promises, checked on codes through the backend's space runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.backends.torch.space import TorchSpace
from rasp_ir.cli.main import main
from rasp_ir.verify_space import CodedBatch

ROOT = Path(__file__).parents[3]


def test_verify_sort_exhaustively_with_the_torch_backend(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slices: list[int] = []
    original = TorchSpace.__call__

    def counted(self: TorchSpace, start: int, stop: int) -> CodedBatch:
        slices.append(stop - start)
        return original(self, start, stop)

    monkeypatch.setattr(TorchSpace, "__call__", counted)
    sort = ROOT / "examples" / "sort.rasp"
    options = ["--exhaustive", "--max-len", "6", "--vocab", "a,b,c,d,e"]
    code = main(["verify", str(sort), "--backend", "torch", *options])
    out = capsys.readouterr().out
    assert code == 0
    assert out == (
        f'{sort}: checking every input of length 0 to 6 over 5 tokens ("a", "b", "c", "d", "e"): '
        "19531 inputs\n"
        f"{sort}: 19531 inputs checked, 0 mismatches with the torch backend\n"
    )
    assert sum(slices) == 19531
