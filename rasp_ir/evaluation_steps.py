"""A binding and its program's prepared tables in, a *step* out: the function that evaluates the
binding on one batch, giving codes ``batch x length`` for an s-op or booleans ``batch x queries
x keys`` for a selector.

Binding a step does once what does not depend on the batch (rules, tables, ranks, the codes of
defaults and results), so that a step is only its few array operations. On one short input each
numpy operation costs a microsecond or more whatever its size, so the steps also avoid the
operations they can (no mask where the batch has no padding, one lookup table for an aggregate's
result and its empty rows). A map that fails to tabulate fails when its step is bound, which is
when the binding is first evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.diagnostics import RaspError
from rasp_ir.expr import ExprError, apply_lambda
from rasp_ir.ir import (
    Aggregate,
    Binding,
    Full,
    Map,
    Node,
    PooledVote,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.prepared import INT64_SAFE, PreparedTables
from rasp_ir.tables import ValueKey, distinct_inputs, map_error
from rasp_ir.term_columns import Coded, evaluate_columns
from rasp_ir.values import Value, describe_value, normalize_number, value_key
from rasp_ir.valuesets import mean_mode
from rasp_ir.vote_scores import scaled_scores, vote_inputs

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
# Below this many selector cells a plain sum counts fastest; above, einsum (about 2x on 2^16
# inputs of length 9).
SMALL_SELECTOR = 1 << 12


class BatchState:
    """What the steps read and write while one batch is evaluated: ``lengths`` (positions per
    example, BOS included), the padded ``width``, and the codes and selectors computed so far."""

    def __init__(self, lengths: npt.NDArray[np.int64], width: int, causal: bool) -> None:
        self.lengths = lengths
        self.width = width
        self.shape = (len(lengths), width)
        self.causal = causal
        self.full = is_full(lengths, width)
        self.masks = causal or not self.full
        self.codes: dict[str, Codes] = {}
        self.selectors: dict[str, Mask] = {}
        self._valid: Mask | None = None
        self._allowed: Mask | None = None

    @property
    def valid(self) -> Mask:
        """Which positions of each example are real (not padding), ``batch x width``."""
        if self._valid is None:
            self._valid = np.arange(self.width)[None, :] < self.lengths[:, None]
        return self._valid

    @property
    def allowed(self) -> Mask:
        """Which (query, key) pairs a selector may select: both real, key not after query
        when causal."""
        if self._allowed is None:
            allowed = self.valid[:, :, None] & self.valid[:, None, :]
            if self.causal:
                allowed &= np.tri(self.width, dtype=np.bool_)[None]
            self._allowed = allowed
        return self._allowed

    def indices(self) -> Codes:
        """The codes of ``indices``: 0..P-1 in every example."""
        return np.arange(self.width, dtype=np.int64)[None, :].repeat(self.shape[0], axis=0)

    def length(self) -> Codes:
        """The codes of ``length`` (1..P): the example's positions less one, or the prefix's
        (``indices``) when causal."""
        if self.causal:
            return self.indices()
        length = np.empty(self.shape, dtype=np.int64)
        if self.full:
            length.fill(self.width - 1)
        else:
            length[:] = np.maximum(self.lengths - 1, 0)[:, None]
        return length


def is_full(lengths: npt.NDArray[np.int64], width: int) -> bool:
    """Whether no example is padded (one example: read directly, a reduction costs more)."""
    if len(lengths) == 1:
        return int(lengths[0]) == width
    return len(lengths) == 0 or int(lengths.min()) == width


Step = Callable[[BatchState], npt.NDArray[Any]]


class StepContext:
    """What binding a step reads: the program, its value sets and its prepared tables."""

    def __init__(self, program: Program, tables: PreparedTables) -> None:
        self.program = program
        self.sets = tables.sets
        self.tables = tables


Binder = Callable[[StepContext, Binding], Step]


def count(selector: Mask) -> Codes:
    """Selected keys per query."""
    if selector.size < SMALL_SELECTOR:
        small: Codes = selector.sum(axis=-1, dtype=np.int64)
        return small
    counts: Codes = np.einsum("bij->bi", selector, dtype=np.int64)
    return counts


def _largest(values: Codes) -> int:
    """The largest of ``values``, at least 0 (small arrays through a list: a numpy reduction
    costs more than the work)."""
    if values.size < SMALL_SELECTOR:
        return max(values.ravel().tolist(), default=0)
    return int(values.max(initial=0))


def _bind_full(context: StepContext, binding: Binding) -> Step:
    def full(state: BatchState) -> Codes:
        return np.zeros(state.shape, dtype=np.int64)

    return full


def _bind_map(context: StepContext, binding: Binding) -> Step:
    """A table lookup; maps too large to tabulate are evaluated on the combinations seen."""
    assert isinstance(binding.node, Map)
    names = distinct_inputs(binding.node)
    table = context.tables.map_table(binding)
    if table is None:
        return lambda state: _map_observed(context, state, binding, names)
    if not names:
        constant = int(table[()])

        def constant_map(state: BatchState) -> Codes:
            out = np.empty(state.shape, dtype=np.int64)
            out.fill(constant)
            return out

        return constant_map
    if len(names) == 1:
        (name,) = names
        return lambda state: table[state.codes[name]]
    return lambda state: table[tuple(state.codes[name] for name in names)]


def _map_observed(
    context: StepContext, state: BatchState, binding: Binding, names: tuple[str, ...]
) -> Codes:
    """A map too large to tabulate, evaluated on the distinct input combinations seen: all at
    once where :mod:`rasp_ir.term_columns` covers the function, else one at a time."""
    stacked = np.stack([state.codes[name] for name in names], axis=-1)
    flat = stacked.reshape(-1, len(names))
    combos, inverse = np.unique(flat, axis=0, return_inverse=True)
    results = _map_columns(context, binding, names, combos)
    if results is None:
        results = _map_one_by_one(context, binding, names, combos)
    out: Codes = results[inverse.reshape(-1)].reshape(stacked.shape[:-1])
    return out


def _map_columns(
    context: StepContext, binding: Binding, names: tuple[str, ...], combos: Codes
) -> Codes | None:
    """The map's result codes on ``combos`` by column-wise evaluation; None when the function
    is not covered, an input is ``none`` or an evaluation fails (the caller then evaluates one
    combination at a time and reports the failure)."""
    node = binding.node
    assert isinstance(node, Map)
    undefined = [context.tables.none_code(n) for n in names]
    if any(u is not None and bool((combos[:, i] == u).any()) for i, u in enumerate(undefined)):
        return None
    columns = {n: Coded(combos[:, i], context.sets[n]) for i, n in enumerate(names)}
    params = {p: columns[name] for p, name in zip(node.fn.params, node.inputs, strict=True)}
    try:
        result = evaluate_columns(node.fn.body, params)
    except ExprError:
        return None
    if result is None:
        return None
    codes = context.tables.codes(binding.name)
    table = np.array([_result_code(codes, binding, v) for v in result.values], dtype=np.int64)
    return table[result.codes] if len(table) else np.zeros(len(combos), dtype=np.int64)


def _map_one_by_one(
    context: StepContext, binding: Binding, names: tuple[str, ...], combos: Codes
) -> Codes:
    """The map's result codes on ``combos``, applying the function to each in turn."""
    node = binding.node
    assert isinstance(node, Map)
    codes = context.tables.codes(binding.name)
    results = np.zeros(len(combos), dtype=np.int64)
    for row, combo in enumerate(combos.tolist()):
        by_name = {n: context.sets[n][c] for n, c in zip(names, combo, strict=True)}
        args = tuple(by_name[name] for name in node.inputs)
        if any(a is None for a in args):
            value = node.default
        else:
            try:
                value = apply_lambda(node.fn, args)
            except ExprError as error:
                raise RaspError([map_error(binding, args, str(error))]) from error
        results[row] = _result_code(codes, binding, value)
    return results


def _result_code(codes: dict[ValueKey, int], binding: Binding, value: Value) -> int:
    """The code of a map's result in its value set (``codes``); raises when it is outside."""
    code = codes.get(value_key(value))
    if code is None:
        raise RaspError.single(
            "map-value",
            f"map {binding.name!r} gives {describe_value(value)}, outside its value set",
            binding.span,
        )
    return code


def _bind_matches(context: StepContext, binding: Binding) -> Step:
    """``predicate(key_j, query_i)`` on allowed pairs; raises on an undefined key or query."""
    node = binding.node
    assert isinstance(node, (Select, SelectClosest))
    undefined = context.tables.undefined_operands(binding)
    keys, queries = node.keys, node.queries
    ranked = context.tables.rank_comparison(binding)
    if ranked is not None:
        compare, key_ranks, query_ranks = ranked
        keys_are_ranks = _is_identity(key_ranks)
        queries_are_ranks = _is_identity(query_ranks)

        def pairs(codes: dict[str, Codes]) -> Mask:
            key_side = codes[keys] if keys_are_ranks else key_ranks[codes[keys]]
            query_side = codes[queries] if queries_are_ranks else query_ranks[codes[queries]]
            found: Mask = compare(key_side[:, None, :], query_side[:, :, None])
            return found

    else:
        table = context.tables.predicate_table(binding)
        query_count = len(context.sets[queries])

        def pairs(codes: dict[str, Codes]) -> Mask:
            cells = (codes[keys] * query_count)[:, None, :] + codes[queries][:, :, None]
            found: Mask = table.take(cells)
            return found

    def matches(state: BatchState) -> Mask:
        for role, name, none_code in undefined:
            _refuse_undefined(state, binding, role, name, none_code)
        found = pairs(state.codes)
        if state.masks:
            found &= state.allowed
        return found

    return matches


def _is_identity(ranks: npt.NDArray[np.int64]) -> bool:
    """Whether ``ranks[c] == c`` for every code (the lookup can be skipped)."""
    return bool((ranks == np.arange(len(ranks))).all())


def _refuse_undefined(
    state: BatchState, binding: Binding, role: str, name: str, none_code: int
) -> None:
    """Raise ``undefined-select`` when ``name`` is none at a real position."""
    hits = np.argwhere((state.codes[name] == none_code) & state.valid)
    if len(hits):
        b, i = (int(x) for x in hits[0])
        raise RaspError.single(
            "undefined-select",
            f"select {binding.name!r} compares an undefined {role} ({name!r} is none at "
            f"example {b} position {i})",
            binding.span,
            f"give {name!r} a default so that it is defined everywhere",
        )


def _bind_select_closest(context: StepContext, binding: Binding) -> Step:
    """The nearest match other than the query itself, left wins ties; the query only when it
    is the sole match; position 0 (BOS) or nothing when there is no match."""
    matches = _bind_matches(context, binding)
    has_bos = context.program.header.bos is not None

    def select_closest(state: BatchState) -> Mask:
        found: Mask = matches(state)
        width = state.width
        if width == 0:
            return found
        positions = np.arange(width)
        offset = positions[None, :] - positions[:, None]
        rank = 2 * np.abs(offset) + (offset > 0) + 4 * width * (offset == 0)
        scores = np.where(found, rank[None], 4 * width + 1)
        any_match = count(found) > 0
        if has_bos:
            chosen, rows = np.where(any_match, scores.argmin(axis=-1), 0), state.valid
        else:
            chosen, rows = scores.argmin(axis=-1), any_match
        picked: Mask = (positions[None, None, :] == chosen[:, :, None]) & rows[:, :, None]
        return picked

    return select_closest


def _bind_selector_and(context: StepContext, binding: Binding) -> Step:
    node = binding.node
    assert isinstance(node, SelectorAnd)
    left, right = node.left, node.right
    return lambda state: state.selectors[left] & state.selectors[right]


def _bind_selector_or(context: StepContext, binding: Binding) -> Step:
    node = binding.node
    assert isinstance(node, SelectorOr)
    left, right = node.left, node.right
    return lambda state: state.selectors[left] | state.selectors[right]


def _bind_selector_not(context: StepContext, binding: Binding) -> Step:
    node = binding.node
    assert isinstance(node, SelectorNot)
    operand = node.operand
    return lambda state: ~state.selectors[operand] & state.allowed


def _bind_selector_width(context: StepContext, binding: Binding) -> Step:
    node = binding.node
    assert isinstance(node, SelectorWidth)
    selector = node.selector
    return lambda state: count(state.selectors[selector])


def _bind_aggregate(context: StepContext, binding: Binding) -> Step:
    node = binding.node
    assert isinstance(node, Aggregate)
    numeric = node.reduce == "sum" or (
        node.reduce == "mean" and mean_mode(context.program, node) == "num"
    )
    if numeric:
        return _bind_numeric_aggregate(context, binding, node)
    return _bind_categorical_aggregate(context, binding, node)


def _empty_row_code(context: StepContext, binding: Binding, node: Aggregate) -> int | None:
    """The code of the aggregate's default in its own set (None when it is not there)."""
    return context.tables.codes(binding.name).get(value_key(node.default))


def _check_no_empty_row(state: BatchState, binding: Binding, live: Mask) -> None:
    """An aggregate whose default is outside its set must select a key at every real position
    (value-set inference guarantees it)."""
    if bool((~live & state.valid).any()):
        raise AssertionError(f"aggregate {binding.name!r}: empty row but no default in its set")


def _bind_categorical_aggregate(context: StepContext, binding: Binding, node: Aggregate) -> Step:
    """Categorical mean, max and min on codes (a set is sorted, so codes order like values).

    Each reduction gives a *pick* per query, 0 on an empty row and ``1 + the code`` otherwise
    (for min, ``size - code``), so one lookup gives the result code with the default's code on
    empty rows.
    """
    sop_name, selector_name, reduce = node.sop, node.selector, node.reduce
    size = len(context.sets[node.sop])
    translate = context.tables.translation(binding)
    default = _empty_row_code(context, binding, node)
    empty = 0 if default is None else default
    ordered = translate[::-1] if node.reduce == "min" else translate
    results: Codes = np.concatenate([np.array([empty], dtype=np.int64), ordered])

    def categorical(state: BatchState) -> Codes:
        selector, sop = state.selectors[selector_name], state.codes[sop_name]
        if reduce == "mean":
            pick = _common_pick(binding, node, selector, sop, size, context.sets[node.sop])
        elif reduce == "max":
            pick = _masked_max(selector, sop + 1, size)
        else:
            pick = _masked_max(selector, size - sop, size)
        if default is None:
            _check_no_empty_row(state, binding, pick > 0)
        result: Codes = results[pick]
        return result

    return categorical


def _masked_max(selector: Mask, positive: Codes, bound: int) -> Codes:
    """The largest ``positive`` value (each at most ``bound``) over the selected keys of each
    query (0 on empty rows)."""
    small = positive.astype(np.int32 if bound < 2**31 else np.int64)
    high: Codes = (selector * small[:, None, :]).max(axis=-1, initial=0).astype(np.int64)
    return high


def _common_pick(
    binding: Binding,
    node: Aggregate,
    selector: Mask,
    sop: Codes,
    size: int,
    sop_set: tuple[Value, ...],
) -> Codes:
    """``1 +`` the code all selected keys share (0 on empty rows); raises ``cat-mean`` where
    they differ.

    Shifted codes ``c + 1`` are all equal exactly when ``count * sum(c^2) == sum(c)^2``
    (Cauchy-Schwarz), which three integer contractions decide; when those could overflow,
    compare the masked max and min.
    """
    counts = count(selector)
    shifted = sop + 1
    if ((size + 1) * selector.shape[-1]) ** 2 < INT64_SAFE:
        total: Codes = np.einsum("bij,bj->bi", selector, shifted)
        if _largest(counts) <= 1:
            return total
        squares: Codes = np.einsum("bij,bj->bi", selector, shifted * shifted)
        clash = np.argwhere((counts > 0) & (counts * squares != total * total))
        common = total // np.maximum(counts, 1)
    else:
        common = _masked_max(selector, shifted, size)
        lowest = size + 1 - _masked_max(selector, size - sop, size)
        clash = np.argwhere((counts > 0) & (common != lowest))
    if len(clash):
        b, i = (int(x) for x in clash[0])
        chosen = sop[b, selector[b, i]]
        low, high = sop_set[int(chosen.min())], sop_set[int(chosen.max())]
        raise RaspError.single(
            "cat-mean",
            f"categorical aggregate {binding.name!r} averages distinct values "
            f"{describe_value(low)} and {describe_value(high)} at example {b} position {i}; "
            "make the selector select one key, or annotate the value num",
            binding.span,
            f"select a single key, or make {node.sop!r} num",
        )
    return common


def _bind_numeric_aggregate(context: StepContext, binding: Binding, node: Aggregate) -> Step:
    """Exact mean or sum: integer sums of values scaled by the lcm of their denominators,
    turned into codes once per distinct (count, sum)."""
    out_codes = context.tables.codes(binding.name)
    default = _empty_row_code(context, binding, node)
    tables = context.tables

    def numeric(state: BatchState) -> Codes:
        selector = state.selectors[node.selector]
        counts = count(selector)
        live = counts > 0
        if default is None:
            _check_no_empty_row(state, binding, live)
        result = np.full(live.shape, 0 if default is None else default, dtype=np.int64)
        scale, scaled = tables.scaled_numbers(node.sop, state.width)
        weights: npt.NDArray[Any] = scaled[state.codes[node.sop]]
        if scaled.dtype == object:
            sums = (selector * weights[:, None, :]).sum(axis=-1)
        else:
            sums = np.einsum("bij,bj->bi", selector, weights)
        if node.reduce == "sum":
            groups = [(live, scale)]
        else:
            groups = [(live & (counts == k), int(k) * scale) for k in np.unique(counts[live])]
        for rows, divisor in groups:
            distinct, inverse = np.unique(sums[rows], return_inverse=True)
            lookup = [
                out_codes[value_key(normalize_number(Fraction(int(s), divisor)))] for s in distinct
            ]
            result[rows] = np.array(lookup, dtype=np.int64)[inverse.reshape(-1)]
        return result

    return numeric


def _bind_pooled_vote(context: StepContext, binding: Binding) -> Step:
    """The first label with the largest exact score sum over each query's selected keys (the
    largest mean: one query's means share a divisor); the default on empty rows. Scores are
    evaluated once per distinct input combination at real positions, never tabulated."""
    node = binding.node
    assert isinstance(node, PooledVote)
    names = vote_inputs(node)
    out_codes = context.tables.codes(binding.name)
    label_codes = np.array([out_codes[value_key(v)] for v in node.labels], dtype=np.int64)

    def pooled_vote(state: BatchState) -> Codes:
        if names:
            stacked = np.stack([state.codes[name] for name in names], axis=-1)
            combos, inverse = np.unique(stacked[state.valid], axis=0, return_inverse=True)
        else:  # no inputs: one combination, the empty one
            combos = np.zeros((1, 0), dtype=np.int64)
            inverse = np.zeros(int(state.valid.sum()), dtype=np.int64)
        columns = {n: Coded(combos[:, i], context.sets[n]) for i, n in enumerate(names)}
        table = scaled_scores(binding, columns, len(combos), state.width)
        scores = np.zeros((*state.shape, len(node.labels)), dtype=table.dtype)
        scores[state.valid] = table[inverse.reshape(-1)]
        selector = state.selectors[node.selector]
        if table.dtype == object:
            totals = selector.astype(object) @ scores
        else:
            totals = np.einsum("bij,bjc->bic", selector.astype(np.int64), scores)
        result: Codes = label_codes[totals.argmax(axis=-1)]
        empty = (count(selector) == 0) & state.valid
        if bool(empty.any()):
            result[empty] = out_codes[value_key(node.default)]
        return result

    return pooled_vote


SOP_BINDERS: dict[type[Node], Binder] = {
    Full: _bind_full,
    Map: _bind_map,
    SelectorWidth: _bind_selector_width,
    Aggregate: _bind_aggregate,
    PooledVote: _bind_pooled_vote,
}
SELECTOR_BINDERS: dict[type[Node], Binder] = {
    Select: _bind_matches,
    SelectClosest: _bind_select_closest,
    SelectorAnd: _bind_selector_and,
    SelectorOr: _bind_selector_or,
    SelectorNot: _bind_selector_not,
}
