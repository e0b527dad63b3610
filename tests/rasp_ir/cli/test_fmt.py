"""``rasp fmt`` (print, --check, --diff, --write over files and folders) and ``rasp expand``."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir.printer import format_program
from rasp_ir.syntax import formatter, parse_program
from rasp_ir.syntax.tree import ParseTree
from tests.rasp_ir.cli.conftest import Result

Rasp = Callable[..., Result]
Write = Callable[..., Path]
ROOT = Path(__file__).parents[3]

MESSY = '%vocab chars "ab"\n%max_len 4\n\nfirst   =   tokens==  "a" ;# why\noutput first;\n'
TIDY = '%vocab chars "ab"\n%max_len 4\n\nfirst = tokens == "a";  # why\noutput first;\n'
BROKEN = '%vocab chars "ab"\n%max_len 4\nfirst = tokens ==;\noutput first;\n'


def test_prints_the_formatted_text(rasp: Rasp, program: Write) -> None:
    path = program(MESSY)
    assert rasp("fmt", path) == Result(0, TIDY, "")
    assert path.read_text() == MESSY


def test_check_lists_the_files_that_would_change(rasp: Rasp, program: Write) -> None:
    messy, tidy = program(MESSY, "messy.rasp"), program(TIDY, "tidy.rasp")
    result = rasp("fmt", "--check", messy, tidy)
    assert (result.code, result.out) == (1, f"{messy}\n")
    assert result.err == "1 file would be reformatted, 1 unchanged (rasp fmt --write fixes them)\n"
    assert rasp("fmt", "--check", tidy) == Result(
        0, "", "0 files would be reformatted, 1 unchanged\n"
    )
    assert messy.read_text() == MESSY


def test_diff_shows_the_changes(rasp: Rasp, program: Write) -> None:
    path = program(MESSY)
    result = rasp("fmt", "--diff", path)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"--- {path}",
        f"+++ {path} (formatted)",
        "@@ -1,5 +1,5 @@",
        ' %vocab chars "ab"',
        " %max_len 4",
        " ",
        '-first   =   tokens==  "a" ;# why',
        '+first = tokens == "a";  # why',
        " output first;",
    ]
    assert path.read_text() == MESSY
    assert rasp("fmt", "--diff", program(TIDY, "tidy.rasp")).code == 0


def test_write_replaces_the_file_atomically_keeping_its_mode(
    rasp: Rasp, program: Write, tmp_path: Path
) -> None:
    messy, tidy = program(MESSY, "messy.rasp"), program(TIDY, "tidy.rasp")
    os.chmod(messy, 0o640)
    inode, tidy_inode = messy.stat().st_ino, tidy.stat().st_ino
    result = rasp("fmt", "--write", messy, tidy)
    assert result == Result(0, "", "1 file reformatted, 1 unchanged\n")
    assert messy.read_text() == TIDY
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    assert messy.stat().st_ino != inode  # a new file renamed over the old one
    assert tidy.stat().st_ino == tidy_inode  # an unchanged file is not touched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.rasp", "tidy.rasp"]


def test_write_through_a_symbolic_link_rewrites_its_target(
    rasp: Rasp, program: Write, tmp_path: Path
) -> None:
    target = program(MESSY)
    link = tmp_path / "link.rasp"
    link.symlink_to(target)
    assert rasp("fmt", "--write", link).code == 0
    assert link.is_symlink()
    assert target.read_text() == TIDY


def test_a_syntax_error_leaves_the_file_alone_and_the_others_are_formatted(
    rasp: Rasp, program: Write
) -> None:
    broken, messy = program(BROKEN, "broken.rasp"), program(MESSY, "messy.rasp")
    before = broken.read_bytes()
    result = rasp("fmt", "--write", broken, messy)
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{broken}:3:18: error: unexpected ';' [syntax]"
    assert result.err.splitlines()[-1] == (
        "1 file reformatted, 0 unchanged, 1 file not formatted (errors above)"
    )
    assert broken.read_bytes() == before
    assert messy.read_text() == TIDY


def test_a_refused_layout_writes_nothing(
    rasp: Rasp, program: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = formatter._Formatter.file

    def changes_a_token(self: formatter._Formatter, tree: ParseTree) -> str:
        return original(self, tree).replace("tokens", "indices")

    monkeypatch.setattr(formatter._Formatter, "file", changes_a_token)
    path = program(MESSY)
    result = rasp("fmt", "--write", path)
    assert result.code == 1
    assert result.err.startswith(
        f"error: {path}: the formatted text would not mean the same program; nothing was "
        "changed [format]\n"
    )
    assert path.read_text() == MESSY


def test_folders_are_searched_for_rasp_files(rasp: Rasp, tmp_path: Path) -> None:
    (tmp_path / "lib" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    nested = tmp_path / "lib" / "deeper" / "nested.rasp"
    nested.write_text(MESSY)
    (tmp_path / "top.rasp").write_text(TIDY)
    (tmp_path / ".hidden" / "skipped.rasp").write_text(MESSY)
    (tmp_path / "notes.txt").write_text("not a program")
    result = rasp("fmt", "--check", tmp_path)
    assert (result.code, result.out) == (1, f"{nested}\n")
    assert result.err.startswith("1 file would be reformatted, 1 unchanged")


def test_a_library_without_header_formats(rasp: Rasp, program: Write) -> None:
    path = program('import "other.rasp";\ndef twice(x){return x*2;}\n', "lib.rasp")
    expected = 'import "other.rasp";\ndef twice(x) {\n    return x * 2;\n}\n'
    assert rasp("fmt", path) == Result(0, expected, "")


def test_line_width_option(rasp: Rasp, program: Write) -> None:
    path = program(TIDY)
    result = rasp("fmt", "--line-width", "20", path)
    assert result.out.splitlines()[3:5] == ['first = tokens == "a";  # why', "output first;"]
    assert rasp("fmt", "--line-width", "0", path).code == 2


def test_the_readme_commands(rasp: Rasp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    examples = sorted((ROOT / "examples").glob("*.rasp"))
    everywhere = len(list((ROOT / "examples").rglob("*.rasp")))
    assert rasp("fmt", "examples/reverse.rasp", "--check").code == 0
    assert rasp("fmt", "--check", "examples/") == Result(
        0, "", f"0 files would be reformatted, {everywhere} unchanged\n"
    )
    assert rasp("fmt", "--diff", "examples/reverse.rasp") == Result(
        0, "", "0 files would be reformatted, 1 unchanged\n"
    )
    # --write, on a copy of the examples with one of them messed up
    copy = tmp_path / "examples"
    copy.mkdir()
    for path in examples:
        (copy / path.name).write_text(path.read_text())
    (copy / "reverse.rasp").write_text(MESSY)
    monkeypatch.chdir(tmp_path)
    assert rasp("fmt", "--write", "examples/") == Result(
        0, "", f"1 file reformatted, {len(examples) - 1} unchanged\n"
    )
    assert (copy / "reverse.rasp").read_text() == TIDY


def test_expand_prints_what_the_compiler_sees(rasp: Rasp) -> None:
    path = ROOT / "examples/detect_pattern.rasp"
    expected = format_program(parse_program(path.read_text(), str(path)))
    result = rasp("expand", path)
    assert result == Result(0, expected, "")
    assert "def " not in result.out and "#" not in result.out
    assert rasp("expand", path, "--line-width", "30").out.count("\n") > expected.count("\n")


def test_a_missing_file_is_reported(rasp: Rasp, tmp_path: Path) -> None:
    missing = tmp_path / "missing.rasp"
    result = rasp("fmt", "--check", missing)
    assert result.code == 1
    assert result.err.startswith(f"error: cannot read {missing}: ")
    assert "Traceback" not in result.err


def test_standard_input_for_editors(rasp: Rasp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(MESSY))
    assert rasp("fmt", "-") == Result(0, TIDY, "")
    monkeypatch.setattr(sys, "stdin", io.StringIO(MESSY))
    result = rasp("fmt", "--check", "-")
    assert (result.code, result.out) == (1, "<stdin>\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(BROKEN))
    result = rasp("fmt", "-")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("<stdin>:3:18: error: unexpected ';' [syntax]")
    result = rasp("fmt", "--write", "-")
    assert result.code == 1
    assert result.err.startswith("error: --write cannot rewrite standard input [usage]")
