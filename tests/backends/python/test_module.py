"""The emitted module as a person meets it: a standalone file, a script like ``rasp run``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir.backends.python import BACKEND
from rasp_ir.check import load_program
from rasp_ir.cli.main import main

EXAMPLES = Path(__file__).parents[3] / "examples"
HALVES = """\
%vocab {1, 2, 3}
%max_len 4
%bos "BOS"
one = tokens == 1;
half : num = indices / 2;
output one, half;
"""


def compile_to(tmp_path: Path, program_path: Path) -> Path:
    out = tmp_path / f"{program_path.stem}.py"
    out.write_text(BACKEND.lower(load_program(program_path).program), encoding="utf-8")
    return out


def script(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -I -S path args`` (no site-packages, so no rasp_ir) from its folder."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-I", "-S", str(path), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=path.parent,
        env=env,
        check=False,
    )


def rasp_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["run", *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.rasp")), ids=lambda p: p.stem)
def test_the_module_imports_only_the_standard_library(path: Path) -> None:
    tree = ast.parse(BACKEND.lower(load_program(path).program))
    imported = {
        alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
    }
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"argparse", "json", "sys", "fractions"}


TOURS = json.loads((EXAMPLES / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["reverse.rasp", "sort.rasp", "frac_prevs.rasp", "dyck2.rasp"])
def test_the_script_prints_what_rasp_run_prints(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, chars = EXAMPLES / name, TOURS[name]["tour"]
    done = script(compile_to(tmp_path, path), "--chars", chars)
    code, out = rasp_run(capsys, str(path), "--chars", chars)
    assert (done.returncode, done.stdout, done.stderr) == (code, out, "") == (0, out, "")
    assert out.count("\n") == len(load_program(path).program.outputs)


def test_typed_tokens_bos_and_fractions_like_rasp_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "halves.rasp"
    program.write_text(HALVES, encoding="utf-8")
    done = script(compile_to(tmp_path, program), "1", "3", "1")
    assert done.stdout == "[false, true, false, true]\n[0, 0.5, 1, 1.5]\n"
    assert rasp_run(capsys, str(program), "1", "3", "1") == (0, done.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chars", "hellO"], "token 'O' at position 4 is not in the vocabulary"),
        (["--chars", "abcdefghi"], "the input has 9 tokens, more than max_len 8"),
    ],
)
def test_bad_input_is_an_error_message_and_exit_1(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = script(compile_to(tmp_path, EXAMPLES / "reverse.rasp"), *args)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: {message}\n"


def test_no_input_is_a_usage_error(tmp_path: Path) -> None:
    done = script(compile_to(tmp_path, EXAMPLES / "reverse.rasp"))
    assert done.returncode == 2
    assert "exactly one" in done.stderr


def test_a_person_can_read_it(tmp_path: Path) -> None:
    source = compile_to(tmp_path, EXAMPLES / "reverse.rasp").read_text(encoding="utf-8")
    assert source.startswith('"""reverse.rasp: reverse, computed in Python.\n')
    assert "# reverse.rasp:10: opp = length - indices - 1;" in source
    assert "def opp(length, indices):\n" in source
    assert (
        "    return [length - indices - 1 for length, indices in zip(length, indices)]\n" in source
    )
    assert "def flip(indices, opp):\n" in source
    assert "    return [[key == query for key in indices] for query in opp]\n" in source
    assert "def reverse(flip, tokens):\n" in source


def test_dead_bindings_are_not_emitted(program: Callable[[str], Path]) -> None:
    path = program('%vocab {"a"}\n%max_len 2\nunused = tokens == "a";\nn = length;\noutput n;\n')
    source = BACKEND.lower(load_program(path).program)
    assert "def n(" in source
    assert "unused" not in source


def test_run_and_run_batch(tmp_path: Path) -> None:
    from rasp_ir.backends.python import load_module

    module = load_module(BACKEND.lower(load_program(EXAMPLES / "sort.rasp").program), "sort_mod")
    assert module.run("dbca") == {"sort": ["a", "b", "c", "d"]}
    assert module.run_batch(["ba", ""]) == [{"sort": ["a", "b"]}, {"sort": []}]
    with pytest.raises(ValueError, match="token 1 at position 0 is not in the vocabulary"):
        module.run([1])


@pytest.fixture
def program(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "prog.rasp"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_argmax_readouts_compile_and_match_the_interpreter() -> None:
    from rasp_ir.check import load_program
    from rasp_ir.registry import load_backend
    from rasp_ir.verify import verify

    source = (
        "%vocab {0, 1, 2}\n%max_len 4\n"
        "prev = aggregate(select(indices, indices, fn(k, q) -> k == q - 1), tokens, default=0);\n"
        "vote = lookup(argmax(prev + 0.5, tokens * 0.75, 1 - prev), "
        '{0: "a", 1: "b", 2: "c"}, default="?");\n'
        "output vote;\n"
    )
    program = load_program(text=source).program
    report = verify(program, load_backend("python"), exhaustive_max_len=4)
    assert report.checked == 121
    assert report.mismatch_count == 0
