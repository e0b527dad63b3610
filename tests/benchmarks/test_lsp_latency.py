"""The language-server latency benchmark runs end to end on a short program and a few edits,
and writes both reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .scripts import benchmark_script

pytest.importorskip("pygls")


def test_the_generated_program_checks_and_has_the_lines_asked_for() -> None:
    script = benchmark_script("lsp_latency")
    from rasp_ir.check import load_program

    text = script.program(10, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3])
    assert len(text.splitlines()) == 3 + 5 + 10 * 5 + 1
    result = load_program(text=text)
    assert result.errors == [] and len(result.program.outputs) == 10


def test_a_tiny_benchmark_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = benchmark_script("lsp_latency")
    script.main(["--lines", "60", "--edits", "2", "--line-edits", "3", "--results", str(tmp_path)])
    report = json.loads((tmp_path / "lsp_latency.json").read_text())
    measures = ["diagnostics", "hover", "definition", "diagnostics_lines_moved"]
    assert [row["measure"] for row in report["rows"]] == measures
    assert report["lines"] == 59 and report["edits"] == 2 and report["line_edits"] == 3
    assert len(report["ms"].pop("diagnostics_lines_moved")) == 3
    assert all(len(values) == 2 for values in report["ms"].values())
    assert set(report["ms"]) == {
        "diagnostics",
        "hover",
        "definition",
        "hub",
        "hub_parse",
        "hub_resolve",
        "hub_check",
    }
    markdown = (tmp_path / "lsp_latency.md").read_text()
    title = "# Language server latency\n\n"
    assert markdown.startswith(title + "| measure | median |")
    assert markdown.removeprefix(title) in capsys.readouterr().out
