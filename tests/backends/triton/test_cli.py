"""``rasp verify --backend triton`` and ``--against``: what a user sees (the README's two
commands, with the results it promises).

The backend is handed to the command in-process (``load_backend`` patched) until its entry
point is installed; the command itself is unchanged by that.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir.api import Backend, load_backend
from rasp_ir.backends.triton import BACKEND
from rasp_ir.cli import verify_cmd
from rasp_ir.cli.main import main
from tests.rasp_ir.cli.conftest import REVERSE, Result

ROOT = Path(__file__).parents[3]
Rasp = Callable[..., Result]


@pytest.fixture
def rasp(capsys: pytest.CaptureFixture[str]) -> Rasp:
    """Run ``rasp ARGS`` in-process; its exit code and captured output."""

    def run(*args: str | Path) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def reverse(tmp_path: Path) -> Path:
    path = tmp_path / "reverse.rasp"
    path.write_text(REVERSE, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def triton_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(name: str) -> Backend:
        return BACKEND if name == "triton" else load_backend(name)

    monkeypatch.setattr(verify_cmd, "load_backend", load)


def test_verify_sort_exhaustively_with_the_triton_backend(rasp: Rasp) -> None:
    sort = ROOT / "examples" / "sort.rasp"
    options = ("--exhaustive", "--max-len", "6", "--vocab", "a,b,c,d,e")
    result = rasp("verify", sort, "--backend", "triton", *options)
    assert result.code == 0
    assert result.out == (
        f'{sort}: checking every input of length 0 to 6 over 5 tokens ("a", "b", "c", "d", "e"): '
        "19531 inputs\n"
        f"{sort}: 19531 inputs checked, 0 mismatches with the triton backend\n"
    )


def test_verify_against_a_second_backend(rasp: Rasp) -> None:
    sort = ROOT / "examples" / "sort.rasp"
    result = rasp("verify", sort, "--backend", "python", "--against", "triton", "--samples", "500")
    assert result.code == 0
    assert result.out == (
        f"{sort}: 500 inputs checked, 0 mismatches with the python backend against the triton "
        "backend\n"
    )


def test_two_space_runners_check_spaces_beyond_the_interpreters_limit(
    rasp: Rasp, reverse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasp_ir import verify as verify_module

    monkeypatch.setattr(verify_module, "MAX_INPUTS", 1000)
    path = reverse
    args = ("verify", path, "--backend", "triton", "--exhaustive", "--max-len", "3")
    refused = rasp(*args)
    assert refused.code == 1
    assert "18279 inputs up to length 3 over 26 tokens, more than 1000" in refused.err
    checked = rasp(*args, "--against", "triton")
    assert checked.code == 0
    assert checked.out.endswith(
        ": 18279 inputs checked, 0 mismatches with the triton backend against the triton backend\n"
    )


def test_an_unknown_backend_to_compare_against(rasp: Rasp, reverse: Path) -> None:
    result = rasp("verify", reverse, "--against", "nope")
    assert result.code == 1
    assert "no backend named 'nope'" in result.err
