"""What every benchmark records: the load, the machine, and both results files written whole."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.recording import load_1min, load_averages, machine, uptime, write_results


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
