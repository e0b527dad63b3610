"""Seconds to format a long program: ``rasp fmt`` against parsing alone.

    .venv/bin/python benchmarks/fmt_speed.py [--lines 10000 1000 --repeats 3]

Programs: the bodies of every example in examples/ (comments, def, long statements that
break), their bindings renamed per copy, repeated until the file has ``--lines`` lines, under
one header; then messed up (the spaces after commas removed, comments not aligned), so the
formatter has work to do. Rows: parsing alone with the hub's Lark parser (the baseline; the
ratio column is each row over it); the concrete syntax tree the formatter reads, from Lark's
own parse loop and from the formatter's (rasp_ir/syntax/lalr.py: Lark's tables in one loop);
the whole of ``format_source`` (concrete parse, layout, and the proof that the result has the
same tokens and comments: the output re-read with the input's lexer states); ``rasp fmt
--check FILE`` in-process (file read included); and the same command in a fresh ``python -m
rasp_ir.cli.main`` process (start-up, imports and loading the parser included). Medians of
wall-clock seconds over ``--repeats`` runs, after one warm-up, and of the CPU seconds of the
same runs for the first size (the process's and its children's: other programs on the machine
slow the wall clock far more); torch is not imported. ``uptime``'s load is recorded beside
the figures. Prints a Markdown table and writes benchmarks/results/fmt_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.cli.main import main as rasp_main  # noqa: E402
from rasp_ir.syntax.formatter import format_source  # noqa: E402
from rasp_ir.syntax.tree import concrete_parser, parse_concrete_tree, parse_tree  # noqa: E402

HEADER = '%vocab chars "(){}abcdefghijklmnopqrstuvwxyz"\n%max_len 16\n'
TARGET_SECONDS = 1.0
_BOUND = re.compile(r"^(?:def\s+)?([A-Za-z_]\w*)\s*(?:\(|:|=)", re.MULTILINE)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--lines", type=int, nargs="+", default=[10_000, 1_000], help="program sizes, in lines"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median counts")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if min(args.repeats, *args.lines) < 1:
        parser.error("--lines and --repeats must be at least 1")
    return args


def example_bodies() -> list[str]:
    """The statements of every example (header and output dropped), comments included."""
    bodies = []
    for path in sorted((ROOT / "examples").glob("*.rasp")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(("%", "output"))]
        bodies.append("".join(kept).strip("\n") + "\n\n")
    return bodies


def generated_program(lines: int) -> str:
    """A program of at least ``lines`` lines: renamed copies of the example bodies, messy."""
    bodies = example_bodies()
    parts = [HEADER, "\n"]
    count = HEADER.count("\n") + 1
    copy = 0
    while count < lines:
        body = bodies[copy % len(bodies)]
        for name in set(_BOUND.findall(body)):
            body = re.sub(rf"\b{name}\b", f"{name}_{copy}", body)
        parts.append(body)
        count += body.count("\n")
        copy += 1
    parts.append("output reverse_10;\n" if copy > 10 else "output count_0;\n")
    return re.sub(r" {2,}#", " #", "".join(parts)).replace(", ", ",")


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _seconds(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The median wall-clock and CPU seconds of ``work`` over ``repeats`` runs, after one
    untimed run."""
    work()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), _cpu()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _command_in_process(path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rasp_main(["fmt", "--check", str(path)])


def _command_in_new_process(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "rasp_ir.cli.main", "fmt", "--check", str(path)],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def measure(lines: int, repeats: int, folder: Path) -> dict[str, object]:
    """The timings of one program size."""
    text = generated_program(lines)
    path = folder / f"generated_{lines}.rasp"
    path.write_text(text, encoding="utf-8")
    formatted = format_source(text, path=str(path))
    assert formatted != text and format_source(formatted) == formatted
    timings = {
        "parse": _seconds(lambda: parse_tree(text, str(path)), repeats),
        "concrete_parse_lark": _seconds(lambda: concrete_parser().parse(text), repeats),
        "concrete_parse": _seconds(lambda: parse_concrete_tree(text, str(path)), repeats),
        "format_source": _seconds(lambda: format_source(text, path=str(path)), repeats),
        "fmt_command": _seconds(lambda: _command_in_process(path), repeats),
        "fmt_new_process": _seconds(lambda: _command_in_new_process(path), repeats),
    }
    return {
        "lines": text.count("\n"),
        "formatted_lines": formatted.count("\n"),
        "bytes": len(text.encode()),
        "seconds": {key: wall for key, (wall, _) in timings.items()},
        "cpu_seconds": {key: cpu for key, (_, cpu) in timings.items()},
    }


LABELS = {
    "parse": "parse alone (baseline)",
    "concrete_parse_lark": "concrete syntax tree, Lark's parse loop",
    "concrete_parse": "concrete syntax tree, the formatter's loop",
    "format_source": "format_source (parse, layout, proof)",
    "fmt_command": "rasp fmt --check, in-process",
    "fmt_new_process": "rasp fmt --check, new process",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    load_before = uptime()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(lines, args.repeats, Path(folder)) for lines in args.lines]
    load_after = uptime()
    sizes = " | ".join(f"{r['lines']:,} lines" for r in rows)
    lines = [
        f"| step | {sizes} | CPU, {rows[0]['lines']:,} lines | ratio to parse |",
        "|---|" + "---:|" * (len(rows) + 2),
    ]
    for key, label in LABELS.items():
        cells = " | ".join(f"{r['seconds'][key]:.2f} s" for r in rows)  # type: ignore[index]
        first: dict[str, float] = rows[0]["seconds"]  # type: ignore[assignment]
        cpu: dict[str, float] = rows[0]["cpu_seconds"]  # type: ignore[assignment]
        ratio = first[key] / first["parse"]
        lines.append(f"| {label} | {cells} | {cpu[key]:.2f} s | {ratio:.2f}x |")
    command = "python benchmarks/fmt_speed.py " + shlex.join(argv or sys.argv[1:])
    note = (
        f"Median wall-clock seconds of {args.repeats} runs, and the CPU seconds of the same "
        "runs (the process and its children: less sensitive to other programs on the "
        "machine); the ratio is of wall-clock seconds, for the first size. Target: "
        f"rasp fmt on a 10,000-line program under {TARGET_SECONDS:.0f} s."
    )
    title = "rasp fmt: seconds to format a long program"
    load = (load_before, load_after)
    publish(args, "fmt_speed", title, "\n".join(lines), note, command.strip(), load, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
