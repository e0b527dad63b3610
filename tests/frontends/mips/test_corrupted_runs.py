"""A damaged MIPS run folder is refused, never half-read: ``rasp mips extract`` on a run whose
checkpoint was truncated, edited, swapped or deleted exits with code 1 and a message naming the
file, without a traceback, and writes no machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rasp_ir.cli.main import main
from tests.run_damage import DAMAGES, Damage


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("mips") / "parity"
    assert main(["mips", "train", "Parity_All", "-o", str(run), "--steps", "20", "--quiet"]) == 0
    return run


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_extract_refuses_a_damaged_model(
    damage: Damage, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    damage(run, "model")
    capsys.readouterr()
    machine = tmp_path / "machine.json"
    code = main(["mips", "extract", str(run), "-o", str(machine)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert str(run) in err
    assert not machine.exists()
