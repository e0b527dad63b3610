"""Exact value-set inference: a program in, every s-op's finite set of reachable values out.

Sets are sound (a superset of every value the s-op can take on any valid input) and as tight
as cheaply possible: numerical means are all exact ``sum/k`` for multisets of size ``k``, not
tracr's ``1/k`` (rasp-semantics §16.1). Problems found on the way (a map that fails on a
reachable input, an undefined or non-numeric ``num`` value, a declared domain that does not
hold) become diagnostics on the binding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product

import numpy as np

from rasp_ir.affine_exprs import affine_values
from rasp_ir.diagnostics import Diagnostic
from rasp_ir.expr import ExprError, apply_lambda, result_bound
from rasp_ir.ir import (
    Aggregate,
    Binding,
    Comparison,
    Encoding,
    Full,
    Map,
    Node,
    PooledVote,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.tables import distinct_inputs, map_error, map_on_every_combination
from rasp_ir.values import (
    Value,
    canonical_values,
    describe_value,
    is_number,
    normalize_number,
    value_key,
)
from rasp_ir.vote_scores import check_vote

MAX_COMBINATIONS = 2_000_000
ENUMERATION_LIMIT = 200_000
MAX_SUMSET_BITS = 1 << 26
SHOWN_VALUES = 5


@dataclass
class ValueSetResult:
    """Inferred value sets (canonical order) for every s-op name, primitives included."""

    sets: dict[str, tuple[Value, ...]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class TooLarge(Exception):
    """A value set would take too much work to enumerate."""


@dataclass(frozen=True)
class _Inferred:
    """One binding's inference: what it read (the binding object, its input sets as objects,
    the facts about its selector and header) and what came of it."""

    binding: Binding
    inputs: tuple[tuple[Value, ...], ...]
    facts: tuple[object, ...]
    values: tuple[Value, ...]
    diagnostics: tuple[Diagnostic, ...]


class ValueSetMemo:
    """Each binding's value set and diagnostics from the last inference over a program's
    versions, reused while the binding is the same object (incremental resolution keeps it)
    and its inputs the same sets. A set recomputed equal to the last one is handed on as the
    last one's object, so the bindings reading it are reused: a change propagates only as far
    as it changes value sets."""

    def __init__(self) -> None:
        self._inferred: dict[str, _Inferred] = {}
        self._primitives: dict[str, tuple[Value, ...]] = {}
        self.reused = 0
        """How many bindings the last inference took from the one before."""

    def primitive(self, name: str, values: tuple[Value, ...]) -> tuple[Value, ...]:
        """``values`` as the set of primitive ``name``: the last object when it is the same."""
        kept = self._primitives.get(name)
        if kept is not None and same_values(kept, values):
            return kept
        self._primitives[name] = values
        return values


def same_values(a: Sequence[Value], b: Sequence[Value]) -> bool:
    """Exactly the same values in the same order (``True`` is not ``1``)."""
    return len(a) == len(b) and all(
        type(x) is type(y) and x == y for x, y in zip(a, b, strict=True)
    )


def infer_value_sets(program: Program, memo: ValueSetMemo | None = None) -> ValueSetResult:
    """Value sets of ``tokens``, ``indices``, ``length`` and every s-op binding of ``program``;
    ``memo`` reuses the bindings unchanged since the last call with it (same result)."""
    header = program.header
    positions = header.positions
    bos = () if header.bos is None else (header.bos,)
    result = ValueSetResult()
    primitives = {
        "tokens": canonical_values((*header.vocab, *bos)),
        "indices": tuple(range(positions)),
        "length": tuple(range(1, positions + 1)),
    }
    for name, values in primitives.items():
        result.sets[name] = memo.primitive(name, values) if memo is not None else values
    kept: dict[str, _Inferred] = {}
    if memo is not None:
        memo.reused = 0
    for binding in program.bindings:
        if binding.encoding is None:
            continue
        if memo is None:
            values, diagnostics = _infer_and_check(program, binding, result.sets)
        else:
            inferred = _reuse_or_infer(program, binding, result.sets, memo)
            kept[binding.name] = inferred
            values, diagnostics = inferred.values, inferred.diagnostics
        result.sets[binding.name] = values
        result.diagnostics.extend(diagnostics)
    if memo is not None:
        memo._inferred = kept
    return result


def _infer_and_check(
    program: Program, binding: Binding, sets: dict[str, tuple[Value, ...]]
) -> tuple[tuple[Value, ...], tuple[Diagnostic, ...]]:
    """One binding's value set, given its inputs' in ``sets``, and the diagnostics about it."""
    diagnostics: list[Diagnostic] = []
    values = _infer_binding(program, binding, sets, diagnostics)
    _check_domain(binding, values, diagnostics)
    if binding.encoding == "num":
        _check_numeric(binding, values, diagnostics)
    return values, tuple(diagnostics)


def _reuse_or_infer(
    program: Program, binding: Binding, sets: dict[str, tuple[Value, ...]], memo: ValueSetMemo
) -> _Inferred:
    node = binding.node
    inputs = tuple(sets[name] for name in _set_inputs(node))
    facts: tuple[object, ...] = ()
    if isinstance(node, Aggregate):
        facts = (
            never_empty(program, node.selector),
            at_most_one_key(program, node.selector),
            program.encoding_of(node.sop),
            program.header.positions,
        )
    elif isinstance(node, SelectorWidth):
        facts = (program.header.positions,)
    last = memo._inferred.get(binding.name)
    if (
        last is not None
        and all(a is b for a, b in zip(last.inputs, inputs, strict=True))
        and last.facts == facts
    ):
        if last.binding is binding:
            memo.reused += 1
            return last
        if not last.diagnostics and _same_computation(last.binding, binding):
            memo.reused += 1  # only moved (lines added above): the same values, no diagnostics
            return _Inferred(binding, inputs, facts, last.values, ())
    values, diagnostics = _infer_and_check(program, binding, sets)
    if last is not None and same_values(last.values, values):
        values = last.values
    return _Inferred(binding, inputs, facts, values, diagnostics)


def _same_computation(a: Binding, b: Binding) -> bool:
    """Whether two bindings compute exactly the same (wherever they are written): equal, and
    equal in their reprs too, which keep ``True`` and ``1`` apart as ``==`` does not."""
    return a == b and repr(a.node) == repr(b.node) and repr(a.domain) == repr(b.domain)


def _set_inputs(node: Node) -> tuple[str, ...]:
    """The s-ops whose value sets the inference of ``node`` reads."""
    if isinstance(node, Map):
        return distinct_inputs(node)
    if isinstance(node, Aggregate):
        return (node.sop,)
    return ()


def never_empty(program: Program, selector: str) -> bool:
    """True when every real query row of ``selector`` selects at least one key.

    Select-all keeps the query's own position even when causal; ``select_closest`` falls back
    to BOS when the program has one; a disjunction is never empty when either side is not.
    """
    node = program.binding(selector).node
    if isinstance(node, Select):
        return isinstance(node.predicate, Comparison) and node.predicate.op == "true"
    if isinstance(node, SelectClosest):
        return program.header.bos is not None
    if isinstance(node, SelectorOr):
        return never_empty(program, node.left) or never_empty(program, node.right)
    return False


def at_most_one_key(program: Program, selector: str) -> bool:
    """True when every query row of ``selector`` selects at most one key: ``select_closest``
    (the nearest match), ``select(indices, q, ==)`` (positions are distinct), and a
    conjunction with either."""
    node = program.binding(selector).node
    if isinstance(node, Select):
        equality = isinstance(node.predicate, Comparison) and node.predicate.op == "=="
        return equality and node.keys == "indices"
    if isinstance(node, SelectClosest):
        return True
    if isinstance(node, SelectorAnd):
        return at_most_one_key(program, node.left) or at_most_one_key(program, node.right)
    return False


def mean_mode(program: Program, node: Aggregate) -> Encoding:
    """How a ``mean`` aggregate averages: ``num`` (exact rational mean) when its s-op is ``num``,
    else ``cat`` (all selected values must be equal)."""
    return program.encoding_of(node.sop)


def mean_values(values: Sequence[Value], positions: int) -> tuple[Value, ...]:
    """Every exact mean of a multiset of 1..``positions`` numbers drawn from ``values``.

    Raises :class:`TooLarge` when the enumeration would be too big.
    """
    return canonical_values(
        normalize_number(total / count) for count, total in _scaled_sums(values, positions)
    )


def sum_values(values: Sequence[Value], positions: int) -> tuple[Value, ...]:
    """Every sum of a multiset of 1..``positions`` numbers drawn from ``values``.

    Raises :class:`TooLarge` when the enumeration would be too big.
    """
    return canonical_values(normalize_number(total) for _, total in _scaled_sums(values, positions))


def _scaled_sums(values: Sequence[Value], positions: int) -> list[tuple[int, Fraction]]:
    """``(k, sum)`` for every multiset of ``k`` in 1..positions numbers drawn from ``values``.

    Numbers are scaled to integers by the lcm of their denominators; the sums of ``k`` of them
    are the set bits of a Python-int bitset, shifted once per value and size (shift-or).
    """
    numbers = [
        Fraction(v) for v in values if isinstance(v, (int, Fraction)) and not isinstance(v, bool)
    ]
    if not numbers:
        return []
    scale = math.lcm(*(x.denominator for x in numbers))
    scaled = sorted({int(x * scale) for x in numbers})
    low = scaled[0]
    offsets = [w - low for w in scaled]
    width = positions * offsets[-1] + 1
    if width > MAX_SUMSET_BITS:
        raise TooLarge(f"sums span {width} scaled values")
    found: list[tuple[int, Fraction]] = []
    reachable = 1
    for count in range(1, positions + 1):
        step = 0
        for offset in offsets:
            step |= reachable << offset
        reachable = step
        sums = _set_bits(reachable)
        if len(found) + len(sums) > MAX_COMBINATIONS:
            raise TooLarge(f"more than {MAX_COMBINATIONS} sums")
        base = count * low
        found.extend((count, Fraction(s + base, scale)) for s in sums)
    return found


def _set_bits(bits: int) -> list[int]:
    raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), dtype=np.uint8)
    return [int(i) for i in np.flatnonzero(np.unpackbits(raw, bitorder="little"))]


def _infer_binding(
    program: Program,
    binding: Binding,
    sets: dict[str, tuple[Value, ...]],
    diagnostics: list[Diagnostic],
) -> tuple[Value, ...]:
    node = binding.node
    if isinstance(node, Full):
        return (node.value,)
    if isinstance(node, Map):
        return _infer_map(binding, node, sets, diagnostics)
    if isinstance(node, SelectorWidth):
        return tuple(range(program.header.positions + 1))
    if isinstance(node, Aggregate):
        return _infer_aggregate(program, binding, node, sets, diagnostics)
    if isinstance(node, PooledVote):
        diagnostics.extend(check_vote(binding, sets))
        defaults = () if never_empty(program, node.selector) else (node.default,)
        return canonical_values((*node.labels, *defaults))
    raise TypeError(f"{binding.name!r} is not an s-op")


def _infer_map(
    binding: Binding, node: Map, sets: dict[str, tuple[Value, ...]], diagnostics: list[Diagnostic]
) -> tuple[Value, ...]:
    names = distinct_inputs(node)
    input_sets = [sets[name] for name in names]
    defined = [[v for v in s if v is not None] for s in input_sets]
    outputs: list[Value] = []
    if any(None in s for s in input_sets):
        outputs.append(node.default)
    combinations = math.prod(len(s) for s in defined)
    if combinations > ENUMERATION_LIMIT:
        defined_sets = dict(zip(names, defined, strict=True))
        sums = affine_values(node.fn, node.inputs, defined_sets, MAX_COMBINATIONS)
        if sums is not None:
            return canonical_values((*outputs, *sums))
    bound = result_bound(node.fn.body) if combinations > ENUMERATION_LIMIT else None
    if bound is not None:
        diagnostics.append(
            Diagnostic(
                "map-not-enumerated",
                f"map {binding.name!r} has {combinations} input combinations; its values are "
                "bounded by the constants it returns, and it is checked as it runs",
                binding.span,
                "fine for lifted readouts and large tables; split the map to check it fully",
                "warning",
            )
        )
        return canonical_values((*outputs, *bound))
    if combinations > MAX_COMBINATIONS:
        diagnostics.append(
            Diagnostic(
                "map-too-large",
                f"map {binding.name!r} has more than {MAX_COMBINATIONS} input combinations",
                binding.span,
                "split the map or declare narrower input domains",
            )
        )
        return ()
    outputs.extend(_outputs_on_every_combination(binding, node, defined, diagnostics))
    return canonical_values(outputs)


def _outputs_on_every_combination(
    binding: Binding, node: Map, defined: Sequence[Sequence[Value]], diagnostics: list[Diagnostic]
) -> Sequence[Value]:
    """The map's outputs on every combination of its distinct inputs' ``defined`` values:
    column-wise where :mod:`rasp_ir.term_columns` decides, else one combination at a time,
    reporting the first that fails (the others give what they give)."""
    by_columns = map_on_every_combination(node, [tuple(s) for s in defined])
    if by_columns is not None:
        return by_columns.values
    names = distinct_inputs(node)
    outputs: list[Value] = []
    reported = False
    axes = [names.index(name) for name in node.inputs]
    for combination in product(*defined):
        args = tuple(combination[axis] for axis in axes)
        try:
            outputs.append(apply_lambda(node.fn, args))
        except ExprError as error:
            if not reported:
                diagnostics.append(map_error(binding, args, str(error)))
                reported = True
    return outputs


def _infer_aggregate(
    program: Program,
    binding: Binding,
    node: Aggregate,
    sets: dict[str, tuple[Value, ...]],
    diagnostics: list[Diagnostic],
) -> tuple[Value, ...]:
    sop_values = sets[node.sop]
    defaults = () if never_empty(program, node.selector) else (node.default,)
    numeric = node.reduce == "sum" or (node.reduce == "mean" and mean_mode(program, node) == "num")
    if node.reduce in ("max", "min"):
        _check_ordered(program, binding, node, sop_values, diagnostics)
    if not numeric:
        return canonical_values((*sop_values, *defaults))
    _check_summable(program, binding, node, sop_values, diagnostics)
    positions = 1 if at_most_one_key(program, node.selector) else program.header.positions
    try:
        if node.reduce == "sum":
            reduced = sum_values(sop_values, positions)
        else:
            reduced = mean_values(sop_values, positions)
    except TooLarge as error:
        diagnostics.append(
            Diagnostic(
                "aggregate-too-large",
                f"aggregate {binding.name!r} has too many possible values ({error})",
                binding.span,
                "declare a narrower domain for the aggregated s-op",
            )
        )
        return ()
    return canonical_values((*reduced, *defaults))


def _check_summable(
    program: Program,
    binding: Binding,
    node: Aggregate,
    sop_values: Sequence[Value],
    diagnostics: list[Diagnostic],
) -> None:
    """Numeric reductions need numbers; a ``num`` s-op reports its own bad values."""
    if node.sop in program.by_name and program.binding(node.sop).encoding == "num":
        return
    bad = [v for v in sop_values if not is_number(v)]
    if bad:
        diagnostics.append(
            Diagnostic(
                "num-not-number",
                f"aggregate {binding.name!r} ({node.reduce}) reduces {node.sop!r}, which can "
                f"take non-numbers: {_show(bad)}",
                binding.span,
                f"map {node.sop!r} to numbers first",
            )
        )


def _check_ordered(
    program: Program,
    binding: Binding,
    node: Aggregate,
    sop_values: Sequence[Value],
    diagnostics: list[Diagnostic],
) -> None:
    """``max``/``min`` need all numbers or all strings (no ``None``, no booleans)."""
    if all(is_number(v) for v in sop_values) or all(isinstance(v, str) for v in sop_values):
        return
    diagnostics.append(
        Diagnostic(
            "aggregate-not-ordered",
            f"aggregate {binding.name!r} ({node.reduce}) needs numbers or strings, but "
            f"{node.sop!r} can take {_show(sop_values)}",
            binding.span,
            f"map {node.sop!r} to numbers first, giving undefined values a default",
        )
    )


def _check_domain(binding: Binding, values: Sequence[Value], diagnostics: list[Diagnostic]) -> None:
    if binding.domain is None:
        return
    declared = {value_key(v) for v in binding.domain}
    outside = [v for v in values if value_key(v) not in declared]
    if outside:
        diagnostics.append(
            Diagnostic(
                "domain",
                f"{binding.name!r} can take values outside its declared domain: {_show(outside)}",
                binding.span,
                "widen the declared domain or fix the computation",
            )
        )


def _check_numeric(
    binding: Binding, values: Sequence[Value], diagnostics: list[Diagnostic]
) -> None:
    if None in values:
        hint = (
            "give the aggregate a numeric default (num aggregates default to 0)"
            if isinstance(binding.node, Aggregate)
            else "give the map a default=... for undefined inputs"
        )
        diagnostics.append(
            Diagnostic(
                "num-undefined",
                f"num s-op {binding.name!r} can be undefined (none)",
                binding.span,
                hint,
            )
        )
    bad = [v for v in values if v is not None and not is_number(v)]
    if bad:
        diagnostics.append(
            Diagnostic(
                "num-not-number",
                f"num s-op {binding.name!r} can take non-numbers: {_show(bad)}",
                binding.span,
                "annotate it cat, or map it to numbers (e.g. 1 if x else 0)",
            )
        )


def _show(values: Sequence[Value]) -> str:
    shown = ", ".join(describe_value(v) for v in values[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    return shown + (f" and {more} more" if more > 0 else "")
