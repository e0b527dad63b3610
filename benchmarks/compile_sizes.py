"""Compiled sizes of every example beside tracr's published sizes (rasp-semantics §13.2).

Each example is compiled with a 4-symbol vocabulary and max_len 5 (shuffle_dyck2: max_len 6),
tracr's test configurations. Writes benchmarks/results/compile_sizes.{json,md}.
Run: .venv/bin/python benchmarks/compile_sizes.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, machine, uptime, write_results  # noqa: E402
from rasp_ir.backends.torch import compile_program  # noqa: E402
from rasp_ir.syntax import HeaderOverrides, parse_file  # noqa: E402

# tracr's compiled sizes: layers, max heads per layer, d_model, MLP width (§13.2).
TRACR: dict[str, tuple[int, int, int, int]] = {
    "length": (1, 1, 19, 12),
    "hist": (1, 1, 19, 12),
    "reverse": (4, 1, 43, 30),
    "sort_unique": (2, 1, 25, 12),
    "sort": (3, 1, 50, 25),
    "sort_by_freq": (5, 1, 64, 30),
    "frac_prevs": (2, 1, 12, 1),
    "pair_balance": (2, 2, 17, 4),
    "shuffle_dyck2": (8, 4, 58, 292),
    "detect_pattern": (3, 2, 26, 6),
    "count_less_freq": (2, 1, 28, 14),
}
MAX_LEN = {"shuffle_dyck2": 6}


def measure(path: Path) -> dict[str, object]:
    vocab = parse_file(path).header.vocab[:4]
    max_len = MAX_LEN.get(path.stem, 5)
    program = parse_file(path, overrides=HeaderOverrides(vocab=tuple(vocab), max_len=max_len))
    started = time.perf_counter()
    model = compile_program(program)
    seconds = time.perf_counter() - started
    config = model.config
    row: dict[str, object] = {
        "program": path.stem,
        "max_len": max_len,
        "vocab": len(vocab),
        "layers": config.n_layers,
        "heads": config.n_heads,
        "d_model": config.d_model,
        "mlp_width": config.d_mlp,
        "compile_seconds": round(seconds, 4),
    }
    tracr = TRACR.get(path.stem)
    if tracr is not None:
        row["tracr"] = dict(zip(("layers", "heads", "d_model", "mlp_width"), tracr, strict=True))
    return row


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| program | layers | heads | d_model | MLP width | compile s "
        "| tracr (layers/heads/d_model/MLP) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        tracr = row.get("tracr")
        theirs = "/".join(str(v) for v in tracr.values()) if isinstance(tracr, dict) else "-"
        lines.append(
            f"| {row['program']} | {row['layers']} | {row['heads']} | {row['d_model']} | "
            f"{row['mlp_width']} | {row['compile_seconds']} | {theirs} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Compile every example, print the table, write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    load_before = uptime()
    rows = [measure(path) for path in sorted((ROOT / "examples").glob("*.rasp"))]
    load_after = uptime()
    table = markdown(rows)
    note = f"On {machine()}. Load (`uptime`) before: `{load_before}`; after: `{load_after}`."
    payload = {"machine": machine(), "load_before": load_before, "load_after": load_after}
    write_results(args.results, "compile_sizes", {**payload, "rows": rows}, table + "\n" + note)
    print(table + "\n" + note)


if __name__ == "__main__":
    main()
