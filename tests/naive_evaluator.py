"""A deliberately naive reference evaluator for IR programs: a second opinion for tests.

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
  ``num`` mean is the exact mean; ``sum``/``max``/``min`` reduce the selected values.

Errors raise :class:`NaiveEvalError` whose ``code`` matches the interpreter's diagnostic codes:
``input-token``, ``input-length``, ``undefined-select``, ``cat-mean``, ``map-error``,
``predicate-not-bool``; plus ``aggregate-type`` for a ``sum``/``max``/``min``/``num`` mean over a
value that is not a number (or, for ``max``/``min``, not mutually ordered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

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
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Param):
        if expr.name not in env:
            raise _ExprFailure(f"unknown parameter {expr.name!r}")
        return env[expr.name]
    if isinstance(expr, Unary):
        value = _ev(expr.operand, env)
        if expr.op == "not":
            return not _need_bool(value, "'not'")
        if expr.op == "-":
            return _norm(-_num(value, "unary '-'"))
        raise _ExprFailure(f"unknown unary operator {expr.op!r}")
    if isinstance(expr, Binary):
        return _ev_binary(expr, env)
    if isinstance(expr, IfElse):
        cond = _need_bool(_ev(expr.cond, env), "'if'")
        return _ev(expr.then, env) if cond else _ev(expr.orelse, env)
    if isinstance(expr, Member):
        element = _ev(expr.element, env)
        found = False
        for option in expr.options:
            if _eq(element, option):
                found = True
                break
        return (not found) if expr.negated else found
    if isinstance(expr, Lookup):
        key = [value_key(_ev(k, env)) for k in expr.keys]
        for entry_key, result in expr.entries:
            if [value_key(v) for v in entry_key] == key:
                return result
        return _ev(expr.default, env)
    if isinstance(expr, Call):
        return _ev_call(expr, env)
    raise _ExprFailure(f"unknown expression {expr!r}")


def _ev_binary(expr: Binary, env: Mapping[str, Value]) -> Value:
    op = expr.op
    if op in ("and", "or"):
        left = _need_bool(_ev(expr.left, env), f"'{op}'")
        if op == "and" and not left:
            return False
        if op == "or" and left:
            return True
        return _need_bool(_ev(expr.right, env), f"'{op}'")
    left = _ev(expr.left, env)
    right = _ev(expr.right, env)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return _compare(op, left, right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    a = _num(left, f"'{op}'")
    b = _num(right, f"'{op}'")
    if op == "+":
        return _norm(a + b)
    if op == "-":
        return _norm(a - b)
    if op == "*":
        return _norm(a * b)
    if op in ("/", "%"):
        if b == 0:
            raise _ExprFailure(f"division by zero: {a} {op} 0")
        if op == "/":
            return _norm(Fraction(a) / Fraction(b))
        return _norm(a % b)
    raise _ExprFailure(f"unknown operator {op!r}")


def _ev_call(expr: Call, env: Mapping[str, Value]) -> Value:
    args = [_ev(a, env) for a in expr.args]
    name = expr.func
    if name in ("min", "max"):
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
    if name == "argmax":
        if not args:
            raise _ExprFailure("argmax needs at least one argument")
        numbers = [_num(a, "argmax") for a in args]
        return next(i for i, x in enumerate(numbers) if all(x >= y for y in numbers))
    if len(args) != 1:
        raise _ExprFailure(f"{name} takes exactly one argument")
    if name == "abs":
        x = _num(args[0], "abs")
        return _norm(x if x >= 0 else -x)
    if name == "round":
        x = _num(args[0], "round")
        return round(Fraction(x))
    raise _ExprFailure(f"unknown function {name!r}")


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
    out: list[Value] = []
    for row in matrix:
        chosen = [values[j] for j in range(len(row)) if row[j]]
        if not chosen:
            out.append(default)
        elif reduce == "mean" and encoding == "cat":
            first = chosen[0]
            for other in chosen[1:]:
                if value_key(other) != value_key(first):
                    raise NaiveEvalError(
                        "cat-mean",
                        f"categorical mean over distinct values {first!r} and {other!r}",
                    )
            out.append(first)
        elif reduce in ("mean", "sum"):
            total: Fraction = Fraction(0)
            for v in chosen:
                if not _is_num(v):
                    raise NaiveEvalError("aggregate-type", f"{reduce} over non-number {v!r}")
                total += _num(v, reduce)
            if reduce == "mean":
                total = total / len(chosen)
            out.append(_norm(total))
        elif reduce in ("max", "min"):
            best = chosen[0]
            try:
                for v in chosen:
                    if v is None:
                        raise _ExprFailure("undefined value")
                    if (reduce == "max" and _less(best, v)) or (reduce == "min" and _less(v, best)):
                        best = v
                if best is None:
                    raise _ExprFailure("undefined value")
            except _ExprFailure as exc:
                raise NaiveEvalError("aggregate-type", f"{reduce}: {exc}") from None
            out.append(_norm(_num(best, reduce)) if _is_num(best) else best)
        else:
            raise NaiveEvalError("aggregate-type", f"unknown reduction {reduce!r}")
    return out


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


def naive_run(program: Program, tokens: Sequence[Value]) -> NaiveRun:
    """Evaluate every binding of ``program`` on the content ``tokens``."""
    header = program.header
    seq = _positions(program, tokens)
    n = len(seq)
    sops: dict[str, list[Value]] = {
        "tokens": seq,
        "indices": list(range(n)),
        "length": [i + 1 if header.causal else n for i in range(n)],
    }
    selectors: dict[str, Matrix] = {}
    for binding in program.bindings:
        node = binding.node
        name = binding.name
        if isinstance(node, Full):
            sops[name] = [node.value for _ in range(n)]
        elif isinstance(node, Map):
            column: list[Value] = []
            for i in range(n):
                args = [sops[src][i] for src in node.inputs]
                if any(a is None for a in args):
                    column.append(node.default)
                else:
                    column.append(_apply(node.fn, args))
            sops[name] = column
        elif isinstance(node, (Select, SelectClosest)):
            keys = sops[node.keys]
            queries = sops[node.queries]
            _check_defined(node.keys, keys, "key")
            _check_defined(node.queries, queries, "query")
            if isinstance(node, Select):
                selectors[name] = _select(keys, queries, node.predicate, header.causal)
            else:
                selectors[name] = _select_closest(
                    keys, queries, node.predicate, header.causal, header.bos is not None
                )
        elif isinstance(node, (SelectorAnd, SelectorOr)):
            left = selectors[node.left]
            right = selectors[node.right]
            is_and = isinstance(node, SelectorAnd)
            selectors[name] = [
                [(left[i][j] and right[i][j]) if is_and else (left[i][j] or right[i][j])
                 for j in range(n)]
                for i in range(n)
            ]  # fmt: skip
        elif isinstance(node, SelectorNot):
            inner = selectors[node.operand]
            selectors[name] = [
                [(not inner[i][j]) and not (header.causal and j > i) for j in range(n)]
                for i in range(n)
            ]
        elif isinstance(node, Aggregate):
            encoding = program.encoding_of(node.sop)
            sops[name] = _aggregate(
                selectors[node.selector], sops[node.sop], node.reduce, encoding, node.default
            )
        elif isinstance(node, SelectorWidth):
            sops[name] = [sum(1 for x in row if x) for row in selectors[node.selector]]
        else:  # pragma: no cover - every node kind is handled above
            raise TypeError(f"unknown node {node!r}")
    return NaiveRun(sops, selectors)


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
