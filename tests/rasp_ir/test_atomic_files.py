"""Outputs are written whole or not at all: an interruption mid-write (an exception, Ctrl-C in
a command, SIGKILL of the process) leaves the previous file or none, never a partial one that a
later command would read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rasp_ir.atomic_files import TEMPORARY_MARK, write_atomically, write_text_atomically
from rasp_ir.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = '%vocab {"a", "b"}\n%max_len 4\nx = tokens == "a";\noutput x;\n'


def _half_then_interrupt(temporary: Path) -> None:
    temporary.write_text("half of a fi", encoding="utf-8")
    raise KeyboardInterrupt


def test_a_complete_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_text_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_an_interrupted_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, _half_then_interrupt)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_an_interrupted_first_write_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "out.txt", _half_then_interrupt)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "output"),
    [
        (["compile", "{program}", "--backend", "python", "-o", "{out}/prog.py"], "prog.py"),
        (["graph", "{program}", "-o", "{out}/prog.dot"], "prog.dot"),
    ],
)
def test_a_command_interrupted_while_writing_leaves_no_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], output: str
) -> None:
    program = tmp_path / "prog.rasp"
    program.write_text(PROGRAM, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    original = Path.write_text

    def interrupted(self: Path, data: str, *args: object, **kwargs: object) -> int:
        original(self, data[: len(data) // 2], encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    argv = [part.format(program=program, out=out) for part in command]
    assert main(argv) == 130
    assert list(out.iterdir()) == []


def test_a_torch_model_interrupted_while_its_weights_are_written_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasp_ir.backends.torch import tensor_files

    program = tmp_path / "prog.rasp"
    program.write_text(PROGRAM, encoding="utf-8")

    def half_written(tensors: object, filename: str) -> None:
        Path(filename).write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{")
        raise KeyboardInterrupt

    monkeypatch.setattr(tensor_files, "save_file", half_written)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["compile", str(program), "--backend", "torch", "-o", str(out / "m")]) == 130
    assert list(out.iterdir()) == []


_SLOW_WRITER = """
import sys, time
from pathlib import Path
from rasp_ir.atomic_files import write_atomically

def slow(temporary):
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("first half")
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)
        handle.write(" second half")

write_atomically(Path(sys.argv[1]), slow)
"""


def test_a_process_killed_mid_write_leaves_only_a_hidden_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("previous", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE, env=env
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"writing\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert target.read_text(encoding="utf-8") == "previous"
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert leftovers == [f".model.json{TEMPORARY_MARK}{writer.pid}"]
