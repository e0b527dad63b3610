"""Large programs: seconds to parse and check programs of 10k to 80k bindings, table entries,
terms on one line and vocabulary tokens, and how the time grows with the size.

    .venv/bin/python benchmarks/large_programs.py [--sizes 10000 20000 40000 80000] [--repeats 1]

Five shapes, each generated at every size N: ``chain`` (N bindings, each reading the previous
one), ``wide`` (N independent bindings, each a small map), ``table`` (one lookup table of N
entries), ``line`` (one line: a membership test in a set of N numbers and a max of N terms) and
``vocab`` (a vocabulary of N tokens). Each is timed in-process in two stages, medians over
``--repeats`` runs of CPU time: ``parse`` (text -> IR: Lark, the AST, name resolution) and ``check``
(value-set inference, warnings, layer allocation). The baseline is each shape's smallest size,
measured in the same run: ``growth`` is the time's ratio to it divided by the size's ratio
(1.0 = linear, 2.0 at 2x the size = quadratic). With ``--commands``, the CLI commands
``check``, ``fmt``, ``run``, ``graph`` and ``compile --backend python`` are timed as
well, once each (wall time). The ``uptime`` load averages before and after are reported beside
the figures: the machine may be shared. Prints a Markdown table and writes
benchmarks/results/large_programs.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.check import check_program  # noqa: E402
from rasp_ir.cli.main import main as rasp_main  # noqa: E402
from rasp_ir.syntax import parse_program  # noqa: E402
from rasp_ir.syntax.tree import grammar_parser  # noqa: E402

HEADER = '%vocab {"a", "b", "c"}\n%max_len 8\n'


def chain(n: int) -> str:
    """N bindings, each reading the one before (alternately ``or`` with a test and ``not``)."""
    lines = ['x0 = tokens == "a";']
    for i in range(1, n):
        lines.append(f'x{i} = x{i - 1} or tokens == "b";' if i % 2 else f"x{i} = not x{i - 1};")
    return HEADER + "\n".join(lines) + f"\noutput x{n - 1};\n"


def wide(n: int) -> str:
    """N independent bindings, each a one-argument map."""
    lines = [f'y{i} = map(fn(t) -> t == "a" or {i % 7} > 3, tokens);' for i in range(n)]
    return HEADER + "\n".join(lines) + f"\noutput y0, y{n - 1};\n"


def table(n: int) -> str:
    """One lookup table of N entries, keyed by a selector width."""
    entries = ", ".join(f"{i}: {(i * 7) % 13}" for i in range(n))
    return (
        "%vocab {0, 1, 2}\n%max_len 8\nw = selector_width(select(tokens, tokens, ==));\n"
        f"x = lookup(w, {{{entries}}}, default=0);\noutput x;\n"
    )


def line(n: int) -> str:
    """One line holding a set of N numbers and a max of N terms."""
    members = ", ".join(str(i) for i in range(n))
    terms = ", ".join(str(i % 97) for i in range(n))
    return (
        f"%vocab {{0, 1, 2}}\n%max_len 8\nx = map(fn(t) -> t in {{{members}}}, tokens); "
        f"y = map(fn(t) -> max(t, {terms}), tokens);\noutput x, y;\n"
    )


def vocab(n: int) -> str:
    """A vocabulary of N string tokens, a comparison and an aggregate over them."""
    tokens = ", ".join(f'"t{i}"' for i in range(n))
    return (
        f'%vocab {{{tokens}}}\n%max_len 8\nx = tokens == "t1";\n'
        "y = aggregate(select(indices, indices, ==), tokens);\noutput x, y;\n"
    )


SHAPES: dict[str, Callable[[int], str]] = {
    "chain": chain,
    "wide": wide,
    "table": table,
    "line": line,
    "vocab": vocab,
}
COMMAND_INPUTS = {"table": ["0", "1"], "line": ["0", "1"], "vocab": ["t1", "t2"]}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--repeats", type=int, default=1, help="timed runs; the median counts")
    parser.add_argument("--commands", action="store_true", help="also time the CLI commands")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.sizes) < 1:
        parser.error("--repeats and --sizes must be at least 1")
    args.sizes = sorted(set(args.sizes))
    return args


def _median(run: Callable[[], object], repeats: int) -> float:
    """The median CPU seconds of ``run`` (this process's; less inflated than wall time when
    other processes share the machine)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


def _command_seconds(shape: str, path: Path, folder: Path) -> dict[str, float]:
    """Seconds of each CLI command on ``path``, run in-process once (output discarded)."""
    tokens = COMMAND_INPUTS.get(shape, ["a", "b", "c"])
    commands = {
        "check": ["check", str(path)],
        "fmt": ["fmt", str(path)],
        "run": ["run", str(path), *tokens],
        "graph": ["graph", str(path), "-o", str(folder / "g.dot")],
        "compile": ["compile", str(path), "--backend", "python", "-o", str(folder / "p.py")],
    }
    seconds = {}
    for name, argv in commands.items():
        sink = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = rasp_main(argv)
        seconds[name] = time.perf_counter() - start
        if code != 0:
            raise RuntimeError(f"rasp {shlex.join(argv)} failed: {sink.getvalue()[-500:]}")
    return seconds


def _measure(shape: str, n: int, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    text = SHAPES[shape](n)
    program = parse_program(text, f"{shape}_{n}.rasp")
    row: dict[str, object] = {
        "shape": shape,
        "size": n,
        "bytes": len(text.encode("utf-8")),
        "bindings": len(program.bindings),
        "parse_s": _median(lambda: parse_program(text, f"{shape}_{n}.rasp"), args.repeats),
        "check_s": _median(lambda: check_program(program), args.repeats),
    }
    if args.commands:
        path = folder / f"{shape}_{n}.rasp"
        path.write_text(text, encoding="utf-8")
        row["commands_s"] = _command_seconds(shape, path, folder)
    return row


def _add_growth(rows: list[dict[str, object]]) -> None:
    """Each row's time ratio to its shape's smallest size, over the size ratio."""
    base: dict[str, dict[str, object]] = {}
    for row in rows:
        first = base.setdefault(str(row["shape"]), row)
        size_ratio = float(row["size"]) / float(first["size"])  # type: ignore[arg-type]
        for stage in ("parse", "check"):
            ratio = float(row[f"{stage}_s"]) / float(first[f"{stage}_s"])  # type: ignore[arg-type]
            row[f"{stage}_growth"] = ratio / size_ratio


def _table(rows: list[dict[str, object]], commands: bool) -> str:
    head = "| shape | size | MB | bindings | parse s | growth | check s | growth |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if commands:
        head += " check | fmt | run | graph | compile |"
        rule += "---:|---:|---:|---:|---:|"
    lines = [head, rule]
    for row in rows:
        text = (
            f"| {row['shape']} | {row['size']:,} | {float(row['bytes']) / 1e6:.2f} "  # type: ignore[arg-type]
            f"| {row['bindings']:,} | {row['parse_s']:.2f} | {row['parse_growth']:.2f} "
            f"| {row['check_s']:.2f} | {row['check_growth']:.2f} |"
        )
        if commands:
            seconds = row["commands_s"]
            assert isinstance(seconds, dict)
            text += "".join(f" {seconds[name]:.1f} |" for name in seconds)
        lines.append(text)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    grammar_parser()
    load_before = uptime()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for shape in args.shapes:
            for n in args.sizes:
                rows.append(_measure(shape, n, args, Path(folder)))
                print(f"{shape} {n}: parse {rows[-1]['parse_s']:.2f} s", file=sys.stderr)
    _add_growth(rows)
    load_after = uptime()
    table = _table(rows, args.commands)
    print(table)

    shown_argv = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([".venv/bin/python", "benchmarks/large_programs.py", *shown_argv])
    environment = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
    }
    report = {"environment": environment, "repeats": args.repeats, "results": rows}
    markdown = [
        "# Large programs: parse and check time against size",
        "",
        f"Command: `{command}`",
        "",
        f"- date: {environment['date']}",
        f"- machine: {environment['machine']}",
        f"- load before: `{load_before}`",
        f"- load after: `{load_after}`",
        f"- CPU seconds, median of {args.repeats} run(s); commands: wall seconds; growth = "
        "(time / time at the shape's smallest size) / (size / smallest size): 1.0 is linear",
        "",
        table,
    ]
    write_results(args.results, "large_programs", report, "\n".join(markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
