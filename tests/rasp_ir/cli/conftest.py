"""Small programs written to a temporary folder, and a runner for ``main`` in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rasp_ir.cli.main import main

REVERSE = """\
%vocab chars "abcdefghijklmnopqrstuvwxyz"
%max_len 8
opp = length - indices - 1;
flip = select(indices, opp, ==);
reverse = aggregate(flip, tokens);
output reverse;
"""

# Integer vocabulary, BOS, two outputs, a non-integer number.
HALVES = """\
%vocab {1, 2, 3}
%max_len 4
%bos "BOS"
one = tokens == 1;
half : num = indices / 2;
output one, half;
"""


@dataclass
class Result:
    """What one ``rasp`` invocation did."""

    code: int
    out: str
    err: str


@pytest.fixture
def rasp(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``rasp ARGS`` in-process; its exit code and captured output."""

    def run(*args: str | Path) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def program(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a program (or any file) into ``tmp_path``; its path."""

    def write(text: str, name: str = "prog.rasp") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
