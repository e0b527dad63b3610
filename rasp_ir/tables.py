"""Tabulate maps and predicates over value sets: IR functions and value sets in, numpy tables out.

Every executor (the reference interpreter, the Python emitter, the weight compiler, the
kernels) works from these tables, so a function is evaluated in exactly one way. Values are
addressed by their *code*: the index of the value in its set (canonical order, see
:func:`rasp_ir.values.canonical_values`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np
import numpy.typing as npt

from rasp_ir.diagnostics import Diagnostic, RaspError, Span
from rasp_ir.expr import ExprError, apply_lambda, evaluate
from rasp_ir.ir import Binary, Binding, Comparison, Const, Lambda, Map, Predicate
from rasp_ir.term_columns import Coded, apply_columns, every_combination
from rasp_ir.values import Value, canonical_values, describe_value, is_number, value_key

ValueKey = tuple[int, object]
MAP_HINT = "guard the function or declare a narrower input domain"


def code_of(value_set: Sequence[Value]) -> dict[ValueKey, int]:
    """Codes of a value set, keyed by :func:`value_key` (so ``True`` and ``1`` stay apart)."""
    return {value_key(v): i for i, v in enumerate(value_set)}


def none_code(value_set: Sequence[Value]) -> int | None:
    """The code of ``None`` in a value set, or ``None`` when the set has no undefined value."""
    return code_of(value_set).get(value_key(None))


def distinct_inputs(node: Map) -> tuple[str, ...]:
    """The distinct input names of a map, in order of first appearance (one table axis each)."""
    return tuple(dict.fromkeys(node.inputs))


def map_error(binding: Binding, args: Sequence[Value], reason: str) -> Diagnostic:
    """The ``map-error`` diagnostic for a map that fails on the given input values."""
    shown = ", ".join(describe_value(a) for a in args)
    return Diagnostic(
        "map-error",
        f"map {binding.name!r} fails on input ({shown}): {reason}",
        binding.span,
        MAP_HINT,
    )


def map_table(
    binding: Binding,
    input_sets: Sequence[Sequence[Value]],
    output_set: Sequence[Value],
) -> npt.NDArray[np.int64]:
    """Output codes of a map binding for every combination of input codes.

    ``input_sets`` holds one value set per distinct input name (see :func:`distinct_inputs`);
    the result has one axis per distinct input. Combinations with a ``None`` input hold the
    code of the map's default. Raises :class:`RaspError` (``map-error``) when the function
    fails on a combination, and ``ValueError`` when an output is missing from ``output_set``
    (an unsound value set: a bug in the caller).
    """
    node = binding.node
    if not isinstance(node, Map):
        raise TypeError(f"{binding.name!r} is not a map")
    names = distinct_inputs(node)
    if len(input_sets) != len(names):
        raise ValueError(f"map {binding.name!r} has {len(names)} distinct inputs")
    codes = code_of(output_set)
    by_columns = _map_table_by_columns(binding, node, [tuple(s) for s in input_sets], codes)
    if by_columns is not None:
        return by_columns
    table = np.zeros(tuple(len(s) for s in input_sets), dtype=np.int64)
    flat = table.reshape(-1)
    axes = [names.index(name) for name in node.inputs]
    for index, combination in enumerate(product(*input_sets)):
        args = tuple(combination[axis] for axis in axes)
        if any(a is None for a in args):
            result = node.default
        else:
            try:
                result = apply_lambda(node.fn, args)
            except ExprError as error:
                raise RaspError([map_error(binding, args, str(error))]) from error
        flat[index] = _output_code(binding, codes, result)
    return table


def _map_table_by_columns(
    binding: Binding, node: Map, input_sets: Sequence[tuple[Value, ...]], codes: dict[ValueKey, int]
) -> npt.NDArray[np.int64] | None:
    """:func:`map_table` with the function evaluated column-wise over every combination of
    defined input values (:mod:`rasp_ir.term_columns`); None where the columns do not decide
    (the caller then goes one combination at a time)."""
    defined = [
        np.array([i for i, v in enumerate(s) if v is not None], dtype=np.int64) for s in input_sets
    ]
    result = map_on_every_combination(
        node, [tuple(s[i] for i in d) for s, d in zip(input_sets, defined, strict=True)]
    )
    if result is None:
        return None
    result_codes = np.array(
        [_output_code(binding, codes, v) for v in result.values], dtype=np.int64
    )
    table = np.zeros(tuple(len(s) for s in input_sets), dtype=np.int64)
    if any(len(d) < len(s) for d, s in zip(defined, input_sets, strict=True)):
        table.fill(_output_code(binding, codes, node.default))
    table[np.ix_(*defined)] = result_codes[result.codes].reshape(tuple(len(d) for d in defined))
    return table


def map_on_every_combination(node: Map, defined_sets: Sequence[tuple[Value, ...]]) -> Coded | None:
    """The map's function on every combination of its distinct inputs' values
    (``defined_sets``, one per :func:`distinct_inputs` name, without ``None``; in
    ``itertools.product`` order), evaluated column-wise: the codes of its results into their
    values; None where the columns do not decide (the caller goes one combination at a time)."""
    names = distinct_inputs(node)
    if not names or not all(defined_sets):
        return None
    by_name = dict(zip(names, every_combination(defined_sets), strict=True))
    return apply_columns(node.fn.params, node.fn.body, [by_name[name] for name in node.inputs])


def _output_code(binding: Binding, codes: dict[ValueKey, int], value: Value) -> int:
    """The code of a map's output ``value``; ``ValueError`` when its value set lacks it."""
    code = codes.get(value_key(value))
    if code is None:
        raise ValueError(
            f"map {binding.name!r} gives {describe_value(value)}, not in its value set"
        )
    return code


def predicate_table(
    predicate: Predicate,
    key_set: Sequence[Value],
    query_set: Sequence[Value],
    *,
    span: Span | None = None,
) -> npt.NDArray[np.bool_]:
    """``table[k, q] = predicate(key_set[k], query_set[q])``, shape ``(len(keys), len(queries))``.

    Comparison operators follow the expression language (``key op query``); ``true`` and
    ``false`` are constants; a lambda is called as ``fn(key, query)`` and must return a bool.
    Entries with a ``None`` key or query are false: executors must reject undefined keys and
    queries themselves (see :func:`none_code`). Raises :class:`RaspError` with code
    ``predicate-error`` when a comparison cannot be evaluated and ``predicate-not-bool`` when a
    lambda returns something else than a bool; ``span`` locates those errors.
    """
    if isinstance(predicate, Comparison):
        fast = _compare_by_rank(predicate.op, key_set, query_set)
        if fast is not None:
            return fast
    table = np.zeros((len(key_set), len(query_set)), dtype=np.bool_)
    for k, key in enumerate(key_set):
        for q, query in enumerate(query_set):
            if key is not None and query is not None:
                table[k, q] = _holds(predicate, key, query, span)
    return table


def _compare_by_rank(
    op: str, key_set: Sequence[Value], query_set: Sequence[Value]
) -> npt.NDArray[np.bool_] | None:
    """A comparison table from ranks in the joint canonical order, or ``None`` when ranks do not
    decide it (ordering across types, or booleans, which compare as numbers but sort apart).

    Equality is rank equality for any values; ordering follows the ranks when every defined
    value is a number, or every one is a string.
    """
    if op in ("true", "false"):
        table = np.full((len(key_set), len(query_set)), op == "true", dtype=np.bool_)
    else:
        ranks = comparison_ranks(op, key_set, query_set)
        if ranks is None:
            return None
        keys, queries = ranks
        table = RANK_OPS[op](keys[:, None], queries[None, :])
    table[[v is None for v in key_set], :] = False
    table[:, [v is None for v in query_set]] = False
    return table


def comparison_ranks(
    op: str, key_set: Sequence[Value], query_set: Sequence[Value]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """Ranks of the keys and of the queries in their joint canonical order (-1 for ``None``)
    such that ``RANK_OPS[op](key rank, query rank)`` is the comparison; ``None`` when ranks do
    not decide ``op`` (see :func:`predicate_table`)."""
    defined = [v for v in (*key_set, *query_set) if v is not None]
    ordered = all(is_number(v) for v in defined) or all(isinstance(v, str) for v in defined)
    if op not in ("==", "!=") and not ordered:
        return None
    ranks = code_of(canonical_values(defined))
    keys = np.array([ranks.get(value_key(v), -1) for v in key_set], dtype=np.int64)
    queries = np.array([ranks.get(value_key(v), -1) for v in query_set], dtype=np.int64)
    return keys, queries


RANK_OPS: dict[str, Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], Any]] = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _holds(predicate: Predicate, key: Value, query: Value, span: Span | None) -> bool:
    if isinstance(predicate, Comparison) and predicate.op in ("true", "false"):
        return predicate.op == "true"
    try:
        if isinstance(predicate, Lambda):
            result = apply_lambda(predicate, (key, query))
        else:
            result = evaluate(Binary(predicate.op, Const(key), Const(query)), {})
    except ExprError as error:
        raise RaspError.single(
            "predicate-error",
            f"predicate fails on key {describe_value(key)} and query {describe_value(query)}: "
            f"{error}",
            span or _span_of(predicate),
            "compare keys and queries of one type, or guard the predicate",
        ) from error
    if not isinstance(result, bool):
        raise RaspError.single(
            "predicate-not-bool",
            f"predicate gives {describe_value(result)} on key {describe_value(key)} and query "
            f"{describe_value(query)}; a predicate must give true or false",
            span or _span_of(predicate),
            "make the predicate a comparison",
        )
    return result


def _span_of(predicate: Predicate) -> Span | None:
    return predicate.span if isinstance(predicate, Lambda) else None
