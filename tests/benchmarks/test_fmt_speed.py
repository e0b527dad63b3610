"""The formatter benchmark: its generated program is a valid, messy program of the size asked
for, and the script writes both reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasp_ir.syntax import parse_program
from rasp_ir.syntax.formatter import format_source

from .scripts import benchmark_script


def test_the_generated_program_is_valid_messy_and_long_enough() -> None:
    text = benchmark_script("fmt_speed").generated_program(400)
    assert text.count("\n") >= 400
    program = parse_program(text)
    assert len(program.bindings) > 100
    formatted = format_source(text)
    assert formatted != text
    assert parse_program(formatted) == program


@pytest.mark.slow
def test_the_script_writes_both_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        benchmark_script("fmt_speed").main(
            ["--lines", "50", "--repeats", "1", "--results", str(tmp_path)]
        )
        == 0
    )
    report = json.loads((tmp_path / "fmt_speed.json").read_text())
    (row,) = report["rows"]
    assert (
        set(row["seconds"])
        == set(row["cpu_seconds"])
        == {
            "parse",
            "concrete_parse_lark",
            "concrete_parse",
            "format_source",
            "fmt_command",
            "fmt_new_process",
        }
    )
    assert "load average" in report["load_before"]
    assert "| parse alone (baseline) |" in (tmp_path / "fmt_speed.md").read_text()
    assert "ratio to parse" in capsys.readouterr().out
