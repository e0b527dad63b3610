"""``rasp mips suite``: torchrun shares, resuming from finished results, the summary table,
and bad task names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rasp_ir.api import RaspError
from rasp_ir.cli.main import main
from rasp_ir.frontends.mips.suite import (
    collect,
    distributed_rank,
    process_share,
    summary_row,
    write_summary,
)


def _result(task: str, solved: bool) -> dict[str, Any]:
    machine = {"kind": "finite", "states": 2, "method": "behaviour", "seed": 0}
    architecture = {"description": "D=4, hidden MLP 2x32, output MLP 2x32"}
    return {
        "task": task,
        "solved": solved,
        "failed_stage": None if solved else "search",
        "reason": None if solved else "no architecture learned the task",
        **(
            {
                "machine": machine,
                "architecture": architecture,
                "construction": "counts",
                "transformer": {"n_layers": 1, "n_heads": 1, "d_model": 17, "d_mlp": 21},
            }
            if solved
            else {}
        ),
        "seconds": {"search": 3.0, "total": 4.5},
    }


def _write(out_dir: Path, result: dict[str, Any]) -> None:
    (out_dir / result["task"]).mkdir(parents=True)
    (out_dir / result["task"] / "result.json").write_text(json.dumps(result))


def test_each_process_takes_every_world_th_task(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = ["a", "b", "c", "d", "e"]
    assert process_share(tasks, 0, 2) == ["a", "c", "e"]
    assert process_share(tasks, 1, 2) == ["b", "d"]
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed_rank() == (0, 1)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert distributed_rank() == (3, 4)
    monkeypatch.setenv("WORLD_SIZE", "four")
    with pytest.raises(RaspError, match="must be integers"):
        distributed_rank()


def test_finished_tasks_are_skipped_and_summarised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, _result("Parity_All", True))
    _write(tmp_path, _result("Bit_Palindrome", False))
    command = ["mips", "suite", "-o", str(tmp_path), "--tasks", "Parity_All,Bit_Palindrome"]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "Parity_All: done before, skipped" in printed
    assert "1 of 2 tasks solved" in printed
    table = (tmp_path / "summary.md").read_text()
    assert (
        "| Parity_All | yes | 2 states | counts | 1 layers x 1 heads, d_model 17, MLP 21 "
        "| D=4, hidden MLP 2x32, output MLP 2x32 | 4 |  |" in table
    )
    assert "| Bit_Palindrome | no | - | - | - | - | 4 | search |" in table
    assert [r["task"] for r in json.loads((tmp_path / "summary.json").read_text())] == [
        "Parity_All",
        "Bit_Palindrome",
    ]


def test_summary_rows_name_affine_machines(tmp_path: Path) -> None:
    result = _result("Sum_All", True) | {"machine": {"kind": "affine", "state_dim": 1}}
    assert summary_row(result)["machine"] == "affine, dim 1"
    _write(tmp_path, result)
    assert collect(["Sum_All", "Prev1"], tmp_path) == [result]
    assert write_summary([result], tmp_path).name == "summary.md"


def test_an_unknown_task_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mips", "suite", "-o", str(tmp_path), "--tasks", "Parity_All,Parity_al"]) == 1
    assert "unknown MIPS task 'Parity_al'" in capsys.readouterr().err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_the_readme_torchrun_suite_shares_the_tasks(tmp_path: Path) -> None:
    """Two processes under torchrun (gloo) each solve one task; rank 0 writes the summary."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    command += ["-m", "rasp_ir.cli.main", "mips", "suite", "-o", str(tmp_path / "suite2")]
    command += ["--tasks", "Bitwise_Not,Bitwise_And", "--steps", "600", "--dataset-size", "2000"]
    done = subprocess.run([*command, "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 tasks solved" in done.stdout and "Traceback" not in done.stderr
    results = json.loads((tmp_path / "suite2" / "summary.json").read_text())
    assert [r["task"] for r in results] == ["Bitwise_Not", "Bitwise_And"]
