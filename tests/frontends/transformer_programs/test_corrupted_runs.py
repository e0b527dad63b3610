"""A damaged run folder is refused, never half-read: ``rasp tp lift`` and ``rasp tp train
--resume`` on a run whose checkpoint files were truncated, edited, swapped or deleted exit with
code 1 and a message naming the file, without a traceback, and write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rasp_ir.cli.main import main
from tests.run_damage import DAMAGES, Damage, edit_sidecar, huge_sizes, missing_sidecar, truncate


def _damaged(run_dir: Path, tmp_path: Path, damage: Damage, name: str) -> Path:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    damage(run, name)
    return run


def _refused(code: int, capsys: pytest.CaptureFixture[str], run: Path) -> str:
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert str(run) in err
    return err


def _data_as_weights(run: Path, name: str) -> None:
    shutil.copyfile(run / "data.safetensors", run / f"{name}.safetensors")


TP_DAMAGES = {**DAMAGES, "data file as weights": _data_as_weights}


@pytest.mark.parametrize("damage", TP_DAMAGES.values(), ids=TP_DAMAGES.keys())
def test_lift_refuses_a_damaged_final_model(
    damage: Damage, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _damaged(run_dir, tmp_path, damage, "model")
    program = tmp_path / "hist.rasp"
    code = main(["tp", "lift", str(run), "-o", str(program), "--exhaustive-limit", "50"])
    _refused(code, capsys, run)
    assert not program.exists()


@pytest.mark.parametrize(
    "damage",
    [truncate, edit_sidecar(huge_sizes), missing_sidecar],
    ids=["truncated", "huge sizes", "sidecar missing"],
)
def test_resume_refuses_a_damaged_last_checkpoint(
    damage: Damage, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _damaged(run_dir, tmp_path, damage, "last")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    code = main(["tp", "train", "hist", "-o", str(run), "--resume", "--quiet"])
    _refused(code, capsys, run)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
