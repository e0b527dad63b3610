"""A deliberately naive reference evaluator for IR programs: a second opinion beside the
interpreter, for the tests and for ``rasp fuzz``.

This module re-implements the meaning of a :class:`~rasp_ir.ir.Program` on ONE input with plain
Python loops, lists of lists and exact :class:`~fractions.Fraction` arithmetic. It shares no
code with the rest of ``rasp_ir`` beyond the IR dataclasses (:mod:`rasp_ir.ir`) and the value
helpers (:mod:`rasp_ir.values`): it has its own expression evaluator, so that tests can
cross-check the vectorised interpreter against an independent implementation.

Semantics in brief (see ``shared/reference/rasp-semantics.md``):

* inputs are content tokens; with ``header.bos`` set, BOS is prepended and is position 0;
* ``length`` is ``n`` everywhere, or ``i + 1`` at position ``i`` when ``header.causal``;
* ``select(k, q, p)[i][j] = p(k[j], q[i])`` (key first), masked to ``j <= i`` when causal;
* ``select_closest`` follows the Transformer Programs rule (nearest match, left wins ties,
  self only when it is the sole match, BOS when nothing matches);
* ``aggregate``: ``default`` on empty rows; a ``cat`` mean needs all selected values equal, a
  ``num`` mean is the exact mean; ``sum``/``max``/``min`` reduce the selected values;
* ``pooled_vote``: per query, the first label whose exact mean score over the selected keys
  is largest.

Errors raise :class:`NaiveEvalError` whose ``code`` matches the interpreter's diagnostic codes:
``input-token``, ``input-length``, ``undefined-select``, ``cat-mean``, ``map-error``,
``predicate-not-bool``; plus ``aggregate-type`` for a ``sum``/``max``/``min``/``num`` mean over a
value that is not a number (or, for ``max``/``min``, not mutually ordered).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rasp_ir.ir import (
    Aggregate,
    Binary,
    Call,
    Comparison,
    Const,
    Expr,
    Full,
    IfElse,
    Lambda,
    Lookup,
    Map,
    Member,
    Param,
    PooledVote,
    Predicate,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    Unary,
)
from rasp_ir.values import Value, value_key

Matrix = list[list[bool]]

__all__ = [
    "NaiveEvalError",
    "NaiveRun",
    "evaluate_naive",
    "naive_eval_expr",
    "naive_outputs",
    "naive_run",
    "naive_selectors",
]


class NaiveEvalError(Exception):
    """An input or program that cannot be evaluated; ``code`` mirrors the interpreter's codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


class _ExprFailure(Exception):
    """Internal: an expression could not be evaluated (wrong types, division by zero)."""


# ---------------------------------------------------------------- expression language


def _is_num(v: object) -> bool:
    """A number for arithmetic and ordering: ints, fractions and (as 0/1) bools."""
    return isinstance(v, (int, Fraction))


def _is_strict_num(v: object) -> bool:
    """A number for equality: ints and fractions, never bools."""
    return isinstance(v, (int, Fraction)) and not isinstance(v, bool)


def _num(v: Value, what: str) -> int | Fraction:
    """``v`` as an exact number (bools become 0/1) or an expression failure."""
    if not _is_num(v):
        raise _ExprFailure(f"{what} needs a number, got {v!r}")
    if isinstance(v, bool):
        return 1 if v else 0
    assert isinstance(v, (int, Fraction))
    return v


def _norm(x: int | Fraction) -> int | Fraction:
    """Normal form: integral fractions become ints, bools become ints."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x.numerator)
    return x


def _eq(a: Value, b: Value) -> bool:
    """Equality of the expression language: numbers by value, everything else by value_key."""
    if _is_strict_num(a) and _is_strict_num(b):
        return bool(a == b)
    return value_key(a) == value_key(b)


def _less(a: Value, b: Value) -> bool:
    """``a < b`` for two numbers (bools as 0/1) or two strings; anything else fails."""
    if _is_num(a) and _is_num(b):
        return _num(a, "<") < _num(b, "<")
    if isinstance(a, str) and isinstance(b, str):
        return a < b
    raise _ExprFailure(f"cannot order {a!r} and {b!r}")


def _compare(op: str, a: Value, b: Value) -> bool:
    """``a OP b`` for any comparison operator."""
    if op == "==":
        return _eq(a, b)
    if op == "!=":
        return not _eq(a, b)
    if op == "<":
        return _less(a, b)
    if op == ">":
        return _less(b, a)
    if op == "<=":
        return _less(a, b) or (not _less(b, a))
    if op == ">=":
        return _less(b, a) or (not _less(a, b))
    raise _ExprFailure(f"unknown comparison {op!r}")


def _need_bool(v: Value, what: str) -> bool:
    if not isinstance(v, bool):
        raise _ExprFailure(f"{what} needs a boolean, got {v!r}")
    return v


def naive_eval_expr(expr: Expr, env: Mapping[str, Value]) -> Value:
    """Evaluate an expression with lambda parameters bound by ``env``.

    Raises :class:`NaiveEvalError` with code ``map-error`` when it fails.
    """
    try:
        return _ev(expr, env)
    except _ExprFailure as exc:
        raise NaiveEvalError("map-error", str(exc)) from None


def _ev(expr: Expr, env: Mapping[str, Value]) -> Value:
    """The recursive core of :func:`naive_eval_expr` (raises ``_ExprFailure``)."""
    rule = _EXPR_RULES.get(type(expr))
    if rule is None:
        raise _ExprFailure(f"unknown expression {expr!r}")
    return rule(expr, env)


def _ev_const(expr: Const, env: Mapping[str, Value]) -> Value:
    """A literal."""
    return expr.value


def _ev_param(expr: Param, env: Mapping[str, Value]) -> Value:
    """A lambda parameter, looked up in ``env``."""
    if expr.name not in env:
        raise _ExprFailure(f"unknown parameter {expr.name!r}")
    return env[expr.name]


def _ev_unary(expr: Unary, env: Mapping[str, Value]) -> Value:
    """``not x`` or ``-x``."""
    value = _ev(expr.operand, env)
    if expr.op == "not":
        return not _need_bool(value, "'not'")
    if expr.op == "-":
        return _norm(-_num(value, "unary '-'"))
    raise _ExprFailure(f"unknown unary operator {expr.op!r}")


def _ev_if_else(expr: IfElse, env: Mapping[str, Value]) -> Value:
    """``then if cond else orelse``, evaluating only the branch taken."""
    cond = _need_bool(_ev(expr.cond, env), "'if'")
    return _ev(expr.then, env) if cond else _ev(expr.orelse, env)


def _ev_member(expr: Member, env: Mapping[str, Value]) -> Value:
    """``x in {...}`` or ``x not in {...}``."""
    element = _ev(expr.element, env)
    found = any(_eq(element, option) for option in expr.options)
    return (not found) if expr.negated else found


def _ev_lookup(expr: Lookup, env: Mapping[str, Value]) -> Value:
    """The entry whose key matches the evaluated keys, else the default."""
    key = [value_key(_ev(k, env)) for k in expr.keys]
    for entry_key, result in expr.entries:
        if [value_key(v) for v in entry_key] == key:
            return result
    return _ev(expr.default, env)


def _ev_binary(expr: Binary, env: Mapping[str, Value]) -> Value:
    """A binary operator: logic, comparison, string concatenation or arithmetic."""
    op = expr.op
    if op in ("and", "or"):
        return _ev_logic(expr, env)
    left = _ev(expr.left, env)
    right = _ev(expr.right, env)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return _compare(op, left, right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    return _arithmetic(op, _num(left, f"'{op}'"), _num(right, f"'{op}'"))


def _ev_logic(expr: Binary, env: Mapping[str, Value]) -> bool:
    """``and``/``or`` on booleans, short-circuiting: the right side is evaluated only if needed."""
    op = expr.op
    left = _need_bool(_ev(expr.left, env), f"'{op}'")
    decided = left if op == "or" else not left
    if decided:
        return left
    return _need_bool(_ev(expr.right, env), f"'{op}'")


def _divide(a: int | Fraction, b: int | Fraction) -> Fraction:
    """Exact division."""
    return Fraction(a) / Fraction(b)


_ARITHMETIC: dict[str, Callable[[int | Fraction, int | Fraction], int | Fraction]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": operator.mod,
}


def _arithmetic(op: str, a: int | Fraction, b: int | Fraction) -> Value:
    """``a OP b`` for an arithmetic operator, in normal form; division by zero fails."""
    if op in ("/", "%") and b == 0:
        raise _ExprFailure(f"division by zero: {a} {op} 0")
    rule = _ARITHMETIC.get(op)
    if rule is None:
        raise _ExprFailure(f"unknown operator {op!r}")
    return _norm(rule(a, b))


def _ev_call(expr: Call, env: Mapping[str, Value]) -> Value:
    """A built-in function call; arguments are evaluated first."""
    args = [_ev(a, env) for a in expr.args]
    name = expr.func
    variadic = _VARIADIC_FUNCTIONS.get(name)
    if variadic is not None:
        return variadic(args)
    if len(args) != 1:
        raise _ExprFailure(f"{name} takes exactly one argument")
    unary = _UNARY_FUNCTIONS.get(name)
    if unary is None:
        raise _ExprFailure(f"unknown function {name!r}")
    return unary(args[0])


def _extreme(name: str, args: list[Value]) -> Value:
    """``min``/``max`` of two or more mutually ordered values (the first of equals wins)."""
    if len(args) < 2:
        raise _ExprFailure(f"{name} needs at least two arguments")
    best = args[0]
    for candidate in args[1:]:
        better = _less(candidate, best) if name == "min" else _less(best, candidate)
        if better:
            best = candidate
    if _is_num(best):
        return _norm(_num(best, name))
    return best


def _argmax(args: list[Value]) -> Value:
    """The position of the first largest of one or more numbers."""
    if not args:
        raise _ExprFailure("argmax needs at least one argument")
    numbers = [_num(a, "argmax") for a in args]
    return next(i for i, x in enumerate(numbers) if all(x >= y for y in numbers))


def _abs(arg: Value) -> Value:
    """``abs`` of a number."""
    x = _num(arg, "abs")
    return _norm(x if x >= 0 else -x)


def _round(arg: Value) -> Value:
    """``round`` of a number (Python's rounding: halves to even)."""
    return round(Fraction(_num(arg, "round")))


_VARIADIC_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "min": lambda args: _extreme("min", args),
    "max": lambda args: _extreme("max", args),
    "argmax": _argmax,
}
_UNARY_FUNCTIONS: dict[str, Callable[[Value], Value]] = {"abs": _abs, "round": _round}

# One rule per expression kind; each takes the expression and the parameter bindings.
_EXPR_RULES: dict[type, Callable[[Any, Mapping[str, Value]], Value]] = {
    Const: _ev_const,
    Param: _ev_param,
    Unary: _ev_unary,
    Binary: _ev_binary,
    IfElse: _ev_if_else,
    Member: _ev_member,
    Lookup: _ev_lookup,
    Call: _ev_call,
}


def _apply(fn: Lambda, args: Sequence[Value]) -> Value:
    """Call a lambda (``map-error`` on arity mismatch or failure)."""
    if len(args) != len(fn.params):
        raise NaiveEvalError(
            "map-error", f"function of {len(fn.params)} parameters called with {len(args)}"
        )
    env = {}
    for param, arg in zip(fn.params, args, strict=True):
        env[param] = arg
    return naive_eval_expr(fn.body, env)


# ---------------------------------------------------------------- selectors


def _predicate(pred: Predicate, key: Value, query: Value) -> bool:
    """``pred(key, query)`` (key first)."""
    if isinstance(pred, Comparison):
        if pred.op == "true":
            return True
        if pred.op == "false":
            return False
        try:
            return _compare(pred.op, key, query)
        except _ExprFailure as exc:
            raise NaiveEvalError("map-error", str(exc)) from None
    result = _apply(pred, [key, query])
    if not isinstance(result, bool):
        raise NaiveEvalError("predicate-not-bool", f"predicate returned {result!r}")
    return result


def _check_defined(name: str, values: list[Value], role: str) -> None:
    for position, value in enumerate(values):
        if value is None:
            raise NaiveEvalError(
                "undefined-select", f"{role} {name!r} is undefined at position {position}"
            )


def _select(keys: list[Value], queries: list[Value], pred: Predicate, causal: bool) -> Matrix:
    n = len(keys)
    matrix: Matrix = []
    for i in range(n):
        row = []
        for j in range(n):
            if causal and j > i:
                row.append(False)
            else:
                row.append(_predicate(pred, keys[j], queries[i]))
        matrix.append(row)
    return matrix


def _select_closest(
    keys: list[Value], queries: list[Value], pred: Predicate, causal: bool, has_bos: bool
) -> Matrix:
    n = len(keys)
    matrix: Matrix = []
    for i in range(n):
        matches = []
        for j in range(n):
            if causal and j > i:
                continue
            if _predicate(pred, keys[j], queries[i]):
                matches.append(j)
        chosen: int | None
        if not matches:
            chosen = 0 if has_bos else None
        else:
            others = [j for j in matches if j != i]
            if not others:
                chosen = i
            else:
                chosen = others[0]
                for j in others:
                    if abs(j - i) < abs(chosen - i):
                        chosen = j
        matrix.append([j == chosen for j in range(n)])
    return matrix


# ---------------------------------------------------------------- aggregates


def _aggregate(
    matrix: Matrix, values: list[Value], reduce: str, encoding: str, default: Value
) -> list[Value]:
    """Each row's selected values reduced (``default`` for a row that selects nothing)."""
    reduction = _cat_mean if (reduce, encoding) == ("mean", "cat") else _REDUCTIONS.get(reduce)
    out: list[Value] = []
    for row in matrix:
        chosen = [values[j] for j in range(len(row)) if row[j]]
        if not chosen:
            out.append(default)
            continue
        if reduction is None:
            raise NaiveEvalError("aggregate-type", f"unknown reduction {reduce!r}")
        out.append(reduction(chosen))
    return out


def _cat_mean(chosen: list[Value]) -> Value:
    """A categorical mean: the selected value, which must be the same everywhere."""
    first = chosen[0]
    for other in chosen[1:]:
        if value_key(other) != value_key(first):
            raise NaiveEvalError(
                "cat-mean", f"categorical mean over distinct values {first!r} and {other!r}"
            )
    return first


def _total(reduce: str, chosen: list[Value]) -> Fraction:
    """The exact sum of numbers (``aggregate-type`` for anything else)."""
    total = Fraction(0)
    for v in chosen:
        if not _is_num(v):
            raise NaiveEvalError("aggregate-type", f"{reduce} over non-number {v!r}")
        total += _num(v, reduce)
    return total


def _sum(chosen: list[Value]) -> Value:
    """``sum`` of numbers, in normal form."""
    return _norm(_total("sum", chosen))


def _num_mean(chosen: list[Value]) -> Value:
    """The exact mean of numbers, in normal form."""
    return _norm(_total("mean", chosen) / len(chosen))


def _extremum(reduce: str, chosen: list[Value]) -> Value:
    """``max``/``min`` of mutually ordered, defined values (the first of equals wins)."""
    best = chosen[0]
    try:
        for v in chosen:
            if v is None:
                raise _ExprFailure("undefined value")
            better = _less(best, v) if reduce == "max" else _less(v, best)
            if better:
                best = v
    except _ExprFailure as exc:
        raise NaiveEvalError("aggregate-type", f"{reduce}: {exc}") from None
    return _norm(_num(best, reduce)) if _is_num(best) else best


# The reductions of non-empty rows; a categorical mean is _cat_mean instead.
_REDUCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "mean": _num_mean,
    "sum": _sum,
    "max": lambda chosen: _extremum("max", chosen),
    "min": lambda chosen: _extremum("min", chosen),
}


# ---------------------------------------------------------------- driver


class NaiveRun:
    """Everything one naive evaluation computed: s-op values and selector matrices by name."""

    def __init__(self, sops: dict[str, list[Value]], selectors: dict[str, Matrix]) -> None:
        self.sops = sops
        self.selectors = selectors


def _positions(program: Program, tokens: Sequence[Value]) -> list[Value]:
    header = program.header
    vocab_keys = [value_key(v) for v in header.vocab]
    for position, token in enumerate(tokens):
        if value_key(token) not in vocab_keys:
            raise NaiveEvalError(
                "input-token", f"token {token!r} at position {position} is not in the vocabulary"
            )
    if len(tokens) > header.max_len:
        raise NaiveEvalError(
            "input-length", f"{len(tokens)} tokens exceed max_len {header.max_len}"
        )
    seq = list(tokens)
    if header.bos is not None:
        seq = [header.bos, *seq]
    return seq


@dataclass
class _State:
    """What the bindings evaluated so far see: the program, the sequence length, the values."""

    program: Program
    n: int
    sops: dict[str, list[Value]]
    selectors: dict[str, Matrix]


def naive_run(program: Program, tokens: Sequence[Value]) -> NaiveRun:
    """Evaluate every binding of ``program`` on the content ``tokens``."""
    seq = _positions(program, tokens)
    n = len(seq)
    sops: dict[str, list[Value]] = {
        "tokens": seq,
        "indices": list(range(n)),
        "length": [i + 1 if program.header.causal else n for i in range(n)],
    }
    state = _State(program, n, sops, {})
    for binding in program.bindings:
        node = binding.node
        sop_rule = _SOP_RULES.get(type(node))
        if sop_rule is not None:
            state.sops[binding.name] = sop_rule(node, state)
            continue
        selector_rule = _SELECTOR_RULES.get(type(node))
        if selector_rule is None:  # pragma: no cover - every node kind has a rule
            raise TypeError(f"unknown node {node!r}")
        state.selectors[binding.name] = selector_rule(node, state)
    return NaiveRun(state.sops, state.selectors)


def _run_full(node: Full, state: _State) -> list[Value]:
    """The same value at every position."""
    return [node.value for _ in range(state.n)]


def _run_map(node: Map, state: _State) -> list[Value]:
    """The function at each position; ``default`` where an input is undefined."""
    column: list[Value] = []
    for i in range(state.n):
        args = [state.sops[src][i] for src in node.inputs]
        if any(a is None for a in args):
            column.append(node.default)
        else:
            column.append(_apply(node.fn, args))
    return column


def _run_aggregate(node: Aggregate, state: _State) -> list[Value]:
    """The selected values of ``node.sop`` reduced per query position."""
    encoding = state.program.encoding_of(node.sop)
    return _aggregate(
        state.selectors[node.selector], state.sops[node.sop], node.reduce, encoding, node.default
    )


def _run_vote(node: PooledVote, state: _State) -> list[Value]:
    """Per query, the first label whose mean score over the selected keys is largest."""
    scores: list[list[Fraction]] = []
    for j in range(state.n):
        args = [state.sops[src][j] for src in node.inputs]
        if any(a is None for a in args):
            raise NaiveEvalError("vote-undefined", f"vote input undefined at position {j}")
        row = [_apply(fn, args) for fn in node.scores]
        if not all(_is_num(v) for v in row):
            raise NaiveEvalError("vote-score", f"a vote score is not a number: {row!r}")
        scores.append([Fraction(_num(v, "vote")) for v in row])
    out: list[Value] = []
    for selected in state.selectors[node.selector]:
        keys = [j for j in range(state.n) if selected[j]]
        if not keys:
            out.append(node.default)
            continue
        means = [
            sum((scores[j][c] for j in keys), Fraction(0)) / len(keys)
            for c in range(len(node.labels))
        ]
        out.append(node.labels[means.index(max(means))])
    return out


def _run_selector_width(node: SelectorWidth, state: _State) -> list[Value]:
    """How many keys each query position selects."""
    return [sum(1 for x in row if x) for row in state.selectors[node.selector]]


def _keys_and_queries(
    node: Select | SelectClosest, state: _State
) -> tuple[list[Value], list[Value]]:
    """The key and query columns of a selection, which must be defined everywhere."""
    keys = state.sops[node.keys]
    queries = state.sops[node.queries]
    _check_defined(node.keys, keys, "key")
    _check_defined(node.queries, queries, "query")
    return keys, queries


def _run_select(node: Select, state: _State) -> Matrix:
    """``select``: the predicate on every (key, query) pair."""
    keys, queries = _keys_and_queries(node, state)
    return _select(keys, queries, node.predicate, state.program.header.causal)


def _run_select_closest(node: SelectClosest, state: _State) -> Matrix:
    """``select_closest``: at most one key per query."""
    keys, queries = _keys_and_queries(node, state)
    header = state.program.header
    return _select_closest(keys, queries, node.predicate, header.causal, header.bos is not None)


def _run_selector_and(node: SelectorAnd, state: _State) -> Matrix:
    """Both selectors select the pair."""
    left, right = state.selectors[node.left], state.selectors[node.right]
    n = state.n
    return [[left[i][j] and right[i][j] for j in range(n)] for i in range(n)]


def _run_selector_or(node: SelectorOr, state: _State) -> Matrix:
    """Either selector selects the pair."""
    left, right = state.selectors[node.left], state.selectors[node.right]
    n = state.n
    return [[left[i][j] or right[i][j] for j in range(n)] for i in range(n)]


def _run_selector_not(node: SelectorNot, state: _State) -> Matrix:
    """The pairs the operand does not select (never a future key when causal)."""
    inner = state.selectors[node.operand]
    causal = state.program.header.causal
    n = state.n
    return [[(not inner[i][j]) and not (causal and j > i) for j in range(n)] for i in range(n)]


# One rule per node kind, filling the s-op or the selector its binding names.
_SOP_RULES: dict[type, Callable[[Any, _State], list[Value]]] = {
    Full: _run_full,
    Map: _run_map,
    Aggregate: _run_aggregate,
    SelectorWidth: _run_selector_width,
    PooledVote: _run_vote,
}
_SELECTOR_RULES: dict[type, Callable[[Any, _State], Matrix]] = {
    Select: _run_select,
    SelectClosest: _run_select_closest,
    SelectorAnd: _run_selector_and,
    SelectorOr: _run_selector_or,
    SelectorNot: _run_selector_not,
}


def evaluate_naive(program: Program, tokens: Sequence[Value]) -> dict[str, list[Value]]:
    """The values of the primitives and of every s-op binding for one input (content tokens)."""
    return naive_run(program, tokens).sops


def naive_selectors(program: Program, tokens: Sequence[Value]) -> dict[str, Matrix]:
    """Every selector's boolean matrix (rows are queries, columns keys) for one input."""
    return naive_run(program, tokens).selectors


def naive_outputs(program: Program, tokens: Sequence[Value]) -> dict[str, list[Value]]:
    """The values of the program's outputs for one input (content tokens)."""
    sops = evaluate_naive(program, tokens)
    return {name: sops[name] for name in program.outputs}
