"""What every benchmark records: the load, the machine, and both results files written whole."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks.recording import (
    load_1min,
    load_averages,
    machine,
    publish,
    uptime,
    write_results,
)


def test_the_load_is_quoted_as_uptime_and_as_the_one_minute_average() -> None:
    assert "load average" in uptime()
    assert float(load_1min()) >= 0
    assert len([float(x) for x in load_averages().split()]) == 3


def test_the_machine_names_its_cpus_and_python() -> None:
    assert " CPUs, Python 3." in machine()


def test_both_results_files_are_written_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    write_results(folder, "demo", {"rows": [1, 2]}, "# Demo\n\n| a |\n\n")
    assert json.loads((folder / "demo.json").read_text()) == {"rows": [1, 2]}
    assert (folder / "demo.md").read_text() == "# Demo\n\n| a |\n"
    assert sorted(p.name for p in folder.iterdir()) == ["demo.json", "demo.md"]


def test_publish_prints_and_writes_the_table_with_command_machine_and_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(repeats=3, results=tmp_path)
    load = ("12:00 load average: 1.0", "12:01 load average: 1.5")
    table = "| a |\n|---|\n| 1 |"
    publish(args, "demo", "Demo", table, "Medians.", "python demo.py", load, {"rows": [1]})
    markdown = (tmp_path / "demo.md").read_text()
    assert markdown.startswith("# Demo\n\n| a |\n|---|\n| 1 |\n\nMedians. `python demo.py` on ")
    assert "before: `12:00 load average: 1.0`; after: `12:01 load average: 1.5`." in markdown
    payload = json.loads((tmp_path / "demo.json").read_text())
    assert payload["command"] == "python demo.py"
    assert payload["machine"] == machine()
    assert payload["load_after"] == load[1]
    assert payload["settings"] == {"repeats": 3, "results": str(tmp_path)}
    assert payload["rows"] == [1]
    assert table in capsys.readouterr().out
