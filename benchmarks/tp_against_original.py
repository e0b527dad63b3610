"""One sort model trained by this project and by the original Transformer Programs code
(princeton-nlp/TransformerPrograms, a checkout the user has), measured in the same run: seconds
per epoch and the process's peak memory, at the same torch thread count.

    .venv/bin/python benchmarks/tp_against_original.py --original DIR [--python PY]
        [--epochs 1 4] [--repeats 3] [--threads 1]

Both train sort at Table 1's configuration (3 layers, 4+4 heads, 2+2 MLPs, k = N = 8, batch
512, Adam 5e-2, temperature 3 -> 0.01, 20,000 examples before de-duplication) in fresh
processes: ``rasp tp train sort`` and the original's ``src/run.py`` with the flags of its
``scripts/rasp.sh`` (run from ``DIR`` with ``PYTHONPATH=DIR``, by ``--python``: the interpreter
of its own environment, by default ``DIR/venv/bin/python`` or ``DIR/.venv/bin/python``). Each
trains for both ``--epochs`` counts, ``--repeats`` times, the two codes alternating so that they
see the same load. Seconds per epoch is the difference of the median wall times over the
difference of the epochs, so that what each process does once (imports, making the data, the
final evaluation, the save) cancels out; each epoch includes what that code does every epoch
(ours: the argmax model on the validation split; the original: every split). Peak memory is
the largest resident set of the process (``wait4``'s ``ru_maxrss``) at the shorter run, the
median over the repetitions. Target (issue 16): at least 3x the original's epoch speed, peak
memory below the original's. ``uptime``'s load is recorded beside the figures.

Prints a Markdown table and writes benchmarks/results/tp_against_original.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, checkout_label, publish, uptime  # noqa: E402

# The original's flags for sort at Table 1's configuration: its scripts/rasp.sh with sort's
# layers, heads and MLPs (the epochs, seed and output folder are added per run).
ORIGINAL_SORT_FLAGS = shlex.split(
    "--dataset sort --vocab_size 8 --min_length 1 --max_length 8 --batch_size 512 --lr 5e-2 "
    "--gumbel_samples 1 --sample_fn gumbel_soft --tau_init 3.0 --tau_end 0.01 "
    "--tau_schedule geomspace --n_vars_cat 1 --d_var 8 --n_vars_num 1 --n_layers 3 "
    "--n_heads_cat 4 --n_heads_num 4 --n_cat_mlps 2 --n_num_mlps 2 --attention_type cat "
    "--rel_pos_bias fixed --one_hot_embed --dropout 0.0 --mlp_vars_in 2 --d_mlp 64 --count_only "
    "--selector_width 0 --unique 1 --device cpu --save"
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--original", required=True, help="a checkout of the original code")
    parser.add_argument(
        "--python",
        default=None,
        help="the original's interpreter (default: DIR/venv/bin/python or DIR/.venv/bin/python)",
    )
    parser.add_argument(
        "--original-version",
        default=None,
        help="what the checkout holds, for the report (default: its git commit)",
    )
    parser.add_argument("--epochs", type=int, nargs=2, default=[1, 4], metavar=("SHORT", "LONG"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of both")
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    short, long = args.epochs
    if not 1 <= short < long:
        parser.error("--epochs SHORT LONG needs 1 <= SHORT < LONG")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def original_python(original: Path, given: Path | None) -> Path:
    """The interpreter that runs the original code: ``given``, or the checkout's own virtual
    environment; a ``FileNotFoundError`` naming what was looked for when there is none."""
    if given is not None:
        candidates = [given]
    else:
        candidates = [original / folder / "bin" / "python" for folder in ("venv", ".venv")]
    for python in candidates:
        if python.is_file():
            return python
    looked = ", ".join(str(python) for python in candidates)
    raise FileNotFoundError(f"no interpreter for the original code ({looked}): pass --python")


def timed_process(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv`` in a fresh process: its wall seconds and peak resident set in MiB (a failure
    raises, with the end of its standard error)."""
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{shlex.join(argv)} exited with {process.returncode}:\n{tail}")
    return wall, usage.ru_maxrss / 1024


def commands(
    args: argparse.Namespace, python: Path, epochs: int, folder: Path
) -> dict[str, tuple[list[str], Path, dict[str, str]]]:
    """Per code (``ours``, ``original``): the argv, working folder and environment of one run of
    ``epochs`` epochs writing under ``folder``."""
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    ours = [sys.executable, "-m", "rasp_ir.cli.main", "tp", "train", "sort", "--quiet"]
    ours += ["-o", str(folder / "ours"), "--epochs", str(epochs), "--threads", threads]
    ours += ["--dataset-size", str(args.dataset_size), "--seed", str(args.seed)]
    original = [str(python), "src/run.py", *ORIGINAL_SORT_FLAGS, "--n_epochs", str(epochs)]
    original += ["--dataset_size", str(args.dataset_size), "--seed", str(args.seed)]
    original += ["--output_dir", str(folder / "original")]
    checkout = Path(args.original).resolve()
    return {
        "ours": (ours, ROOT, {**env, "PYTHONPATH": str(ROOT)}),
        "original": (original, checkout, {**env, "PYTHONPATH": str(checkout)}),
    }


def measure(args: argparse.Namespace, python: Path) -> dict[str, Any]:
    """Every run, alternating the two codes at each epoch count, each writing into a new
    temporary folder; per code the median wall seconds at each count, seconds per epoch and
    the median peak memory of the shorter runs."""
    short, long = args.epochs
    walls: dict[str, dict[int, list[float]]] = {"ours": {}, "original": {}}
    peaks: dict[str, list[float]] = {"ours": [], "original": []}
    for _ in range(args.repeats):
        for epochs in (short, long):
            with tempfile.TemporaryDirectory() as folder:
                runs = commands(args, python, epochs, Path(folder))
                for name, (argv, cwd, env) in runs.items():
                    wall, peak = timed_process(argv, cwd, env)
                    walls[name].setdefault(epochs, []).append(wall)
                    if epochs == short:
                        peaks[name].append(peak)
    row: dict[str, Any] = {}
    for name in walls:
        median = {epochs: statistics.median(times) for epochs, times in walls[name].items()}
        row[name] = {
            "wall_seconds": {str(epochs): times for epochs, times in walls[name].items()},
            "median_wall_seconds": {str(epochs): value for epochs, value in median.items()},
            "seconds_per_epoch": (median[long] - median[short]) / (long - short),
            "peak_memory_mib": statistics.median(peaks[name]),
        }
    row["speedup"] = speedup(row["original"]["seconds_per_epoch"], row["ours"]["seconds_per_epoch"])
    row["memory_ratio"] = row["ours"]["peak_memory_mib"] / row["original"]["peak_memory_mib"]
    return row


def speedup(original: float, ours: float) -> float | None:
    """The original's seconds per epoch over ours; None when either is not positive: the
    extra epochs took no measurable time beside the runs' noise, so no ratio means anything."""
    return original / ours if original > 0 and ours > 0 else None


def _verdict(row: dict[str, Any]) -> str:
    """The sentence on epoch speed: the ratio, or why there is none."""
    if row["speedup"] is None:
        return (
            "The extra epochs took no measurable time in one of the codes (s/epoch not "
            "positive), so there is **no speed ratio**: give the runs more examples "
            "(`--dataset-size`) or more epochs (`--epochs`)"
        )
    return f"Ours is **{row['speedup']:.2f}x** the original's epoch speed (target: 3x)"


def _table(row: dict[str, Any], epochs: Sequence[int]) -> str:
    short, long = epochs
    lines = [
        f"| code | wall s, {short} epoch(s) (median) | wall s, {long} epochs (median) "
        f"| s/epoch | peak memory MiB ({short} epoch(s)) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in (("ours", "`rasp tp train sort`"), ("original", "original `src/run.py`")):
        r = row[name]
        lines.append(
            f"| {label} | {r['median_wall_seconds'][str(short)]:.1f} "
            f"| {r['median_wall_seconds'][str(long)]:.1f} | {r['seconds_per_epoch']:.2f} "
            f"| {r['peak_memory_mib']:.0f} |"
        )
    return "\n".join(lines)


def original_label(original: Path, version: str | None) -> str:
    """The checkout as the note names it: its folder and ``version``, or its commit."""
    return f"{original} ({version})" if version is not None else checkout_label(original)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_against_original.py", *(argv or sys.argv[1:])])
    given = Path(args.python) if args.python is not None else None
    python = original_python(Path(args.original), given)
    before = uptime()
    row = measure(args, python)
    after = uptime()
    note = (
        f"Sort at Table 1's configuration, {args.dataset_size:,} examples, seed {args.seed}, "
        f"{args.threads} torch thread(s) in both; {args.repeats} fresh processes per code and "
        "epoch count, alternated. s/epoch: the difference of the median wall times over the "
        f"difference of the epochs. {_verdict(row)}; peak memory {row['memory_ratio']:.0%} of "
        "the original's. The original: "
        f"{original_label(Path(args.original), args.original_version)}, run by {python}."
    )
    publish(
        args,
        "tp_against_original",
        "Transformer Programs: one sort model, ours against the original code",
        _table(row, args.epochs),
        note,
        command,
        (before, after),
        {"row": row},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
