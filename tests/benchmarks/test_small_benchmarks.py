"""The interpreter and python-backend benchmarks run end to end on tiny settings and write both
reports, with the load quoted beside the figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"{name}_benchmark", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_interpreter_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--inputs", "20", "--length", "4", "--repeats", "1", "--naive-inputs", "5"]
    argv += ["--check-inputs", "5", "--results", str(tmp_path)]
    assert _script("interpreter").main(argv) == 0
    report = json.loads((tmp_path / "interpreter.json").read_text())
    assert [row["program"] for row in report["results"]] == ["sort", "hist", "reverse", "dyck2"]
    assert "load average" in report["environment"]["load_before"]
    assert "- load before: `" in (tmp_path / "interpreter.md").read_text()


def test_the_python_backend_benchmark_writes_both_reports(tmp_path: Path) -> None:
    argv = ["--inputs", "20", "--single", "5", "--repeats", "1", "--results", str(tmp_path)]
    assert _script("python_backend").main(argv) == 0
    report = json.loads((tmp_path / "python_backend.json").read_text())
    assert len(report["rows"]) == 5
    assert "load average" in report["load_before"]
    assert "Load (`uptime`) before" in (tmp_path / "python_backend.md").read_text()
