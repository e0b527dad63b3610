"""The reference interpreter: a program and a batch of token sequences in, every binding's values
out, exactly. It is the oracle every backend is checked against.

Execution is vectorised over the batch: an s-op is an integer array of *codes* (indices into its
inferred value set, shape ``batch x length``), a selector a boolean array ``batch x queries x
keys``. Maps and predicates are looked up in tables built once per program
(:mod:`rasp_ir.tables`), numerical aggregates sum scaled integers, so no value is ever rounded.
Ragged batches are padded to the longest example; padded keys are never selected and padded
positions never raise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from rasp_ir.diagnostics import RaspError, errors_only
from rasp_ir.expr import ExprError, apply_lambda
from rasp_ir.ir import (
    Aggregate,
    Binding,
    Full,
    Map,
    Node,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.rules import rule_for
from rasp_ir.tables import (
    ValueKey,
    code_of,
    distinct_inputs,
    map_error,
    map_table,
    none_code,
    predicate_table,
)
from rasp_ir.term_columns import Coded, evaluate_columns
from rasp_ir.values import Value, describe_value, normalize_number, value_key
from rasp_ir.valuesets import ENUMERATION_LIMIT, ValueSetResult, infer_value_sets, mean_mode

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
INT64_SAFE = 1 << 62


class Evaluation:
    """Every binding's values on a batch: codes for s-ops, boolean matrices for selectors."""

    def __init__(
        self,
        program: Program,
        value_sets: dict[str, tuple[Value, ...]],
        lengths: npt.NDArray[np.int64],
        codes: dict[str, Codes],
        selectors: dict[str, Mask],
    ) -> None:
        self.program = program
        self.lengths = lengths
        self._sets = value_sets
        self._codes = codes
        self._selectors = selectors

    def codes(self, name: str) -> Codes:
        """Codes of an s-op, shape ``batch x length`` (padded positions hold arbitrary codes)."""
        return self._codes[name]

    def value_set(self, name: str) -> tuple[Value, ...]:
        """The value set the codes of ``name`` index into."""
        return self._sets[name]

    def values(self, name: str) -> list[list[Value]]:
        """The values of an s-op, one list per example, as long as that example (BOS included)."""
        table = np.empty(len(self._sets[name]), dtype=object)
        table[:] = list(self._sets[name])
        rows: list[list[Value]] = table[self._codes[name]].tolist()
        if bool((self.lengths == self._codes[name].shape[1]).all()):
            return rows
        return [row[:n] for row, n in zip(rows, self.lengths.tolist(), strict=True)]

    def selector(self, name: str) -> Mask:
        """A selector as booleans ``batch x queries x keys``, causal and padding masks applied."""
        return self._selectors[name]

    def outputs(self) -> dict[str, list[list[Value]]]:
        """The values of the program's s-op outputs (selector outputs: see :meth:`selector`)."""
        return {name: self.values(name) for name in self.program.outputs if name in self._codes}


def run(program: Program, tokens: Sequence[Value]) -> dict[str, list[Value]]:
    """The program's outputs on one input (content tokens; BOS is prepended when declared)."""
    evaluation = interpret(program, [tokens])
    return {name: values[0] for name, values in evaluation.outputs().items()}


def interpret(
    program: Program,
    inputs: Sequence[Sequence[Value]],
    *,
    value_sets: ValueSetResult | None = None,
) -> Evaluation:
    """Evaluate every binding of ``program`` on a batch of content-token sequences.

    Raises :class:`RaspError` when value-set inference reports errors, when an input has a
    token outside the vocabulary (``input-token``) or too many tokens (``input-length``), and
    on run-time errors: an undefined key or query (``undefined-select``), a categorical mean of
    distinct values (``cat-mean``).
    """
    inferred = value_sets if value_sets is not None else infer_value_sets(program)
    if errors_only(inferred.diagnostics):
        raise RaspError(inferred.diagnostics)
    positions = program.header.positions
    if inferred.sets["indices"] != tuple(range(positions)) or inferred.sets["length"] != tuple(
        range(1, positions + 1)
    ):
        raise ValueError("value sets of indices and length must be those infer_value_sets gives")
    tokens, lengths = _encode_inputs(program, inferred.sets["tokens"], inputs)
    state = _State(program, inferred.sets, lengths, tokens.shape[1])
    state.codes["tokens"] = tokens
    state.codes.update(_position_codes(state))
    for binding in program.bindings:
        if type(binding.node) in _SELECTOR_RULES:
            state.selectors[binding.name] = _SELECTOR_RULES[type(binding.node)](state, binding)
        else:
            rule = rule_for(_SOP_RULES, binding, "the reference interpreter")
            state.codes[binding.name] = rule(state, binding)
    return Evaluation(program, dict(inferred.sets), lengths, state.codes, state.selectors)


@dataclass
class _State:
    """What the rules read and write while one batch is evaluated."""

    program: Program
    sets: dict[str, tuple[Value, ...]]
    lengths: npt.NDArray[np.int64]
    width: int

    def __post_init__(self) -> None:
        positions = np.arange(self.width)
        self.valid: Mask = positions[None, :] < self.lengths[:, None]
        allowed = self.valid[:, :, None] & self.valid[:, None, :]
        if self.program.header.causal:
            allowed &= np.tri(self.width, dtype=np.bool_)[None]
        self.allowed: Mask = allowed
        self.masks = self.program.header.causal or not bool(self.valid.all())
        self.codes: dict[str, Codes] = {}
        self.selectors: dict[str, Mask] = {}


def _encode_inputs(
    program: Program, token_set: tuple[Value, ...], inputs: Sequence[Sequence[Value]]
) -> tuple[Codes, npt.NDArray[np.int64]]:
    """Token codes ``batch x length`` (BOS prepended) and positions per example."""
    header = program.header
    content = np.fromiter(map(len, inputs), dtype=np.int64, count=len(inputs))
    too_long = np.flatnonzero(content > header.max_len)
    if len(too_long):
        b = int(too_long[0])
        raise RaspError.single(
            "input-length",
            f"example {b} has {content[b]} tokens, more than max_len {header.max_len}",
            hint="shorten the input or raise max_len in the program header",
        )
    vocab = {value_key(v) for v in header.vocab}
    codes = {k: c for k, c in code_of(token_set).items() if k in vocab}
    flat = list(chain.from_iterable(inputs))
    by_token = {v: codes[value_key(v)] for v in header.vocab}
    # Plain dict lookup is exact unless a boolean meets a number (Python has True == 1): never
    # with an all-string vocabulary, and not when neither side holds booleans.
    only_strings = all(isinstance(v, str) for v in header.vocab)
    if only_strings or (
        set(map(type, flat)) <= {str, int, Fraction}
        and not any(isinstance(v, bool) for v in header.vocab)
    ):
        lookup: Callable[[Value], int] = by_token.__getitem__
    else:
        lookup = lambda token: codes[value_key(token)]  # noqa: E731
    try:
        found = np.fromiter(map(lookup, flat), dtype=np.int64, count=len(flat))
    except (KeyError, TypeError):
        _raise_input_token(program, inputs, codes)
    offset = 0 if header.bos is None else 1
    lengths = content + offset
    width = int(lengths.max()) if len(lengths) else 0
    positions = np.arange(width)[None, :]
    token_codes = np.zeros((len(inputs), width), dtype=np.int64)
    token_codes[(positions >= offset) & (positions < lengths[:, None])] = found
    if header.bos is not None:
        token_codes[:, 0] = code_of(token_set)[value_key(header.bos)]
    return token_codes, lengths


def _raise_input_token(
    program: Program, inputs: Sequence[Sequence[Value]], codes: dict[ValueKey, int]
) -> NoReturn:
    """Raise ``input-token`` for the first token outside the vocabulary."""
    for b, example in enumerate(inputs):
        for position, token in enumerate(example):
            try:
                known = value_key(token) in codes
            except TypeError:
                known = False
            if not known:
                is_value = token is None or isinstance(token, (str, int, Fraction))
                shown = describe_value(token) if is_value else repr(token)
                vocab = ", ".join(describe_value(v) for v in program.header.vocab)
                raise RaspError.single(
                    "input-token",
                    f"token {shown} at example {b} position {position} is not in the "
                    f"vocabulary ({vocab})",
                    hint="add the token to the program's vocab or fix the input",
                )
    raise AssertionError("no token outside the vocabulary")


def _position_codes(state: _State) -> dict[str, Codes]:
    """Codes of ``indices`` (0..P-1) and ``length`` (1..P, prefix length when causal)."""
    batch = len(state.lengths)
    indices = np.broadcast_to(np.arange(state.width, dtype=np.int64), (batch, state.width))
    if state.program.header.causal:
        length = indices
    else:
        n = np.maximum(state.lengths - 1, 0)[:, None]
        length = np.broadcast_to(n, (batch, state.width))
    return {"indices": indices, "length": length}


def _full(state: _State, binding: Binding) -> Codes:
    return np.zeros((len(state.lengths), state.width), dtype=np.int64)


def _map(state: _State, binding: Binding) -> Codes:
    assert isinstance(binding.node, Map)
    names = distinct_inputs(binding.node)
    input_sets = [state.sets[name] for name in names]
    if math.prod(len(s) for s in input_sets) > ENUMERATION_LIMIT:
        return _map_observed(state, binding, names)
    table = map_table(binding, input_sets, state.sets[binding.name])
    if not names:
        return np.full((len(state.lengths), state.width), table[()], dtype=np.int64)
    return table[tuple(state.codes[name] for name in names)]


def _map_observed(state: _State, binding: Binding, names: tuple[str, ...]) -> Codes:
    """A map too large to tabulate, evaluated on the distinct input combinations seen: all at
    once where :mod:`rasp_ir.term_columns` covers the function, else one at a time."""
    stacked = np.stack([state.codes[name] for name in names], axis=-1)
    flat = stacked.reshape(-1, len(names))
    combos, inverse = np.unique(flat, axis=0, return_inverse=True)
    results = _map_columns(state, binding, names, combos)
    if results is None:
        results = _map_one_by_one(state, binding, names, combos)
    out: Codes = results[inverse.reshape(-1)].reshape(stacked.shape[:-1])
    return out


def _map_columns(
    state: _State, binding: Binding, names: tuple[str, ...], combos: Codes
) -> Codes | None:
    """The map's result codes on ``combos`` by column-wise evaluation; None when the function
    is not covered, an input is ``none`` or an evaluation fails (the caller then evaluates one
    combination at a time and reports the failure)."""
    node = binding.node
    assert isinstance(node, Map)
    undefined = [none_code(state.sets[n]) for n in names]
    if any(u is not None and bool((combos[:, i] == u).any()) for i, u in enumerate(undefined)):
        return None
    columns = {n: Coded(combos[:, i], state.sets[n]) for i, n in enumerate(names)}
    params = {p: columns[name] for p, name in zip(node.fn.params, node.inputs, strict=True)}
    try:
        result = evaluate_columns(node.fn.body, params)
    except ExprError:
        return None
    if result is None:
        return None
    codes = code_of(state.sets[binding.name])
    table = np.array([_result_code(codes, binding, v) for v in result.values], dtype=np.int64)
    return table[result.codes] if len(table) else np.zeros(len(combos), dtype=np.int64)


def _map_one_by_one(
    state: _State, binding: Binding, names: tuple[str, ...], combos: Codes
) -> Codes:
    """The map's result codes on ``combos``, applying the function to each in turn."""
    node = binding.node
    assert isinstance(node, Map)
    codes = code_of(state.sets[binding.name])
    results = np.zeros(len(combos), dtype=np.int64)
    for row, combo in enumerate(combos.tolist()):
        by_name = {n: state.sets[n][c] for n, c in zip(names, combo, strict=True)}
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


def _matches(state: _State, binding: Binding) -> Mask:
    """``predicate(key_j, query_i)`` on allowed pairs; raises on an undefined key or query."""
    node = binding.node
    assert isinstance(node, (Select, SelectClosest))
    for role, name in (("key", node.keys), ("query", node.queries)):
        undefined = none_code(state.sets[name])
        if undefined is None:
            continue
        hits = np.argwhere((state.codes[name] == undefined) & state.valid)
        if len(hits):
            b, i = (int(x) for x in hits[0])
            raise RaspError.single(
                "undefined-select",
                f"select {binding.name!r} compares an undefined {role} ({name!r} is none at "
                f"example {b} position {i})",
                binding.span,
                f"give {name!r} a default so that it is defined everywhere",
            )
    table = predicate_table(
        node.predicate, state.sets[node.keys], state.sets[node.queries], span=binding.span
    )
    keys, queries = state.codes[node.keys], state.codes[node.queries]
    pairs = (keys * table.shape[1])[:, None, :] + queries[:, :, None]
    matches: Mask = np.take(table.ravel(), pairs)
    if state.masks:
        matches &= state.allowed
    return matches


def _select(state: _State, binding: Binding) -> Mask:
    return _matches(state, binding)


def _select_closest(state: _State, binding: Binding) -> Mask:
    """The nearest match other than the query itself, left wins ties; the query only when it
    is the sole match; position 0 (BOS) or nothing when there is no match."""
    matches = _matches(state, binding)
    if state.width == 0:
        return matches
    positions = np.arange(state.width)
    offset = positions[None, :] - positions[:, None]
    rank = 2 * np.abs(offset) + (offset > 0) + 4 * state.width * (offset == 0)
    scores = np.where(matches, rank[None], 4 * state.width + 1)
    found = _count(matches) > 0
    if state.program.header.bos is None:
        chosen, rows = scores.argmin(axis=-1), found
    else:
        chosen, rows = np.where(found, scores.argmin(axis=-1), 0), state.valid
    picked: Mask = (positions[None, None, :] == chosen[:, :, None]) & rows[:, :, None]
    return picked


def _selector_and(state: _State, binding: Binding) -> Mask:
    assert isinstance(binding.node, SelectorAnd)
    return state.selectors[binding.node.left] & state.selectors[binding.node.right]


def _selector_or(state: _State, binding: Binding) -> Mask:
    assert isinstance(binding.node, SelectorOr)
    return state.selectors[binding.node.left] | state.selectors[binding.node.right]


def _selector_not(state: _State, binding: Binding) -> Mask:
    assert isinstance(binding.node, SelectorNot)
    return ~state.selectors[binding.node.operand] & state.allowed


def _selector_width(state: _State, binding: Binding) -> Codes:
    assert isinstance(binding.node, SelectorWidth)
    return _count(state.selectors[binding.node.selector])


def _aggregate(state: _State, binding: Binding) -> Codes:
    node = binding.node
    assert isinstance(node, Aggregate)
    selector = state.selectors[node.selector]
    live = _count(selector) > 0
    out_codes = code_of(state.sets[binding.name])
    default = out_codes.get(value_key(node.default))
    if default is None and bool((~live & state.valid).any()):
        raise AssertionError(f"aggregate {binding.name!r}: empty row but no default in its set")
    result = np.full(live.shape, 0 if default is None else default, dtype=np.int64)
    numeric = node.reduce == "sum" or (
        node.reduce == "mean" and mean_mode(state.program, node) == "num"
    )
    if numeric:
        _reduce_numbers(state, binding, node, selector, live, result)
    else:
        _reduce_codes(state, binding, node, selector, live, result)
    return result


def _reduce_codes(
    state: _State, binding: Binding, node: Aggregate, selector: Mask, live: Mask, out: Codes
) -> None:
    """Categorical mean, max and min on codes (a set is sorted, so codes order like values)."""
    sop_set = state.sets[node.sop]
    out_codes = code_of(state.sets[binding.name])
    translate = np.array([out_codes[value_key(v)] for v in sop_set], dtype=np.int64)
    sop = state.codes[node.sop]
    if node.reduce == "mean":
        picked = _common_code(binding, node, selector, live, sop, sop_set)
    elif node.reduce == "max":
        picked = _masked_max(selector, sop + 1) - 1
    else:
        picked = len(sop_set) - _masked_max(selector, len(sop_set) - sop)
    out[live] = translate[picked[live]]


def _count(selector: Mask) -> Codes:
    """Selected keys per query."""
    counts: Codes = np.einsum("bij->bi", selector, dtype=np.int64)
    return counts


def _masked_max(selector: Mask, positive: Codes) -> Codes:
    """The largest ``positive`` value over the selected keys of each query (0 on empty rows)."""
    small = positive.astype(np.int32 if positive.size and positive.max() < 2**31 else np.int64)
    high: Codes = (selector * small[:, None, :]).max(axis=-1, initial=0).astype(np.int64)
    return high


def _common_code(
    binding: Binding,
    node: Aggregate,
    selector: Mask,
    live: Mask,
    sop: Codes,
    sop_set: tuple[Value, ...],
) -> Codes:
    """The code all selected keys share; raises ``cat-mean`` where they differ.

    Codes are all equal exactly when ``count * sum(c^2) == sum(c)^2`` (Cauchy-Schwarz), which
    three integer contractions decide; when those could overflow, compare the masked max and min.
    """
    counts = _count(selector)
    if (len(sop_set) * selector.shape[-1]) ** 2 < INT64_SAFE:
        total: Codes = np.einsum("bij,bj->bi", selector, sop)
        if counts.max(initial=0) <= 1:
            return total
        squares: Codes = np.einsum("bij,bj->bi", selector, sop * sop)
        clash = np.argwhere(live & (counts * squares != total * total))
        common = total // np.maximum(counts, 1)
    else:
        common = _masked_max(selector, sop + 1) - 1
        lowest = len(sop_set) - _masked_max(selector, len(sop_set) - sop)
        clash = np.argwhere(live & (common != lowest))
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


def _reduce_numbers(
    state: _State, binding: Binding, node: Aggregate, selector: Mask, live: Mask, out: Codes
) -> None:
    """Exact mean or sum: integer sums of values scaled by the lcm of their denominators,
    turned into codes once per distinct (count, sum)."""
    # Value-set inference has rejected non-numbers here; 0 only keeps the codes aligned.
    numbers = [
        Fraction(v) if isinstance(v, (int, Fraction)) else Fraction(0) for v in state.sets[node.sop]
    ]
    scale = math.lcm(*(x.denominator for x in numbers)) if numbers else 1
    scaled = [int(x * scale) for x in numbers]
    bound = max((abs(w) for w in scaled), default=0) * max(state.width, 1)
    dtype: type = np.int64 if bound < INT64_SAFE else object
    weights: npt.NDArray[Any] = np.array(scaled, dtype=dtype)[state.codes[node.sop]]
    if dtype is object:
        sums = (selector * weights[:, None, :]).sum(axis=-1)
    else:
        sums = np.einsum("bij,bj->bi", selector, weights)
    if node.reduce == "sum":
        groups = [(live, scale)]
    else:
        counts = _count(selector)
        groups = [(live & (counts == k), int(k) * scale) for k in np.unique(counts[live])]
    out_codes = code_of(state.sets[binding.name])
    for rows, divisor in groups:
        distinct, inverse = np.unique(sums[rows], return_inverse=True)
        lookup = [
            out_codes[value_key(normalize_number(Fraction(int(s), divisor)))] for s in distinct
        ]
        out[rows] = np.array(lookup, dtype=np.int64)[inverse.reshape(-1)]


_SOP_RULES: dict[type[Node], Callable[[_State, Binding], Codes]] = {
    Full: _full,
    Map: _map,
    SelectorWidth: _selector_width,
    Aggregate: _aggregate,
}
_SELECTOR_RULES: dict[type[Node], Callable[[_State, Binding], Mask]] = {
    Select: _select,
    SelectClosest: _select_closest,
    SelectorAnd: _selector_and,
    SelectorOr: _selector_or,
    SelectorNot: _selector_not,
}
