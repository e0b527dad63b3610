"""Error attribution, the Transformer Programs paper's debugging workflow automated: a program
and labelled examples (a task's test split) in, the wrong cells and the heads and MLP table
rows ranked by how many errors run through them out.

Every scored cell gets its dependency cone (:mod:`rasp_ir.reporting.cone`); a unit (a head, one
row of a map's table) is *on the path* of a cell when the cone runs through it. For each unit
the report counts the wrong cells on its path and all scored cells on its path, so a row that
is used only by wrong cells (error rate 100%) stands out from a head every cell goes through.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rasp_ir.check import CheckResult
from rasp_ir.interpreter import interpret
from rasp_ir.reporting.cone import Cell, ConeBuilder, Unit
from rasp_ir.reporting.view import LabelledExamples
from rasp_ir.values import Value, format_value, same_value

BATCH = 512
SHOWN_WRONG = 10
SHOWN_UNITS = 15


@dataclass(frozen=True)
class WrongCell:
    """One scored position where the program's output is not what the task wants; ``tokens``
    as the program sees them (BOS first when it has one), so ``position`` indexes them."""

    example: int
    tokens: tuple[Value, ...]
    position: int
    expected: Value
    got: Value


@dataclass(frozen=True)
class UnitBlame:
    """A unit with the wrong cells and all scored cells on its path."""

    unit: Unit
    errors: int
    cells: int

    @property
    def error_rate(self) -> float:
        """The fraction of the cells through this unit that are wrong."""
        return self.errors / max(self.cells, 1)


@dataclass(frozen=True)
class Attribution:
    """The result of :func:`attribute_errors`."""

    name: str
    output: str
    examples: int
    scored: int
    wrong: tuple[WrongCell, ...]
    units: tuple[UnitBlame, ...]

    @property
    def accuracy(self) -> float:
        """The fraction of scored cells the program gets right."""
        return 1 - len(self.wrong) / max(self.scored, 1)


def attribute_errors(checked: CheckResult, labelled: LabelledExamples) -> Attribution:
    """Run the program on every labelled example, find the wrong cells and count, for every
    unit on the path of at least one wrong cell, the wrong and the scored cells through it."""
    program = checked.program
    if labelled.output not in program.outputs:
        raise ValueError(f"{labelled.output!r} is not an output of the program")
    if len(labelled.expected) != len(labelled.inputs):
        raise ValueError("labelled examples need one row of expected values per input")
    wrong: list[WrongCell] = []
    errors: Counter[Unit] = Counter()
    cells: Counter[Unit] = Counter()
    scored = 0
    for start in range(0, len(labelled.inputs), BATCH):
        chunk = labelled.inputs[start : start + BATCH]
        evaluation = interpret(program, chunk, value_sets=checked.value_sets)
        builder = ConeBuilder(evaluation, checked.allocation, describe=False)
        got = evaluation.values(labelled.output)
        for offset, want in enumerate(labelled.expected[start : start + BATCH]):
            if len(want) != int(evaluation.lengths[offset]):
                raise ValueError(f"example {start + offset}: one expected value per position")
            for position, expected in enumerate(want):
                if expected is None:
                    continue
                scored += 1
                units = builder.units(offset, Cell(labelled.output, position))
                cells.update(units)
                value = got[offset][position]
                if not same_value(value, expected):
                    seen = tuple(builder.value("tokens", offset, p) for p in range(len(want)))
                    wrong.append(WrongCell(start + offset, seen, position, expected, value))
                    errors.update(units)
    blamed = sorted(
        (UnitBlame(unit, count, cells[unit]) for unit, count in errors.items()),
        key=lambda b: (-b.errors, -b.error_rate, str(b.unit)),
    )
    return Attribution(
        labelled.name, labelled.output, len(labelled.inputs), scored, tuple(wrong), tuple(blamed)
    )


def format_attribution(result: Attribution) -> str:
    """The attribution as text: a summary line, the first wrong cells and the ranked units."""
    lines = [
        f"{result.name}: {result.examples} inputs, {result.scored} scored positions of "
        f"{result.output}, {len(result.wrong)} wrong (accuracy {result.accuracy:.2%})"
    ]
    if not result.wrong:
        lines.append("no errors: nothing to attribute")
        return "\n".join(lines)
    lines.append(f"wrong positions (first {min(len(result.wrong), SHOWN_WRONG)}):")
    for cell in result.wrong[:SHOWN_WRONG]:
        shown = " ".join(format_value(t) for t in cell.tokens)
        lines.append(
            f"  input {cell.example} [{shown}] position {cell.position}: wants "
            f"{format_value(cell.expected)}, got {format_value(cell.got)}"
        )
    lines.append("on the path of the errors (wrong / all scored positions through it):")
    width = max(len(str(b.unit)) for b in result.units[:SHOWN_UNITS])
    for blame in result.units[:SHOWN_UNITS]:
        lines.append(
            f"  {str(blame.unit).ljust(width)}  {blame.errors}/{blame.cells}  "
            f"({blame.error_rate:.1%} wrong)"
        )
    return "\n".join(lines)
