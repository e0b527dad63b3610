"""The reference interpreter: a program and a batch of token sequences in, every binding's values
out, exactly. It is the oracle every backend is checked against.

Execution is vectorised over the batch: an s-op is an integer array of *codes* (indices into its
inferred value set, shape ``batch x length``), a selector a boolean array ``batch x queries x
keys``. An :class:`Executable` infers value sets and fixes the evaluation order once per
program; maps and predicates are looked up in tables it builds once (:mod:`rasp_ir.prepared`),
numerical aggregates sum scaled integers, so no value is ever rounded. Ragged batches are padded
to the longest example; padded keys are never selected and padded positions never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from itertools import chain
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from rasp_ir.batch_inputs import TokenBatch
from rasp_ir.diagnostics import RaspError, errors_only
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
from rasp_ir.rules import rule_for
from rasp_ir.tables import (
    ValueKey,
    distinct_inputs,
    map_error,
)
from rasp_ir.term_columns import Coded, evaluate_columns
from rasp_ir.values import Value, describe_value, normalize_number, value_key
from rasp_ir.valuesets import ValueSetResult, infer_value_sets, mean_mode
from rasp_ir.vote_scores import scaled_scores, vote_inputs

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class Evaluation:
    """Every binding's values on a batch: codes for s-ops, boolean matrices for selectors."""

    def __init__(
        self,
        program: Program,
        value_sets: dict[str, tuple[Value, ...]],
        lengths: npt.NDArray[np.int64],
        codes: dict[str, Codes],
        selectors: dict[str, Mask],
        tables: PreparedTables | None = None,
    ) -> None:
        self.program = program
        self.lengths = lengths
        self._sets = value_sets
        self._codes = codes
        self._selectors = selectors
        self._tables = tables if tables is not None else PreparedTables(value_sets)

    def codes(self, name: str) -> Codes:
        """Codes of an s-op, shape ``batch x length`` (padded positions hold arbitrary codes)."""
        return self._codes[name]

    def value_set(self, name: str) -> tuple[Value, ...]:
        """The value set the codes of ``name`` index into."""
        return self._sets[name]

    def values(self, name: str) -> list[list[Value]]:
        """The values of an s-op, one list per example, as long as that example (BOS included)."""
        rows: list[list[Value]] = self._tables.values(name)[self._codes[name]].tolist()
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

    Prepares the program anew on every call; to run one program on many batches, build an
    :class:`Executable` once and call it. Raises :class:`RaspError` as :class:`Executable` and
    its call do.
    """
    return Executable(program, value_sets=value_sets)(inputs)


class Executable:
    """A program ready to run: value sets, token codes, the rule of every binding and (on first
    use) every table, computed once; then called on any number of batches.

    Raises :class:`RaspError` when value-set inference reports errors or an op has no rule.
    """

    def __init__(self, program: Program, *, value_sets: ValueSetResult | None = None) -> None:
        inferred = value_sets if value_sets is not None else infer_value_sets(program)
        if errors_only(inferred.diagnostics):
            raise RaspError(inferred.diagnostics)
        positions = program.header.positions
        if inferred.sets["indices"] != tuple(range(positions)) or inferred.sets["length"] != tuple(
            range(1, positions + 1)
        ):
            raise ValueError(
                "value sets of indices and length must be those infer_value_sets gives"
            )
        self.program = program
        self.sets = dict(inferred.sets)
        self.tables = PreparedTables(self.sets)
        self._steps = [_step(binding) for binding in program.bindings]
        self._encoder = _TokenEncoder(program, self.tables)

    def __call__(self, inputs: Sequence[Sequence[Value]]) -> Evaluation:
        """Every binding's values on a batch of content-token sequences.

        Raises :class:`RaspError` when an input has a token outside the vocabulary
        (``input-token``) or too many tokens (``input-length``), and on run-time errors: an
        undefined key or query (``undefined-select``), a categorical mean of distinct values
        (``cat-mean``).
        """
        tokens, lengths = self._encoder.encode(inputs)
        return self.evaluate_codes(tokens, lengths)

    def run_batch(self, batch: TokenBatch) -> Evaluation:
        """Every binding's values on inputs read by :mod:`rasp_ir.batch_inputs` (checked
        against this program's header)."""
        offset = 0 if self._encoder.bos is None else 1
        tokens = np.empty((len(batch), batch.indices.shape[1] + offset), dtype=np.int64)
        tokens[:, offset:] = self._encoder.vocab_codes[batch.indices]
        if self._encoder.bos is not None:
            tokens[:, 0] = self._encoder.bos
        return self.evaluate_codes(tokens, batch.lengths + offset)

    def evaluate_codes(self, tokens: Codes, lengths: npt.NDArray[np.int64]) -> Evaluation:
        """Evaluate on token codes ``batch x width`` (BOS included at position 0 when declared,
        padding anywhere past each example's length) and positions per example."""
        state = _State(self.program, self.sets, self.tables, lengths, tokens.shape[1])
        state.codes["tokens"] = tokens
        state.codes.update(_position_codes(state))
        for binding, selector_rule, sop_rule in self._steps:
            if selector_rule is not None:
                state.selectors[binding.name] = selector_rule(state, binding)
            elif sop_rule is not None:
                state.codes[binding.name] = sop_rule(state, binding)
        return Evaluation(
            self.program, self.sets, lengths, state.codes, state.selectors, self.tables
        )


_Step = tuple[
    Binding, "Callable[[_State, Binding], Mask] | None", "Callable[[_State, Binding], Codes] | None"
]


def _step(binding: Binding) -> _Step:
    """A binding with its selector rule or its s-op rule."""
    selector_rule = _SELECTOR_RULES.get(type(binding.node))
    if selector_rule is not None:
        return binding, selector_rule, None
    return binding, None, rule_for(_SOP_RULES, binding, "the reference interpreter")


@dataclass
class _State:
    """What the rules read and write while one batch is evaluated."""

    program: Program
    sets: dict[str, tuple[Value, ...]]
    tables: PreparedTables
    lengths: npt.NDArray[np.int64]
    width: int

    def __post_init__(self) -> None:
        positions = np.arange(self.width)
        self.valid: Mask = positions[None, :] < self.lengths[:, None]
        full = len(self.lengths) == 0 or int(self.lengths.min()) == self.width
        self.masks = self.program.header.causal or not full
        self.codes: dict[str, Codes] = {}
        self.selectors: dict[str, Mask] = {}

    @cached_property
    def allowed(self) -> Mask:
        """Which (query, key) pairs a selector may select: both real, key not after query
        when causal."""
        allowed = self.valid[:, :, None] & self.valid[:, None, :]
        if self.program.header.causal:
            allowed &= np.tri(self.width, dtype=np.bool_)[None]
        return allowed


class _TokenEncoder:
    """Content-token lists in, token codes ``batch x width`` (BOS prepended) and positions per
    example out; the vocabulary's codes are looked up once per program."""

    def __init__(self, program: Program, tables: PreparedTables) -> None:
        header = program.header
        self.program = program
        vocab = {value_key(v) for v in header.vocab}
        self.codes = {k: c for k, c in tables.codes("tokens").items() if k in vocab}
        self.by_token = {v: self.codes[value_key(v)] for v in header.vocab}
        self.vocab_codes: Codes = np.array(
            [self.codes[value_key(v)] for v in header.vocab], dtype=np.int64
        )
        # Plain dict lookup is exact unless a boolean meets a number (Python has True == 1):
        # never with an all-string vocabulary, and not when neither side holds booleans.
        self.only_strings = all(isinstance(v, str) for v in header.vocab)
        self.bool_vocab = any(isinstance(v, bool) for v in header.vocab)
        self.bos = None if header.bos is None else tables.codes("tokens")[value_key(header.bos)]

    def encode(self, inputs: Sequence[Sequence[Value]]) -> tuple[Codes, npt.NDArray[np.int64]]:
        """Token codes ``batch x width`` and positions per example (BOS included)."""
        max_len = self.program.header.max_len
        content = [len(example) for example in inputs]
        longest = max(content, default=0)
        if longest > max_len:
            b = next(b for b, n in enumerate(content) if n > max_len)
            raise RaspError.single(
                "input-length",
                f"example {b} has {content[b]} tokens, more than max_len {max_len}",
                hint="shorten the input or raise max_len in the program header",
            )
        flat = list(chain.from_iterable(inputs))
        if self.only_strings or (
            not self.bool_vocab and set(map(type, flat)) <= {str, int, Fraction}
        ):
            lookup: Callable[[Value], int] = self.by_token.__getitem__
        else:
            lookup = lambda token: self.codes[value_key(token)]  # noqa: E731
        try:
            found = np.fromiter(map(lookup, flat), dtype=np.int64, count=len(flat))
        except (KeyError, TypeError):
            _raise_input_token(self.program, inputs, self.codes)
        offset = 0 if self.bos is None else 1
        lengths = np.array(content, dtype=np.int64) + offset
        width = longest + offset if inputs else 0
        token_codes = np.zeros((len(inputs), width), dtype=np.int64)
        if len(flat) == len(inputs) * longest:
            token_codes[:, offset:] = found.reshape(len(inputs), longest)
        else:
            positions = np.arange(width)[None, :]
            token_codes[(positions >= offset) & (positions < lengths[:, None])] = found
        if self.bos is not None:
            token_codes[:, 0] = self.bos
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
    indices = np.empty((len(state.lengths), state.width), dtype=np.int64)
    indices[:] = np.arange(state.width, dtype=np.int64)
    if state.program.header.causal:
        return {"indices": indices, "length": indices}
    n = np.maximum(state.lengths - 1, 0)[:, None]
    return {"indices": indices, "length": np.repeat(n, state.width, axis=1)}


def _full(state: _State, binding: Binding) -> Codes:
    return np.zeros((len(state.lengths), state.width), dtype=np.int64)


def _map(state: _State, binding: Binding) -> Codes:
    assert isinstance(binding.node, Map)
    names = distinct_inputs(binding.node)
    table = state.tables.map_table(binding)
    if table is None:
        return _map_observed(state, binding, names)
    if not names:
        return np.full((len(state.lengths), state.width), table[()], dtype=np.int64)
    mapped: Codes = table[tuple(state.codes[name] for name in names)]
    return mapped


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
    undefined = [state.tables.none_code(n) for n in names]
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
    codes = state.tables.codes(binding.name)
    table = np.array([_result_code(codes, binding, v) for v in result.values], dtype=np.int64)
    return table[result.codes] if len(table) else np.zeros(len(combos), dtype=np.int64)


def _map_one_by_one(
    state: _State, binding: Binding, names: tuple[str, ...], combos: Codes
) -> Codes:
    """The map's result codes on ``combos``, applying the function to each in turn."""
    node = binding.node
    assert isinstance(node, Map)
    codes = state.tables.codes(binding.name)
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
    for role, name, undefined in state.tables.undefined_operands(binding):
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
    keys, queries = state.codes[node.keys], state.codes[node.queries]
    ranked = state.tables.rank_comparison(binding)
    matches: Mask
    if ranked is not None:
        compare, key_ranks, query_ranks = ranked
        matches = compare(key_ranks[keys][:, None, :], query_ranks[queries][:, :, None])
    else:
        table = state.tables.predicate_table(binding)
        pairs = (keys * len(state.sets[node.queries]))[:, None, :] + queries[:, :, None]
        matches = table.take(pairs)
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
    out_codes = state.tables.codes(binding.name)
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
    translate = state.tables.translation(binding)
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
    scale, scaled = state.tables.scaled_numbers(node.sop, state.width)
    weights: npt.NDArray[Any] = scaled[state.codes[node.sop]]
    if scaled.dtype == object:
        sums = (selector * weights[:, None, :]).sum(axis=-1)
    else:
        sums = np.einsum("bij,bj->bi", selector, weights)
    if node.reduce == "sum":
        groups = [(live, scale)]
    else:
        counts = _count(selector)
        groups = [(live & (counts == k), int(k) * scale) for k in np.unique(counts[live])]
    out_codes = state.tables.codes(binding.name)
    for rows, divisor in groups:
        distinct, inverse = np.unique(sums[rows], return_inverse=True)
        lookup = [
            out_codes[value_key(normalize_number(Fraction(int(s), divisor)))] for s in distinct
        ]
        out[rows] = np.array(lookup, dtype=np.int64)[inverse.reshape(-1)]


def _vote(state: _State, binding: Binding) -> Codes:
    """The first label with the largest exact score sum over each query's selected keys (the
    largest mean: one query's means share a divisor); the default on empty rows. Scores are
    evaluated once per distinct input combination at real positions, never tabulated."""
    node = binding.node
    assert isinstance(node, PooledVote)
    names = vote_inputs(node)
    out_codes = state.tables.codes(binding.name)
    batch = len(state.lengths)
    stacked = np.stack([state.codes[name] for name in names], axis=-1) if names else None
    if stacked is None:  # no inputs: one combination, the empty one
        combos = np.zeros((1, 0), dtype=np.int64)
        inverse = np.zeros(int(state.valid.sum()), dtype=np.int64)
    else:
        combos, inverse = np.unique(stacked[state.valid], axis=0, return_inverse=True)
    columns = {n: Coded(combos[:, i], state.sets[n]) for i, n in enumerate(names)}
    table = scaled_scores(binding, columns, len(combos), state.width)
    scores = np.zeros((batch, state.width, len(node.labels)), dtype=table.dtype)
    scores[state.valid] = table[inverse.reshape(-1)]
    selector = state.selectors[node.selector]
    if table.dtype == object:
        totals = selector.astype(object) @ scores
    else:
        totals = np.einsum("bij,bjc->bic", selector.astype(np.int64), scores)
    chosen = totals.argmax(axis=-1)
    label_codes = np.array([out_codes[value_key(v)] for v in node.labels], dtype=np.int64)
    result: Codes = label_codes[chosen]
    empty = (_count(selector) == 0) & state.valid
    if bool(empty.any()):
        result[empty] = out_codes[value_key(node.default)]
    return result


_SOP_RULES: dict[type[Node], Callable[[_State, Binding], Codes]] = {
    Full: _full,
    Map: _map,
    SelectorWidth: _selector_width,
    Aggregate: _aggregate,
    PooledVote: _vote,
}
_SELECTOR_RULES: dict[type[Node], Callable[[_State, Binding], Mask]] = {
    Select: _select,
    SelectClosest: _select_closest,
    SelectorAnd: _selector_and,
    SelectorOr: _selector_or,
    SelectorNot: _selector_not,
}
