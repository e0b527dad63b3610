"""IR functions in, values out: :class:`~rasp_ir.ir.Lambda` application and a structural bound on
what a function body can return; the term evaluator (:mod:`rasp_ir.term_eval`) underneath."""

from __future__ import annotations

from rasp_ir.ir import Lambda
from rasp_ir.term_eval import EQUALITY, LOGICAL, ORDERING, ExprError, compiled_once, evaluate
from rasp_ir.terms import Binary, Call, Const, Expr, IfElse, Lookup, Member, Unary
from rasp_ir.values import Value

__all__ = ["ExprError", "apply_lambda", "evaluate", "result_bound"]


def apply_lambda(fn: Lambda, args: tuple[Value, ...]) -> Value:
    """``fn(*args)``."""
    if len(args) != len(fn.params):
        raise ExprError(f"function takes {len(fn.params)} arguments, got {len(args)}")
    return compiled_once(fn.body)(dict(zip(fn.params, args, strict=True)))


def result_bound(expr: Expr) -> tuple[Value, ...] | None:
    """A finite superset of the values ``expr`` can return, read off its structure (without
    enumerating inputs), or None when the structure does not bound it."""
    if isinstance(expr, Const):
        return (expr.value,)
    if isinstance(expr, (Member, Unary)) and (isinstance(expr, Member) or expr.op == "not"):
        return (False, True)
    if isinstance(expr, Binary) and expr.op in (*EQUALITY, *ORDERING, *LOGICAL):
        return (False, True)
    if isinstance(expr, IfElse):
        then, orelse = result_bound(expr.then), result_bound(expr.orelse)
        return None if then is None or orelse is None else (*then, *orelse)
    if isinstance(expr, Lookup):
        default = result_bound(expr.default)
        return None if default is None else (*(v for _, v in expr.entries), *default)
    if isinstance(expr, Call) and expr.func == "argmax":
        return tuple(range(len(expr.args)))
    return None
