"""``rasp compile``, ``rasp verify`` and ``rasp backends``: what a user sees and the exit codes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rasp_ir.cli.conftest import REVERSE, Result

UNSUPPORTED = """\
%vocab {"a", "b"}
%max_len 3
%causal
near = select_closest(tokens, tokens, ==);
other = not select(tokens, tokens, ==);
got = aggregate(near, tokens);
w = selector_width(other);
output got, w;
"""
Rasp = Callable[..., Result]
Program = Callable[..., Path]


def test_compile_writes_a_module_that_runs(rasp: Rasp, program: Program, tmp_path: Path) -> None:
    result = rasp("compile", program(REVERSE), "--backend", "python", "-o", tmp_path / "rev")
    assert (result.code, result.out) == (0, "")
    assert result.err == f"wrote {tmp_path / 'rev.py'}\n"
    done = subprocess.run(
        [sys.executable, tmp_path / "rev.py", "--chars", "hello"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == '["o", "l", "l", "e", "h"]\n'


def test_compile_keeps_a_given_suffix_and_prints_without_o(
    rasp: Rasp, program: Program, tmp_path: Path
) -> None:
    assert rasp("compile", program(REVERSE), "-o", tmp_path / "r.txt").code == 0
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith('"""prog.rasp: reverse')
    printed = rasp("compile", program(REVERSE))
    assert printed.out == (tmp_path / "r.txt").read_text(encoding="utf-8")


def test_compile_reports_every_unsupported_construct(rasp: Rasp, program: Program) -> None:
    result = rasp("compile", program(UNSUPPORTED), "--backend", "echo", "-o", "x")
    assert (result.code, result.out) == (1, "")
    assert result.err.count("error:") == 3
    assert "error: the program uses causal, which the echo backend does not support" in result.err
    assert "prog.rasp:4:8: error: near uses select closest" in result.err
    assert "prog.rasp:5:9: error: other uses selector not" in result.err


def test_compile_with_an_unknown_backend(rasp: Rasp, program: Program) -> None:
    result = rasp("compile", program(REVERSE), "--backend", "nope")
    assert result.code == 1
    assert "no backend named 'nope'" in result.err


def test_verify_exhaustive(rasp: Rasp, program: Program) -> None:
    result = rasp(
        "verify", program(REVERSE), "--backend", "python", "--exhaustive", "--max-len", "3",
        "--vocab", "a,b,c",
    )  # fmt: skip
    assert (result.code, result.err) == (0, "")
    first, last = result.out.splitlines()
    assert first.endswith(
        ': checking every input of length 0 to 3 over 3 tokens ("a", "b", "c"): 40 inputs'
    )
    assert last.endswith(": 40 inputs checked, 0 mismatches with the python backend")


def test_verify_reads_a_word_given_as_vocab_as_its_characters(rasp: Rasp, program: Program) -> None:
    result = rasp(
        "verify", program(REVERSE), "--exhaustive", "--max-len", "2", "--vocab", "abcde"
    )  # fmt: skip
    assert result.code == 0
    assert result.err == (
        'note: --vocab abcde read as 5 one-character tokens ("a", "b", "c", "d", "e"); '
        "for the single token, write --vocab '[\"abcde\"]'\n"
    )
    assert ": 31 inputs checked, 0 mismatches" in result.out


@pytest.mark.parametrize(
    ("vocab", "count"), [('["abcde"]', 3), ("abcde,f", 7), ("12", 3), ("a", 3), ("a b", 3)]
)
def test_verify_keeps_lists_numbers_and_json_as_they_are(
    rasp: Rasp, program: Program, vocab: str, count: int
) -> None:
    result = rasp("verify", program(REVERSE), "--exhaustive", "--max-len", "2", "--vocab", vocab)
    assert (result.code, result.err) == (0, "")
    assert f": {count} inputs checked" in result.out


def test_verify_refuses_a_word_with_a_repeated_character(rasp: Rasp, program: Program) -> None:
    result = rasp("verify", program(REVERSE), "--exhaustive", "--vocab", "abca")
    assert (result.code, result.out) == (1, "")
    assert "--vocab lists a token more than once" in result.err


def test_verify_samples_and_a_plugin_backend(rasp: Rasp, program: Program) -> None:
    result = rasp("verify", program(REVERSE), "--backend", "echo", "--samples", "25")
    assert result.code == 0
    assert result.out.endswith(": 25 inputs checked, 0 mismatches with the echo backend\n")


def test_verify_refuses_too_many_inputs(rasp: Rasp, program: Program) -> None:
    result = rasp("verify", program(REVERSE), "--exhaustive")
    assert (result.code, result.out) == (1, "")
    assert "more than 2000000" in result.err


def test_verify_lists_mismatches_and_exits_1(
    rasp: Rasp, program: Program, monkeypatch: object
) -> None:
    import pytest

    from rasp_ir.backends.python import BACKEND
    from rasp_ir.cli import verify_cmd
    from rasp_ir.registry import Outputs
    from tests.rasp_ir.test_verify import Wrapped

    def corrupt(inputs: list[list[object]], outputs: Outputs) -> None:
        outputs["reverse"] = [
            ["x"] * len(row) if row == ["a", "b"] else row for row in outputs["reverse"]
        ]

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(verify_cmd, "load_backend", lambda name: Wrapped(corrupt))
    result = rasp("verify", program(REVERSE), "--exhaustive", "--max-len", "2", "--vocab", "a,b")
    assert result.code == 1
    assert result.out.splitlines()[2:] == [
        '  input ["b", "a"]: output reverse: expected ["a", "b"], got ["x", "x"]'
    ]
    assert ": 7 inputs checked, 1 mismatches with the corrupted backend" in result.out
    assert BACKEND.name == "python"


def test_backends_lists_names_descriptions_and_providers(rasp: Rasp) -> None:
    result = rasp("backends")
    assert result.code == 0
    lines = result.out.splitlines()
    assert any(
        line.startswith("echo ") and line.endswith("[rasp-ir-test-plugin]") for line in lines
    )
    python = next(line for line in lines if line.startswith("python "))
    assert "readable, standalone Python source" in python
    assert python.endswith("[rasp-ir]")


def test_compile_torch_writes_weights_and_reports_sizes(
    rasp: Rasp, program: Program, tmp_path: Path
) -> None:
    result = rasp(
        "compile", program(REVERSE), "--backend", "torch", "-o", tmp_path / "rev", "--report"
    )
    assert result.code == 0
    assert result.out.splitlines()[0].startswith("layers: 2   heads per layer: 1 / 1")
    assert (tmp_path / "rev.safetensors").exists()
    assert (tmp_path / "rev.json").exists()


def test_report_from_a_backend_without_one(rasp: Rasp, program: Program) -> None:
    result = rasp("compile", program(REVERSE), "--backend", "python", "--report")
    assert result.code == 1
    assert "the python backend has no size report" in result.err
