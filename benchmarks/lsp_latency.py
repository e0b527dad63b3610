"""Language-server latency on a long program: diagnostics after a change, hover, definition.

    .venv/bin/python benchmarks/lsp_latency.py [--lines 1000 --edits 100]

The program (``--lines`` lines, generated, seeded) is blocks of a select, a numerical map, a
numerical mean and a comparison, and a ``def`` used throughout; it checks without errors. Each
edit changes one constant in one block (a different block each time) and is sent to a real
``rasp lsp`` subprocess as ``textDocument/didChange``; "diagnostics" is the time until the
server publishes that document's diagnostics. After each, one hover and one go-to-definition
on a name of the edited block are timed (request to response). Then ``--line-edits`` edits
add a comment line in a random block or take it away again, which moves every statement below
it: "diagnostics, lines moved" times those. The baseline, measured in the
same run on the same texts, is the hub alone in this process: parsing, resolution and
``check_program`` (what ``rasp check`` does), each also timed on its own, so the ratio is what
the server costs beyond checking. Medians over the edits, with the 90th percentile. Writes
benchmarks/results/lsp_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.check import check_program  # noqa: E402
from rasp_ir.lsp.client import LspClient  # noqa: E402
from rasp_ir.syntax import parse_module, parse_program  # noqa: E402

TARGETS_MS = {
    "diagnostics": 100.0,
    "hover": 50.0,
    "definition": 50.0,
    "diagnostics_lines_moved": 100.0,
}
HEADER = ['%vocab chars "abcd"', "%max_len 6", ""]
MACRO = ["def above(x, k) {", "    hit = x > k;", "    return hit;", "}", ""]
BLOCK_LINES = 5


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000, help="lines of the program")
    parser.add_argument("--edits", type=int, default=100, help="changes timed; medians over them")
    parser.add_argument(
        "--line-edits", type=int, default=20, help="edits that add or remove a line, timed apart"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if args.lines < 40 or args.edits < 1 or args.line_edits < 1:
        parser.error("--lines must be at least 40, --edits and --line-edits at least 1")
    return args


def block(index: int, constant: int) -> list[str]:
    """One block of the program; ``constant`` (0..5) is what an edit changes."""
    return [
        f"s{index} = select(indices, indices, <=);",
        f'x{index} : num = map(fn(t) -> 1 if t == "{"abcd"[index % 4]}" else 0, tokens);',
        f"a{index} : num = aggregate(s{index}, x{index});",
        f"c{index} = above(a{index}, {constant}/6);",
        "",
    ]


def program(blocks: int, constants: list[int]) -> str:
    """The program text: header, the macro, ``blocks`` blocks, an output of every block."""
    lines = [*HEADER, *MACRO]
    for index in range(blocks):
        lines += block(index, constants[index])
    lines.append("output " + ", ".join(f"c{i}" for i in range(blocks)) + ";")
    return "\n".join(lines) + "\n"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Time ``args.edits`` edits through the server and the hub alone; the timings in ms."""
    rng = random.Random(args.seed)
    blocks = (args.lines - len(HEADER) - len(MACRO) - 1) // BLOCK_LINES
    constants = [rng.randrange(6) for _ in range(blocks)]
    with tempfile.TemporaryDirectory(prefix="lsp-bench-") as folder:
        return _measure_in(Path(folder), args, rng, blocks, constants)


def _measure_in(
    folder: Path, args: argparse.Namespace, rng: random.Random, blocks: int, constants: list[int]
) -> dict[str, object]:
    path = folder / "long.rasp"
    text = program(blocks, constants)
    path.write_text(text, encoding="utf-8")
    keys = (*TARGETS_MS, "hub", "hub_parse", "hub_resolve", "hub_check")
    times: dict[str, list[float]] = {key: [] for key in keys}
    client = LspClient(timeout=120.0)
    try:
        client.initialize(folder)
        uri = client.open(path, text)
        published = client.diagnostics(uri)
        if any(d["severity"] == 1 for d in published):
            raise AssertionError(f"the generated program has errors: {published[:3]}")
        for version in range(2, args.edits + 2):
            edited = rng.randrange(blocks)
            constants[edited] = (constants[edited] + 1 + rng.randrange(5)) % 6
            text = program(blocks, constants)
            start = time.perf_counter()
            client.change(uri, text, version)
            client.diagnostics(uri)
            times["diagnostics"].append(time.perf_counter() - start)
            line = len(HEADER) + len(MACRO) + edited * BLOCK_LINES + 3  # c{i} = above(a{i}, ...)
            name = client.at(uri, line, len(f"c{edited} = above(a") + 1)
            for method, key in (
                ("textDocument/hover", "hover"),
                ("textDocument/definition", "definition"),
            ):
                start = time.perf_counter()
                client.request(method, name)
                times[key].append(time.perf_counter() - start)
            start = time.perf_counter()
            parse_module(text, str(path))
            parsed = time.perf_counter()
            resolved_program = parse_program(text, str(path))  # reuses the module just parsed
            resolved = time.perf_counter()
            check_program(resolved_program)
            checked = time.perf_counter()
            times["hub"].append(checked - start)
            times["hub_parse"].append(parsed - start)
            times["hub_resolve"].append(resolved - parsed)
            times["hub_check"].append(checked - resolved)
        program_lines = len(text.splitlines())
        version, added_at = args.edits + 2, None
        for _ in range(args.line_edits):
            text_lines = text.split("\n")
            if added_at is None:  # add a line above a random block
                added_at = len(HEADER) + len(MACRO) + rng.randrange(blocks) * BLOCK_LINES
                text_lines.insert(added_at, "# an added line")
            else:  # and take it away again
                del text_lines[added_at]
                added_at = None
            text = "\n".join(text_lines)
            start = time.perf_counter()
            client.change(uri, text, version)
            client.diagnostics(uri)
            times["diagnostics_lines_moved"].append(time.perf_counter() - start)
            version += 1
    finally:
        client.close()
    return {
        "lines": program_lines,
        "edits": args.edits,
        "line_edits": args.line_edits,
        "ms": {k: [round(v * 1000, 2) for v in values] for k, values in times.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    load_before = uptime()
    measured = measure(args)
    load_after = uptime()
    ms: dict[str, list[float]] = measured["ms"]  # type: ignore[assignment]
    hub = statistics.median(ms["hub"])
    rows = []
    for key, target in TARGETS_MS.items():
        median = statistics.median(ms[key])
        rows.append(
            {
                "measure": key,
                "median_ms": round(median, 2),
                "p90_ms": round(_percentile(ms[key], 0.9), 2),
                "target_ms": target,
                "met": median <= target,
                "ratio_to_hub_check": round(median / hub, 3),
            }
        )
    lines = [
        "| measure | median | p90 | target | met | / hub check |",
        "|---|---:|---:|---:|:---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['measure']} | {r['median_ms']:.1f} ms | {r['p90_ms']:.1f} ms "
            f"| {r['target_ms']:.0f} ms | {'yes' if r['met'] else 'no'} "
            f"| {r['ratio_to_hub_check']:.2f}x |"
        )
    hub_p90 = _percentile(ms["hub"], 0.9)
    lines.append(f"| hub check (baseline) | {hub:.1f} ms | {hub_p90:.1f} ms | | | 1.00x |")
    for key, label in (("hub_parse", "parse"), ("hub_resolve", "resolve"), ("hub_check", "check")):
        part = statistics.median(ms[key])
        p90 = _percentile(ms[key], 0.9)
        lines.append(f"| of which {label} | {part:.1f} ms | {p90:.1f} ms | | | {part / hub:.2f}x |")
    command = "python benchmarks/lsp_latency.py " + shlex.join(argv or sys.argv[1:])
    note = (
        f"{measured['lines']}-line program, median over {measured['edits']} edits "
        f"({measured['line_edits']} for lines moved)."
    )
    title = "Language server latency"
    load = (load_before, load_after)
    results = {"rows": rows, **measured}
    publish(args, "lsp_latency", title, "\n".join(lines), note, command.strip(), load, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
