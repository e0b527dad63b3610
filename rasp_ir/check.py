"""Program in, every diagnostic about it out: value sets, layer allocation, errors, warnings.

One checker, keyed by binding name, with one rule set shared by every backend: value-set
inference (map failures, declared domains, numerical misuse) plus the static warnings below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, RaspError, errors_only
from rasp_ir.layers import LayerAllocation, allocate_layers
from rasp_ir.optimize import StructureMemo, live_names
from rasp_ir.syntax import HeaderOverrides, parse_file, parse_program
from rasp_ir.values import value_key
from rasp_ir.valuesets import ValueSetMemo, ValueSetResult, infer_value_sets


@dataclass(frozen=True)
class CheckResult:
    """What the checker found: value sets, all diagnostics and the layer allocation (computed
    when first asked for: the diagnostics do not depend on it)."""

    program: ir.Program
    value_sets: ValueSetResult
    diagnostics: tuple[Diagnostic, ...]
    structure_memo: StructureMemo | None = field(default=None, compare=False, repr=False)

    @cached_property
    def allocation(self) -> LayerAllocation:
        """Every live name's layer and sublayer (:func:`~rasp_ir.layers.allocate_layers`)."""
        return allocate_layers(self.program, self.structure_memo)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of severity ``error``."""
        return errors_only(self.diagnostics)

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics of severity ``warning``."""
        return [d for d in self.diagnostics if d.severity == "warning"]


@dataclass
class CheckMemo:
    """What checking one program's successive versions keeps between them (the language server
    checks on every change): value sets and structural keys of unchanged bindings."""

    value_sets: ValueSetMemo = field(default_factory=ValueSetMemo)
    structure: StructureMemo = field(default_factory=StructureMemo)


def check_program(program: ir.Program, memo: CheckMemo | None = None) -> CheckResult:
    """Check ``program``; never raises for problems in the program itself. ``memo`` reuses
    what an earlier version's check found about the bindings unchanged since (incremental
    resolution keeps them the same objects); the result is the same as without it."""
    memo_sets, memo_structure = (memo.value_sets, memo.structure) if memo else (None, None)
    value_sets = infer_value_sets(program, memo_sets)
    diagnostics = list(value_sets.diagnostics)
    diagnostics.extend(_undefined_select_warnings(program, value_sets))
    diagnostics.extend(_categorical_mean_warnings(program, value_sets))
    diagnostics.extend(_causal_warnings(program))
    diagnostics.extend(_unused_warnings(program))
    return CheckResult(program, value_sets, tuple(diagnostics), memo_structure)


def load_program(
    path: str | Path | None = None,
    *,
    text: str | None = None,
    overrides: HeaderOverrides | None = None,
) -> CheckResult:
    """Parse and check a file (or ``text``); a :class:`RaspError` if there is any error."""
    if text is not None:
        program = parse_program(text, str(path or "<string>"), overrides=overrides)
    elif path is not None:
        program = parse_file(path, overrides=overrides)
    else:
        raise ValueError("load_program needs a path or text")
    result = check_program(program)
    if result.errors:
        raise RaspError(result.diagnostics)
    return result


def _undefined_select_warnings(program: ir.Program, value_sets: ValueSetResult) -> list[Diagnostic]:
    found = []
    undefined = value_key(None)
    for binding in program.bindings:
        node = binding.node
        if not isinstance(node, (ir.Select, ir.SelectClosest)):
            continue
        for role, name in (("keys", node.keys), ("queries", node.queries)):
            values = value_sets.sets.get(name, ())
            if any(value_key(v) == undefined for v in values):
                found.append(
                    Diagnostic(
                        "maybe-undefined-select",
                        f"the {role} of {binding.name} ({name}) may be undefined; "
                        "comparing an undefined value is an error at run time",
                        binding.span,
                        f"give {name} a default so that it is always defined",
                        "warning",
                    )
                )
    return found


def _categorical_mean_warnings(program: ir.Program, value_sets: ValueSetResult) -> list[Diagnostic]:
    found = []
    for binding in program.bindings:
        node = binding.node
        if not isinstance(node, ir.Aggregate) or node.reduce != "mean":
            continue
        if program.encoding_of(node.sop) != "cat":
            continue
        defined = [v for v in value_sets.sets.get(node.sop, ()) if v is not None]
        if len(defined) <= 1 or _selects_at_most_one(program, node.selector):
            continue
        found.append(
            Diagnostic(
                "cat-mean-width",
                f"{binding.name} is a categorical aggregate whose selector may select several "
                f"keys with different values of {node.sop}; that is an error at run time",
                binding.span,
                "select at most one key (e.g. select(indices, q, ==) or select_closest), "
                "or make the value num to average it",
                "warning",
            )
        )
    return found


def _selects_at_most_one(program: ir.Program, selector: str) -> bool:
    """Provably at most one key per query: closest-match, or equality on unique keys."""
    node = program.binding(selector).node
    if isinstance(node, ir.SelectClosest):
        return True
    if isinstance(node, ir.Select):
        predicate = node.predicate
        if isinstance(predicate, ir.Comparison):
            return predicate.op == "false" or (predicate.op == "==" and node.keys == "indices")
        return False
    if isinstance(node, ir.SelectorAnd):
        return _selects_at_most_one(program, node.left) or _selects_at_most_one(program, node.right)
    return False


def _causal_warnings(program: ir.Program) -> list[Diagnostic]:
    if not program.header.causal:
        return []
    live = live_names(program)
    if "length" not in live:
        return []
    users = [b for b in program.bindings if "length" in ir.operands(b.node) and b.name in live]
    reader = users[0].name if users else "the output length"
    return [
        Diagnostic(
            "causal-length",
            f"under %causal, length is the prefix length i+1, so {reader} sees the "
            "length of the prefix, not of the whole input",
            users[0].span if users else None,
            "remove %causal if the program needs the whole input",
            "warning",
        )
    ]


def _unused_warnings(program: ir.Program) -> list[Diagnostic]:
    live = live_names(program)
    return [
        Diagnostic(
            "unused",
            f"{binding.name} does not contribute to any output",
            binding.span,
            "remove it, or add it to an output statement",
            "warning",
        )
        for binding in program.bindings
        if binding.name not in live and "__" not in binding.name
    ]
