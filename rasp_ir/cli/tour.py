"""``rasp tour``: the example library (``examples/cases.json``) in, a readable table of each
program's sample input, outputs and layers out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.check import load_program
from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import out, report
from rasp_ir.diagnostics import RaspError
from rasp_ir.inputs import check_input, json_tokens, typed_tokens
from rasp_ir.interpreter import interpret
from rasp_ir.ir import Header
from rasp_ir.values import Value, format_value

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
DIR/cases.json lists the programs and their sample inputs:
  {"reverse.rasp": {"tour": "hello", "cases": [...]}, ...}
where "tour" is a string (one token per character) or a JSON array of tokens. For each
program the tour prints its input and outputs position by position (with %bos, position 0
is BOS), then its layers and heads per layer.

examples:
  rasp tour
  rasp tour --examples path/to/examples
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp tour``."""
    parser = add_command(
        subparsers,
        "tour",
        tour_command,
        summary="run every example program on its sample input",
        description="A tour of the example library: inputs, outputs and layers.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--examples",
        metavar="DIR",
        type=Path,
        default=None,
        help="the examples folder (default: ./examples, else the one beside the package)",
    )


def tour_command(args: argparse.Namespace) -> int:
    """Print one block per example; 1 if an example fails (the others are still shown)."""
    folder = args.examples or default_examples()
    cases = read_cases(folder)
    failed = 0
    for index, (name, case) in enumerate(cases.items()):
        if index:
            out()
        try:
            out(tour_block(folder / name, name, case))
        except RaspError as error:
            out(f"{name}: failed (see stderr)")
            report(error.diagnostics)
            failed += 1
    if failed:
        out(f"\n{failed} of {len(cases)} examples failed")
    return 1 if failed else 0


def default_examples() -> Path:
    """``./examples`` if there is one, else the repository's ``examples`` folder."""
    local = Path("examples")
    if (local / "cases.json").exists():
        return local
    return Path(__file__).resolve().parents[2] / "examples"


def read_cases(folder: Path) -> dict[str, dict[str, object]]:
    """The entries of ``folder/cases.json``, keyed by program file name."""
    path = folder / "cases.json"
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise RaspError.single("file", f"{path} is not valid JSON: {error}") from None
    if not isinstance(cases, dict) or not all(isinstance(c, dict) for c in cases.values()):
        raise RaspError.single("file", f'{path} must map file names to {{"tour": ...}} objects')
    return cases


def tour_input(case: dict[str, object], header: Header, where: str) -> list[Value]:
    """The sample input of one case, typed by the program's vocabulary and checked."""
    sample = case.get("tour", "")
    if isinstance(sample, str):
        tokens = typed_tokens(list(sample), header.vocab)
    else:
        tokens = json_tokens(json.dumps(sample), header.vocab)
    check_input(tokens, header, where)
    return tokens


def tour_block(path: Path, name: str, case: dict[str, object]) -> str:
    """One example: a title with its layers, then input and outputs as aligned rows."""
    result = load_program(path)
    program = result.program
    tokens = tour_input(case, program.header, str(path))
    evaluation = interpret(program, [tokens], value_sets=result.value_sets)
    rows = [("input", evaluation.values("tokens")[0])]
    rows += [(output, values[0]) for output, values in evaluation.outputs().items()]
    allocation = result.allocation
    heads = " / ".join(str(n) for n in allocation.heads_per_layer) or "-"
    title = f"{name}   layers: {allocation.n_layers}   heads per layer: {heads}"
    return "\n".join([title, *aligned_rows(rows)])


def aligned_rows(rows: list[tuple[str, list[Value]]]) -> list[str]:
    """Rows of cells under a label, every position in a column of equal width."""
    cells = [[cell_text(v) for v in values] for _, values in rows]
    label_width = max(len(label) for label, _ in rows)
    positions = max(len(row) for row in cells)
    widths = [
        max((len(row[i]) for row in cells if i < len(row)), default=1) for i in range(positions)
    ]
    lines = []
    for (label, _), row in zip(rows, cells, strict=True):
        padded = " ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        lines.append(f"  {label.ljust(label_width)}  {padded}".rstrip())
    return lines


def cell_text(value: Value) -> str:
    """A value in a table cell: strings bare when unambiguous, ``-`` for undefined."""
    if value is None:
        return "-"
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return value
    return format_value(value)
