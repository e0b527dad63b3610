"""The ``rasp`` entry point: help and version, exit codes, the installed script, import cost."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir import __version__
from rasp_ir.cli import main as cli_main
from tests.rasp_ir.cli.conftest import REVERSE, Result

Rasp = Callable[..., Result]
Write = Callable[..., Path]
COMMANDS = [
    "run",
    "check",
    "fmt",
    "expand",
    "graph",
    "tour",
    "repl",
    "lsp",
    "fuzz",
    "export",
    "report",
    "explain",
]
SCRIPT = Path(sys.executable).with_name("rasp")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(rasp: Rasp, command: str) -> None:
    result = rasp(command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: rasp {command}")
    assert "examples:" in result.out or "example session:" in result.out


def test_top_level_help_lists_the_commands(rasp: Rasp) -> None:
    result = rasp("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert f"    {command}" in result.out


def test_version(rasp: Rasp) -> None:
    assert rasp("--version") == Result(0, f"rasp {__version__}\n", "")


def test_usage_errors_exit_2_without_traceback(rasp: Rasp) -> None:
    result = rasp("frobnicate")
    assert result.code == 2
    assert "invalid choice" in result.err
    assert "Traceback" not in result.err


def test_ctrl_c_exits_130_quietly(
    rasp: Rasp, program: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    parser = cli_main.build_parser()
    monkeypatch.setattr(
        cli_main, "build_parser", lambda command=None: _with_handler(parser, interrupted)
    )
    assert rasp("run", program(REVERSE), "a") == Result(130, "", "")


def test_file_system_errors_exit_1_with_a_message(rasp: Rasp, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = rasp("tp", "train", "hist", "-o", blocker / "run", "--epochs", "1", "--quiet")
    assert result.code == 1
    assert f"error: cannot use {blocker / 'run'}: Not a directory [file]" in result.err
    assert "Traceback" not in result.err


def _with_handler(
    parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parse = parser.parse_args

    def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
        args = parse(argv)
        args.handler = handler
        return args

    parser.parse_args = parse_args  # type: ignore[method-assign,assignment]
    return parser


def _last_line_in_a_new_process(code: str) -> str:
    """The last line ``code`` prints when run by a new interpreter (which must succeed)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize("module", sorted(cli_main.COMMAND_MODULES))
def test_each_command_module_adds_the_commands_named_beside_it(module: str) -> None:
    subparsers = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(subparsers)
    assert tuple(subparsers.choices) == cli_main.COMMAND_MODULES[module]


def test_a_command_alone_parses_as_in_the_whole_parser(tmp_path: Path) -> None:
    words = ["fmt", "--check", "--line-width", "80", str(tmp_path)]
    alone = cli_main.build_parser("fmt").parse_args(words)
    whole = cli_main.build_parser().parse_args(words)
    assert vars(alone) == vars(whole)


def test_a_plugin_command_alone_parses_as_in_the_whole_parser(tmp_path: Path) -> None:
    """``rasp tp ...`` builds the tp plugin's parser alone: the same arguments as the whole
    parser's, and in a new process no other command module or plugin is imported."""
    words = ["tp", "lift", str(tmp_path / "run"), "-o", str(tmp_path / "p.rasp"), "--fuzz", "3"]
    alone = cli_main.build_parser("tp").parse_args(words)
    whole = cli_main.build_parser().parse_args(words)
    assert vars(alone) == vars(whole)
    code = (
        "import sys\n"
        "from rasp_ir.cli.main import build_parser\n"
        "build_parser('tp')\n"
        "others = ('rasp_ir.cli.run', 'rasp_ir.cli.repl', 'rasp_ir.frontends.mips.cli')\n"
        "print(sorted(m for m in others if m in sys.modules))\n"
    )
    assert _last_line_in_a_new_process(code) == "[]"


def test_fmt_starts_without_loading_the_compiler(program: Write) -> None:
    """``rasp fmt`` in a new process imports its own module alone: no numpy, no checker, no
    other command (start-up was most of formatting a file)."""
    code = (
        "import sys\n"
        "from rasp_ir.cli.main import main\n"
        f"assert main(['fmt', '--check', {str(program(REVERSE))!r}]) in (0, 1)\n"
        "roots = ('numpy', 'torch', 'triton', 'jinja2', 'networkx')\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in roots]\n"
        "names = ('rasp_ir.check', 'rasp_ir.cli.run', 'rasp_ir.syntax.resolve')\n"
        "heavy += [m for m in names if m in sys.modules]\n"
        "print(sorted(heavy))\n"
    )
    assert _last_line_in_a_new_process(code) == "[]"


def test_run_never_imports_torch_or_triton(program: Write) -> None:
    code = (
        "import sys\n"
        "from rasp_ir.cli.main import main\n"
        f"assert main(['run', {str(program(REVERSE))!r}, 'a']) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'triton'))\n"
        "print(heavy)\n"
    )
    assert _last_line_in_a_new_process(code) == "[]"


@pytest.mark.skipif(not SCRIPT.exists(), reason="the rasp script is not installed here")
def test_installed_script(program: Write) -> None:
    path = program(REVERSE)
    done = subprocess.run(
        [str(SCRIPT), "run", str(path), "--chars", "hello"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, '["o", "l", "l", "e", "h"]\n', "")
    failed = subprocess.run(
        [str(SCRIPT), "run", str(path), "--chars", "HELLO"], capture_output=True, text=True
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith('error: token "H" at position 0')
    assert "Traceback" not in failed.stderr
