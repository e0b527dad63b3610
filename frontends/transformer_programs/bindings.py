"""The argmax model's heads and MLPs, with the value sets reachable before them, in; IR
bindings out (each with a comment for people): a head's selector and output, an MLP's table or
constant.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from rasp_ir.api import Value, ir, same_value, value_key

from .model import TransformerProgram, mlp_logits
from .structure import Head, Mlp, Variable, ir_value, tp_index
from .tables import table_expression

ValueSets = dict[str, tuple[Value, ...]]


def lifted_predicate(
    head: Head,
    key: Variable,
    query: Variable,
    key_values: Sequence[Value],
    query_values: Sequence[Value],
    vocab: Sequence[str],
) -> ir.Predicate:
    """The simplest predicate that agrees with ``key == f(query)`` on every reachable pair:
    ``==``, ``key == query + d``, or ``key == lookup(query, {...}, default=most common)``."""
    targets = {
        _key(q): ir_value(key, head.predicate[tp_index(query, q, vocab)], vocab)
        for q in query_values
    }

    def agrees(rule: Callable[[Value, Value], bool]) -> bool:
        for q in query_values:
            target = targets[_key(q)]
            for k in key_values:
                wanted = target is not None and same_value(k, target)
                if rule(k, q) != wanted:
                    return False
        return True

    if agrees(same_value):
        return ir.Comparison("==")
    offset = _offset(key_values, query_values, agrees)
    if offset is not None:
        shifted = ir.Binary("+" if offset > 0 else "-", _QUERY, ir.Const(abs(offset)))
        return _key_equals(shifted)
    return _lookup_predicate(targets, query_values, set(map(_key, key_values)))


_KEY, _QUERY = ir.Param("key"), ir.Param("query")


def _key_equals(expr: ir.Expr) -> ir.Lambda:
    """``fn(key, query) -> key == expr``."""
    return ir.Lambda(("key", "query"), ir.Binary("==", _KEY, expr))


def _offset(
    key_values: Sequence[Value],
    query_values: Sequence[Value],
    agrees: Callable[[Callable[[Value, Value], bool]], bool],
) -> int | None:
    """The smallest nonzero ``d`` with ``key == query + d`` on every pair, for integer values."""
    values = (*key_values, *query_values)
    integers = [v for v in values if isinstance(v, int)]
    if len(integers) != len(values):
        return None
    span = max((abs(v) for v in integers), default=0) + 1
    for d in sorted(range(-span, span + 1), key=abs):
        if d and agrees(_shifted_by(d)):
            return d
    return None


def _shifted_by(d: int) -> Callable[[Value, Value], bool]:
    """The rule ``key == query + d`` (on integers)."""

    def rule(key: Value, query: Value) -> bool:
        return isinstance(key, int) and isinstance(query, int) and key == query + d

    return rule


def _lookup_predicate(
    targets: dict[tuple[int, object], Value], query_values: Sequence[Value], reachable: set[Any]
) -> ir.Lambda:
    """``key == lookup(query, {exceptions}, default=d)``, d the most common target, or the
    query itself when that needs fewer exceptions. Targets no key can hold become none."""
    shown = {q: t if t is not None and _key(t) in reachable else None for q, t in targets.items()}
    counts = Counter(_key(t) for t in shown.values() if t is not None)
    default: Value = None
    if counts:
        best = max(counts.values())
        default = next(t for t in shown.values() if t is not None and counts[_key(t)] == best)
    same = [q for q in query_values if shown[_key(q)] is not None and same_value(shown[_key(q)], q)]
    by_query = len(same) > max(counts.values(), default=0)

    def fallback(q: Value) -> Value:
        return q if by_query else default

    entries = tuple(
        ((q,), shown[_key(q)])
        for q in query_values
        if shown[_key(q)] is None or not same_value(shown[_key(q)], fallback(q))
    )
    default_expr: ir.Expr = _QUERY if by_query else ir.Const(default)
    if not entries:
        return _key_equals(default_expr)
    return _key_equals(ir.Lookup((_QUERY,), entries, default_expr))


def _key(v: Value) -> tuple[int, object]:
    return value_key(v)


def head_bindings(
    head: Head, cat: list[Variable], num: list[Variable], sets: ValueSets, vocab: Sequence[str]
) -> list[ir.Binding]:
    """The bindings of one head: its selector, then its output (with a comment)."""
    key, query = cat[head.key], cat[head.query]
    predicate = lifted_predicate(head, key, query, sets[key.name], sets[query.name], vocab)
    reads = f"{key.name} keys matching {query.name}"
    if head.kind == "cat":
        value = cat[head.value]
        select = ir.Binding(
            f"{head.name}__select_closest",
            ir.SelectClosest(key.name, query.name, predicate),
            None,
        )
        comment = f"{head.name}: nearest {key.name} key matching {query.name}; copies {value.name}"
        output = ir.Binding(
            head.name, ir.Aggregate(select.name, value.name), "cat", comment=comment
        )
        return [select, output]
    value = num[head.value]
    select = ir.Binding(f"{head.name}__select", ir.Select(key.name, query.name, predicate), None)
    if value.name == "ones":
        comment = f"{head.name}: counts {reads}"
        node: ir.Node = ir.SelectorWidth(select.name)
    else:
        comment = f"{head.name}: sums {value.name} over {reads}"
        node = ir.Aggregate(select.name, value.name, reduce="sum", default=0)
    return [select, ir.Binding(head.name, node, "num", comment=comment)]


def mlp_outputs(
    model: TransformerProgram,
    mlp: Mlp,
    inputs: Sequence[tuple[Value, ...]],
    variables_read: tuple[Variable, Variable],
    vocab: Sequence[str],
) -> list[int]:
    """The argmax MLP's output index on each input pair (computed as the model does, float64)."""
    layer = model.layer(mlp.layer)
    k = model.config.d_var
    if mlp.kind == "cat":
        u = torch.zeros(len(inputs), 1, 2 * k, dtype=torch.float64)
        for row, pair in enumerate(inputs):
            for slot, (variable, value) in enumerate(zip(variables_read, pair, strict=True)):
                u[row, 0, slot * k + tp_index(variable, value, vocab)] = 1.0
        names = ("mlp_w_in", "mlp_b_in", "mlp_w_out", "mlp_b_out")
    else:
        pairs = np.array(inputs, dtype=object).reshape(len(inputs), 1, 2)
        if not {type(v) for v in pairs.flat} <= {int, bool, Fraction}:
            raise TypeError(f"{mlp.name} reads values that are not numbers")
        # float() of every exact value, correctly rounded, in one pass.
        u = torch.from_numpy(pairs.astype(np.float64))
        names = ("num_mlp_w_in", "num_mlp_b_in", "num_mlp_w_out", "num_mlp_b_out")
    weights = [getattr(layer, n)[mlp.slot : mlp.slot + 1].detach().double() for n in names]
    with torch.no_grad():
        logits = mlp_logits(u, *weights)
    indices: list[int] = logits[:, 0].argmax(-1).tolist()
    return indices


def mlp_binding(
    model: TransformerProgram, mlp: Mlp, cat: list[Variable], num: list[Variable], sets: ValueSets
) -> ir.Binding:
    """The binding of one MLP (with a comment): a table over its reachable inputs, or a
    constant (``Full``) when it is constant on them."""
    stream = cat if mlp.kind == "cat" else num
    a, b = stream[mlp.reads[0]], stream[mlp.reads[1]]
    params: tuple[str, ...]
    inputs: tuple[str, ...]
    if a.name == b.name:
        pairs = [(v, v) for v in sets[a.name]]
        keys: list[tuple[Value, ...]] = [(v,) for v in sets[a.name]]
        params, inputs = (a.param,), (a.name,)
    else:
        pairs = list(itertools.product(sets[a.name], sets[b.name]))
        keys = [tuple(p) for p in pairs]
        params, inputs = (a.param, b.param), (a.name, b.name)
    outputs = mlp_outputs(model, mlp, pairs, (a, b), model.config.vocab)
    if len(set(outputs)) == 1:
        comment = f"{mlp.name}: the same value on every reachable input"
        return ir.Binding(mlp.name, ir.Full(outputs[0]), "cat", comment=comment)
    table = dict(zip(keys, outputs, strict=True))
    axes = [list(sets[name]) for name in inputs]
    body = table_expression(params, axes, table, numeric=mlp.kind == "num")
    comment = f"{mlp.name}: a table over every reachable value of {' and '.join(inputs)}"
    return ir.Binding(mlp.name, ir.Map(ir.Lambda(params, body), inputs), "cat", comment=comment)
