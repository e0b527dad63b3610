"""The benchmark against the original code end to end, with a stand-in for the original's
``src/run.py`` (the original is not in this repository): both codes run in fresh processes with
the same thread count, the stand-in gets the original's sort flags, and seconds per epoch come
from the difference of the two epoch counts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .scripts import benchmark_script

# A stand-in for the original's src/run.py: it records its flags and thread setting, takes
# 0.3 s per epoch after a fixed 0.2 s, and holds a 64 MiB buffer while it runs.
STAND_IN = """\
import json, os, sys, time
flags = sys.argv[1:]
epochs = int(flags[flags.index("--n_epochs") + 1])
out = flags[flags.index("--output_dir") + 1]
buffer = bytearray(64 * 2**20)
time.sleep(0.2 + 0.3 * epochs)
os.makedirs(out, exist_ok=True)
record = {"flags": flags, "threads": os.environ["OMP_NUM_THREADS"], "cwd": os.getcwd()}
with open(os.path.join(os.environ["RECORD_DIR"], f"run-{epochs}.json"), "w") as f:
    json.dump(record, f)
"""


def stand_in_original(folder: Path) -> Path:
    """A checkout-shaped folder whose ``src/run.py`` is the stand-in."""
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "run.py").write_text(STAND_IN)
    return folder


def test_both_codes_are_timed_and_compared_per_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = stand_in_original(tmp_path / "original")
    monkeypatch.setenv("RECORD_DIR", str(tmp_path))
    argv = ["--original", str(original), "--python", sys.executable, "--epochs", "1", "3"]
    argv += ["--repeats", "1", "--dataset-size", "200", "--results", str(tmp_path)]
    argv += ["--original-version", "a stand-in"]
    assert benchmark_script("tp_against_original").main(argv) == 0
    row = json.loads((tmp_path / "tp_against_original.json").read_text())["row"]
    assert row["original"]["seconds_per_epoch"] == pytest.approx(0.3, abs=0.15)
    assert row["original"]["peak_memory_mib"] > 64
    assert all(wall > 0 for wall in row["ours"]["median_wall_seconds"].values())
    assert row["ours"]["peak_memory_mib"] > 0
    ours = row["ours"]["seconds_per_epoch"]  # may be noise at 200 examples: no ratio then
    if ours > 0:
        assert row["speedup"] == pytest.approx(row["original"]["seconds_per_epoch"] / ours)
    else:
        assert row["speedup"] is None
    record = json.loads((tmp_path / "run-3.json").read_text())
    flags = record["flags"]
    for flag, value in [("--dataset", "sort"), ("--n_layers", "3"), ("--n_heads_cat", "4")]:
        assert flags[flags.index(flag) + 1] == value
    assert flags[flags.index("--dataset_size") + 1] == "200"
    assert record["threads"] == "1" and Path(record["cwd"]) == original.resolve()
    report = (tmp_path / "tp_against_original.md").read_text()
    assert "| original `src/run.py` |" in report and "Load (`uptime`) before" in report
    assert f"{original} (a stand-in)" in report


def test_a_failing_original_run_is_reported_with_its_errors(tmp_path: Path) -> None:
    original = tmp_path / "original"
    (original / "src").mkdir(parents=True)
    (original / "src" / "run.py").write_text("import sys\nsys.exit('no data set here')\n")
    script = benchmark_script("tp_against_original")
    args = script._arguments(["--original", str(original), "--python", sys.executable])
    argv, cwd, env = script.commands(args, Path(sys.executable), 1, tmp_path)["original"]
    with pytest.raises(RuntimeError, match="no data set here"):
        script.timed_process(argv, cwd, env)


def test_the_original_interpreter_is_looked_for_in_its_checkout(tmp_path: Path) -> None:
    script = benchmark_script("tp_against_original")
    with pytest.raises(FileNotFoundError, match="pass --python"):
        script.original_python(tmp_path, None)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    assert script.original_python(tmp_path, None) == python


def test_no_ratio_is_given_where_an_extra_epoch_took_no_measurable_time() -> None:
    script = benchmark_script("tp_against_original")
    assert script.speedup(6.0, 2.0) == 3.0
    assert script.speedup(6.0, -0.29) is None and script.speedup(0.0, 2.0) is None


def test_the_epoch_counts_must_differ() -> None:
    with pytest.raises(SystemExit):
        benchmark_script("tp_against_original")._arguments(
            ["--original", ".", "--epochs", "2", "2"]
        )
