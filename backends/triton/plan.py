"""Lower a program for batched execution: a checked program in, a :class:`Plan` out (one step
per binding, every map and predicate tabulated over the exact value sets, numbers as exact
integer fractions).

The plan holds numpy arrays only; :mod:`.execute` moves them to a device. Selectors are not
steps of their own: each aggregate and selector width carries its selector as leaves (the
``select`` and ``select_closest`` bindings it is built from) and a truth table over them, so
``and``/``or``/``not`` cost nothing at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import product

import numpy as np
import numpy.typing as npt

from rasp_ir.api import (
    RaspError,
    Value,
    canonical_values,
    code_of,
    distinct_inputs,
    errors_only,
    infer_value_sets,
    ir,
    map_table,
    mean_mode,
    none_code,
    predicate_table,
    value_key,
)

Codes = npt.NDArray[np.int64]
# Most entries a map table may have; most leaves one selector may combine.
TABLE_LIMIT = 1 << 22
LEAF_LIMIT = 12
# Exact numerical means compare products of numerators and denominators in int64.
INT64_SAFE = 1 << 62
# Most entries of a (count, total) -> result table of an exact reduction; past it, a search.
NUMBER_TABLE_LIMIT = 1 << 20


@dataclass(frozen=True)
class MapStep:
    """``table[codes of inputs...]``: one table axis per distinct input."""

    name: str
    inputs: tuple[str, ...]
    table: Codes


@dataclass(frozen=True)
class FullStep:
    """A constant: code 0 of a one-value set."""

    name: str


@dataclass(frozen=True)
class Ranked:
    """A predicate table that is a comparison of ranks: ``table[k, q] == op(keys[k],
    queries[q])`` wherever key and query are defined."""

    op: str
    keys: Codes
    queries: Codes


@dataclass(frozen=True)
class Leaf:
    """A ``select`` (``closest`` False) or ``select_closest`` binding a selector is built from:
    ``table[key_code, query_code]``, also as a comparison of ranks where it is one."""

    name: str
    keys: str
    queries: str
    table: npt.NDArray[np.bool_]
    closest: bool
    ranked: Ranked | None = None


@dataclass(frozen=True)
class SelectorPlan:
    """A selector as the names of its leaves (bindings of :class:`Leaf` steps) and
    ``truth[sum(bit_l << l)]``, ``bit_l`` the value of leaf ``l``."""

    leaves: tuple[str, ...]
    truth: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Numbers:
    """An exact numerical reduction: ``weights[code]`` are the sop's values times ``scale``;
    the result ``total / divisor`` is found among ``numerators / denominators`` (ascending),
    whose codes are ``codes``. Where it is small enough, ``table[row * span + total - low]``
    holds the result code directly: ``row`` is the count of selected keys for a mean, 0 or 1
    (none, some) for a sum; row 0 holds the default, and -1 a value the result set lacks."""

    weights: Codes
    scale: int
    numerators: Codes
    denominators: Codes
    codes: Codes
    table: Codes | None = None
    span: int = 0
    low: int = 0


@dataclass(frozen=True)
class ReduceStep:
    """``selector_width`` (``kind`` "width") or an aggregate (``mean_cat``, ``mean_num``,
    ``sum``, ``max``, ``min``) of ``sop``: ``translate`` turns sop codes into result codes,
    ``default`` is the code of empty rows. ``key_positions`` is set when the selector is one
    ``select`` of ``indices`` that picks at most one key per query: the position each query code
    picks (past the longest input where it picks none), so the reduction is a gather."""

    name: str
    kind: str
    selector: SelectorPlan
    sop: str | None = None
    translate: Codes | None = None
    default: int = 0
    numbers: Numbers | None = None
    key_positions: Codes | None = None


@dataclass(frozen=True)
class Plan:
    """Everything execution needs: header facts, value sets, steps in order, the names whose
    undefined values a select must reject, and the outputs."""

    value_sets: dict[str, tuple[Value, ...]]
    vocab_codes: Codes
    bos_code: int | None
    causal: bool
    steps: tuple[MapStep | FullStep | Leaf | ReduceStep, ...]
    undefined_checks: tuple[tuple[str, int], ...]
    outputs: tuple[str, ...]


def build_plan(program: ir.Program) -> Plan:
    """The plan of ``program`` (dead code included; callers drop it first when they wish).

    Raises :class:`RaspError` on the program's errors (value sets, predicates), on a map whose
    table would exceed :data:`TABLE_LIMIT` entries and on a selector of more than
    :data:`LEAF_LIMIT` leaves.
    """
    inferred = infer_value_sets(program)
    if errors_only(inferred.diagnostics):
        raise RaspError(errors_only(inferred.diagnostics))
    sets = dict(inferred.sets)
    token_codes = code_of(sets["tokens"])
    vocab = np.array([token_codes[value_key(v)] for v in program.header.vocab], dtype=np.int64)
    bos = program.header.bos
    steps: list[MapStep | FullStep | Leaf | ReduceStep] = []
    checks: dict[tuple[str, int], None] = {}
    for binding in program.bindings:
        node = binding.node
        if isinstance(node, (ir.Select, ir.SelectClosest)):
            steps.extend(_leaf_step(binding, node, sets))
            for name in (node.keys, node.queries):
                undefined = none_code(sets[name])
                if undefined is not None:
                    checks[(name, undefined)] = None
        elif isinstance(node, ir.Full):
            steps.append(FullStep(binding.name))
        elif isinstance(node, ir.Map):
            steps.append(_map_step(binding, node, sets))
        elif isinstance(node, (ir.Aggregate, ir.SelectorWidth)):
            leaves = {s.name: s for s in steps if isinstance(s, Leaf)}
            steps.append(_reduce_step(program, binding, node, sets, leaves))
    selectors = {n for n in program.outputs if program.is_selector_name(n)}
    return Plan(
        value_sets=sets,
        vocab_codes=vocab,
        bos_code=None if bos is None else token_codes[value_key(bos)],
        causal=program.header.causal,
        steps=tuple(steps),
        undefined_checks=tuple(checks),
        outputs=tuple(n for n in dict.fromkeys(program.outputs) if n not in selectors),
    )


def _leaf_step(
    binding: ir.Binding, node: ir.Select | ir.SelectClosest, sets: dict[str, tuple[Value, ...]]
) -> list[Leaf]:
    key_set, query_set = sets[node.keys], sets[node.queries]
    table = predicate_table(node.predicate, key_set, query_set, span=binding.span)
    closest = isinstance(node, ir.SelectClosest)
    ranked = _ranked(node.predicate, key_set, query_set, table)
    return [Leaf(binding.name, node.keys, node.queries, table, closest, ranked)]


_RANK_OPS = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _ranked(
    predicate: ir.Predicate,
    key_set: tuple[Value, ...],
    query_set: tuple[Value, ...],
    table: npt.NDArray[np.bool_],
) -> Ranked | None:
    """The table as a comparison of ranks in the joint canonical order, when it is one (checked
    entry by entry on defined keys and queries; undefined ones are rejected at run time)."""
    if not isinstance(predicate, ir.Comparison) or predicate.op not in _RANK_OPS:
        return None
    defined = [v for v in (*key_set, *query_set) if v is not None]
    ranks = code_of(canonical_values(defined))
    keys = np.array([ranks.get(value_key(v), -1) for v in key_set], dtype=np.int64)
    queries = np.array([ranks.get(value_key(v), -1) for v in query_set], dtype=np.int64)
    compared = _RANK_OPS[predicate.op](keys[:, None], queries[None, :])
    inside = (keys >= 0)[:, None] & (queries >= 0)[None, :]
    if not bool((compared == table)[inside].all()):
        return None
    return Ranked(predicate.op, keys, queries)


def _map_step(binding: ir.Binding, node: ir.Map, sets: dict[str, tuple[Value, ...]]) -> MapStep:
    names = distinct_inputs(node)
    input_sets = [sets[name] for name in names]
    entries = math.prod(len(s) for s in input_sets)
    if entries > TABLE_LIMIT:
        raise RaspError.single(
            "unsupported",
            f"map {binding.name!r} has {entries} input combinations, more than the triton "
            f"backend tabulates ({TABLE_LIMIT})",
            binding.span,
            "declare narrower value sets for its inputs (annotations), or split the map",
        )
    return MapStep(binding.name, names, map_table(binding, input_sets, sets[binding.name]))


def selector_plan(program: ir.Program, name: str) -> SelectorPlan:
    """The leaves of selector ``name`` and its truth table over them."""
    leaves: dict[str, None] = {}
    _collect_leaves(program, name, leaves)
    if len(leaves) > LEAF_LIMIT:
        binding = program.binding(name)
        raise RaspError.single(
            "unsupported",
            f"selector {name!r} combines {len(leaves)} selects, more than the triton backend "
            f"combines ({LEAF_LIMIT})",
            binding.span,
            "aggregate over fewer combined selects",
        )
    order = list(leaves)
    truth = np.zeros(1 << len(order), dtype=np.bool_)
    for index, bits in enumerate(product((False, True), repeat=len(order))):
        assignment = dict(zip(order, reversed(bits), strict=True))
        truth[index] = _holds(program, name, assignment)
    return SelectorPlan(tuple(order), truth)


def _collect_leaves(program: ir.Program, name: str, leaves: dict[str, None]) -> None:
    node = program.binding(name).node
    if isinstance(node, (ir.Select, ir.SelectClosest)):
        leaves[name] = None
    elif isinstance(node, (ir.SelectorAnd, ir.SelectorOr)):
        _collect_leaves(program, node.left, leaves)
        _collect_leaves(program, node.right, leaves)
    elif isinstance(node, ir.SelectorNot):
        _collect_leaves(program, node.operand, leaves)


def _holds(program: ir.Program, name: str, assignment: dict[str, bool]) -> bool:
    node = program.binding(name).node
    if isinstance(node, ir.SelectorAnd):
        return _holds(program, node.left, assignment) and _holds(program, node.right, assignment)
    if isinstance(node, ir.SelectorOr):
        return _holds(program, node.left, assignment) or _holds(program, node.right, assignment)
    if isinstance(node, ir.SelectorNot):
        return not _holds(program, node.operand, assignment)
    return assignment[name]


def _reduce_step(
    program: ir.Program,
    binding: ir.Binding,
    node: ir.Aggregate | ir.SelectorWidth,
    sets: dict[str, tuple[Value, ...]],
    leaves: dict[str, Leaf],
) -> ReduceStep:
    selector = selector_plan(program, node.selector)
    positions = _key_positions(selector, leaves, len(sets["indices"]))
    if isinstance(node, ir.SelectorWidth):
        return ReduceStep(binding.name, "width", selector, key_positions=positions)
    out_codes = code_of(sets[binding.name])
    default = out_codes.get(value_key(node.default), 0)
    kind = node.reduce
    if kind == "mean":
        kind = f"mean_{mean_mode(program, node)}"
    if kind in ("sum", "mean_num"):
        numbers = _numbers(binding, sets[node.sop], sets[binding.name], sets["indices"])
        numbers = _with_table(numbers, kind, len(sets["indices"]), default)
        return ReduceStep(binding.name, kind, selector, node.sop, None, default, numbers, positions)
    translate = np.array([out_codes[value_key(v)] for v in sets[node.sop]], dtype=np.int64)
    return ReduceStep(binding.name, kind, selector, node.sop, translate, default, None, positions)


def _key_positions(selector: SelectorPlan, leaves: dict[str, Leaf], none: int) -> Codes | None:
    """For a selector that is one ``select`` with ``indices`` as keys (whose codes are the
    positions) and at most one true key per query in its table: the position each query code
    picks, ``none`` where it picks none. None for any other selector."""
    if len(selector.leaves) != 1 or selector.truth.tolist() != [False, True]:
        return None
    leaf = leaves[selector.leaves[0]]
    if leaf.closest or leaf.keys != "indices" or bool((leaf.table.sum(axis=0) > 1).any()):
        return None
    picked = np.where(leaf.table.any(axis=0), leaf.table.argmax(axis=0), none)
    return picked.astype(np.int64)


def _numbers(
    binding: ir.Binding,
    sop_set: tuple[Value, ...],
    out_set: tuple[Value, ...],
    positions: tuple[Value, ...],
) -> Numbers:
    """Scaled integer weights of the sop and the result set as exact fractions."""
    values = [Fraction(v) if isinstance(v, (int, Fraction)) else Fraction(0) for v in sop_set]
    scale = math.lcm(*(x.denominator for x in values)) if values else 1
    weights = np.array([int(x * scale) for x in values], dtype=object)
    results = sorted(
        (Fraction(v), code)
        for code, v in enumerate(out_set)
        if isinstance(v, (int, Fraction)) and not isinstance(v, bool)
    )
    width = max(len(positions), 1)
    largest_weight = max((abs(int(w)) for w in weights), default=0) * width
    largest_result = max((abs(x.numerator) for x, _ in results), default=0)
    largest_denominator = max((x.denominator for x, _ in results), default=1)
    if max(largest_weight * largest_denominator, largest_result * width * scale) >= INT64_SAFE:
        raise RaspError.single(
            "unsupported",
            f"aggregate {binding.name!r} needs numbers beyond 64-bit integers, which the "
            "triton backend does not support",
            binding.span,
            "use the python or torch backend for this program",
        )
    return Numbers(
        weights=np.array(weights.tolist(), dtype=np.int64),
        scale=scale,
        numerators=np.array([x.numerator for x, _ in results], dtype=np.int64),
        denominators=np.array([x.denominator for x, _ in results], dtype=np.int64),
        codes=np.array([code for _, code in results], dtype=np.int64),
    )


def _with_table(numbers: Numbers, kind: str, width: int, default: int) -> Numbers:
    """``numbers`` with its (count, total) table (see :class:`Numbers`) when that has at most
    :data:`NUMBER_TABLE_LIMIT` entries: each result value is placed at every count whose
    total it can be, so building it costs results x counts, not entries."""
    weights = numbers.weights.tolist()
    low = width * min(0, *weights) if weights else 0
    high = width * max(0, *weights) if weights else 0
    span = high - low + 1
    rows = width + 1 if kind == "mean_num" else 2
    if rows * span > NUMBER_TABLE_LIMIT:
        return numbers
    table = np.full((rows, span), -1, dtype=np.int64)
    table[0] = default
    pairs = zip(numbers.numerators.tolist(), numbers.denominators.tolist(), strict=True)
    for (numerator, denominator), code in zip(pairs, numbers.codes.tolist(), strict=True):
        for row in range(1, rows):
            divisor = row * numbers.scale if kind == "mean_num" else numbers.scale
            total, remainder = divmod(numerator * divisor, denominator)
            if remainder == 0 and low <= total <= high:
                table[row, total - low] = code
    return replace(numbers, table=table.reshape(-1), span=span, low=low)
