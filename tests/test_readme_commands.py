"""The README's shell blocks, command by command: every ``rasp`` command (and ``torchrun -m
rasp_ir.cli.main``) is accepted by the CLI's parser, every ``python benchmarks/NAME.py`` by its
script's ``_arguments``, every ``./dev`` job and every file the README names exists, and the
cheap blocks run as written with the results their comments promise. The blocks that train run
in the tests of their spoke (tests/frontends/*/test_cli.py and beside them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rasp_ir.cli.main import build_parser, main
from tests.benchmarks.scripts import benchmark_script
from tests.readme import README, ROOT, readme_block, readme_commands


def rasp_argv(words: list[str]) -> list[str] | None:
    """The argv ``rasp`` gets from a README command (``rasp ...`` or ``torchrun
    --nproc-per-node N -m rasp_ir.cli.main ...``), or None when it runs something else."""
    if words[0] == "rasp":
        return words[1:]
    if words[0] == "torchrun" and words[3:5] == ["-m", "rasp_ir.cli.main"]:
        return words[5:]
    return None


COMMANDS = readme_commands()
RASP_COMMANDS = [argv for argv in map(rasp_argv, COMMANDS) if argv is not None]
BENCHMARK_COMMANDS = [
    words[1:] for words in COMMANDS if words[0] == "python" and words[1].startswith("benchmarks/")
]


def test_the_readme_shows_the_commands_this_file_checks() -> None:
    assert len(RASP_COMMANDS) >= 75
    assert ["run", "examples/reverse.rasp", "--chars", "hello"] in RASP_COMMANDS
    assert any(argv[:4] == ["mips", "suite", "-o", "suite2"] for argv in RASP_COMMANDS)
    assert len(BENCHMARK_COMMANDS) == 24


@pytest.mark.parametrize("argv", RASP_COMMANDS, ids=" ".join)
def test_every_rasp_command_in_the_readme_parses(argv: list[str]) -> None:
    if argv == ["--help"]:
        with pytest.raises(SystemExit) as help_exit:
            build_parser().parse_args(argv)
        assert help_exit.value.code == 0
        return
    args = build_parser(argv[0]).parse_args(argv)
    assert callable(args.handler)


@pytest.mark.parametrize("argv", BENCHMARK_COMMANDS, ids=" ".join)
def test_every_benchmark_command_in_the_readme_parses(argv: list[str]) -> None:
    script, *arguments = argv
    assert (ROOT / script).is_file()
    benchmark_script(Path(script).stem)._arguments(arguments)


def test_the_torchrun_benchmark_commands_in_the_text_parse() -> None:
    """The sentences' ``torchrun ... benchmarks/NAME.py ...`` (too long to run here)."""
    text = README.read_text(encoding="utf-8")
    shown = re.findall(r"`torchrun --nproc-per-node \d+ (benchmarks/\w+\.py)([^`]*)`", text)
    assert [script for script, _ in shown] == ["benchmarks/tp_reproduce.py"] * 2
    for script, arguments in shown:
        benchmark_script(Path(script).stem)._arguments(arguments.split())


def test_every_file_the_readme_names_is_in_the_repository() -> None:
    """Examples the commands read, tests cited as evidence, benchmark scripts, modules."""
    text = README.read_text(encoding="utf-8")
    named = {
        path.rstrip(".,")
        for path in re.findall(r"\b(?:examples|tests|benchmarks|rasp_ir)/[\w./*-]+", text)
    }
    assert len(named) > 40
    assert sorted(path for path in named if not any(ROOT.glob(path.rstrip("/")))) == []


def test_every_dev_job_in_the_readme_is_one_dev_runs() -> None:
    dev = (ROOT / "dev").read_text(encoding="utf-8")
    jobs = {words[1] for words in COMMANDS if words[0] == "./dev"}
    jobs |= set(re.findall(r"`\./dev (\w+)", README.read_text(encoding="utf-8")))
    assert jobs == {"main", "test", "bench"}
    assert all(f"\n  {job})\n" in dev for job in jobs)
    benchmarks = re.findall(r"`\./dev bench ([\w ]+)`", README.read_text(encoding="utf-8"))
    assert benchmarks == ["mips_lift mips_training_speed"]
    assert all((ROOT / "benchmarks" / f"{name}.py").is_file() for name in benchmarks[0].split())


@pytest.fixture
def in_readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder with the repository's examples in it, as the current directory."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rasp_output(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """``rasp ARGV`` in-process: what it printed (stdout, then stderr); it must exit 0."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, (argv, captured.err)
    return captured.out + captured.err


def test_the_first_steps_give_what_the_readme_says(
    in_readme_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = []
    for words, promise in readme_block("rasp run examples/reverse.rasp"):
        if words[1] == "repl":
            continue  # interactive: tests/rasp_ir/cli/test_repl.py
        out = rasp_output(words[1:], capsys)
        ran.append(words[1])
        if words[1] == "run":
            assert out == promise + "\n"
        if words[1] == "check":
            assert out.startswith("value sets:\n") and "layers: 2   heads per layer: 1 / 1" in out
        if words[1] == "fmt":
            assert out == "0 files would be reformatted, 1 unchanged\n"
        if words[1] == "expand":
            assert "def " not in out and "a_two_back = aggregate(" in out
    assert ran == ["run", "check", "fmt", "expand", "graph"]
    dot = (in_readme_folder / "reverse.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph program {") and '"flip"' in dot


def test_compile_and_verify_give_what_the_readme_says(
    in_readme_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for words, promise in readme_block("rasp compile examples/reverse.rasp --backend python"):
        if words[0] == "python":
            ran = subprocess.run(
                [sys.executable, *words[1:]], capture_output=True, text=True, check=True
            )
            assert ran.stdout == promise + "\n"
            continue
        outputs.append(rasp_output(words[1:], capsys))
    compiled, exhaustive, sampled, backends = outputs
    assert compiled == "wrote reverse.py\n"
    assert "364 inputs checked, 0 mismatches with the python backend" in exhaustive
    assert "2000 inputs checked, 0 mismatches with the python backend" in sampled
    listed = [line.split()[0] for line in backends.splitlines()]
    assert {"python", "torch", "tp", "triton"} <= set(listed)


def test_compiling_hist_to_weights_reports_them(
    in_readme_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The TP block's last line (its others train: tests/frontends/transformer_programs)."""
    block = readme_block("rasp tp train hist -o runs/hist")
    (compile_hist,) = [words for words, _ in block if words[1] == "compile"]
    out = rasp_output(compile_hist[1:], capsys)
    assert out.startswith("layers: 1   heads per layer: 1   d_model: ")
    assert "1      head 1  count(same_token): hist\n" in out
    assert (in_readme_folder / "hist.safetensors").exists()
    assert (in_readme_folder / "hist.json").exists()
