"""``tasks`` and ``data``, the MIPS task subcommands, run through a parser built here."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.task_cmds import register_task_commands
from rasp_ir.frontends.mips.tasks import TASKS, get_task, make_split


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    parser = argparse.ArgumentParser(prog="rasp mips")
    commands = parser.add_subparsers()
    register_task_commands(commands)
    args = parser.parse_args(list(argv))
    assert args.handler(args) == 0
    return capsys.readouterr().out


def test_tasks_lists_every_task_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys, "tasks").splitlines()
    assert [line.split()[0] for line in lines] == list(TASKS)
    assert lines[0].split() == [
        "Binary_Addition", "pairs", "of", "bits", "T=10", "y", "0..1", "steps", "10000",
        "split", "90/10",
    ]  # fmt: skip
    sum_last5 = lines[20].split()
    assert sum_last5[:4] == ["Sum_Last5", "0..99", "T=20", "y"]
    assert sum_last5[4:] == ["0..495", "steps", "10000", "split", "90/10"]
    assert lines[-1].split() == [
        "Newton_Magnetic", "pairs", "of", "-10..10", "T=10", "y", "pairs", "in", "-1260..1260",
        "steps", "10000", "split", "80/20",
    ]  # fmt: skip


def test_data_prints_json_lines_of_the_seeded_stream(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys, "data", "Div_3", "--n", "20", "--seed", "4").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 20 and set(rows[0]) == {"x", "y"}
    data = make_split(get_task("Div_3"), 20, seed=4)
    assert [row["x"] for row in rows] == [*data.x_train.tolist(), *data.x_test.tolist()]
    assert [row["y"] for row in rows] == [*data.y_train.tolist(), *data.y_test.tolist()]
    assert _run(capsys, "data", "Div_3", "--n", "20", "--seed", "4").splitlines() == lines


def test_data_writes_pairs_as_two_element_lists(capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(capsys, "data", "Newton_Magnetic", "--n", "3")
    rows = [json.loads(line) for line in printed.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert len(row["x"]) == len(row["y"]) == 10
        assert all(len(step) == 2 for step in row["x"] + row["y"])
        x = np.array([row["x"]], dtype=np.int64)
        assert get_task("Newton_Magnetic").label(x).tolist() == [row["y"]]


def test_data_defaults_to_ten_sequences_from_seed_42(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys, "data", "Prev1").splitlines()
    assert lines == _run(capsys, "data", "Prev1", "--n", "10", "--seed", "42").splitlines()
    assert len(lines) == 10


def test_data_of_an_unknown_task_suggests_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RaspError, match="did you mean 'Sum_All'"):
        _run(capsys, "data", "Sum_all")


@pytest.mark.parametrize("value", ["-1", "ten"])
def test_data_refuses_a_bad_count(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit):
        _run(capsys, "data", "Prev1", "--n", value)
    assert "--n" in capsys.readouterr().err
