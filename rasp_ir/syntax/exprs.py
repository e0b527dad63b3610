"""AST expressions of the expression language in, :class:`~rasp_ir.ir.Expr` out: arithmetic,
comparisons, logic, conditionals, membership, ``lookup`` tables and the expression built-ins
(``min``, ``max``, ``indicator``, ...), folded to a constant where no parameter is free.

What names and other calls become is the caller's choice: lambda bodies read parameters,
operators on s-ops read s-ops (see :mod:`rasp_ir.syntax.elaborate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasp_ir import ir
from rasp_ir.diagnostics import Span
from rasp_ir.syntax import ast
from rasp_ir.syntax.resolved import Resolved, Scope, SetVal, TableVal
from rasp_ir.syntax.state import Recorder
from rasp_ir.term_eval import ExprError, evaluate
from rasp_ir.terms import free_params

EXPR_BUILTINS = (*ir.EXPR_FUNCTIONS, "lookup", "indicator")


def fold(recorder: Recorder, expr: ir.Expr, span: Span) -> ir.Expr:
    """``expr``, evaluated to a constant if it reads no parameter."""
    if free_params(expr):
        return expr
    try:
        return ir.Const(evaluate(expr, {}))
    except ExprError as error:
        raise recorder.error("constant", f"cannot evaluate this constant: {error}", span) from None


@dataclass(frozen=True)
class TermBuilder:
    """Builds expressions from AST nodes.

    ``leaf`` decides what names and non-expression calls become; ``constant_literal`` resolves
    the set and table literals that ``in`` and ``lookup`` take; ``scope`` shadows built-ins.
    """

    recorder: Recorder
    scope: Scope
    leaf: Callable[[ast.Argument], ir.Expr]
    constant_literal: Callable[[ast.Argument], Resolved]

    def build(self, node: ast.Argument) -> ir.Expr:
        """The expression ``node`` stands for."""
        if isinstance(node, ast.LITERALS):
            return ir.Const(self.recorder.literal(node))
        rule = _RULES.get(type(node))
        if rule is None or (isinstance(node, ast.Call) and not self.is_builtin_call(node)):
            return self.leaf(node)
        return fold(self.recorder, rule(self, node), node.span)

    def is_builtin_call(self, node: ast.Call) -> bool:
        """Whether ``node`` calls an expression built-in that no local name shadows."""
        return node.name in EXPR_BUILTINS and node.name not in self.scope

    def _binary(self, node: ast.BinOp | ast.Logic) -> ir.Expr:
        return ir.Binary(node.op, self.build(node.left), self.build(node.right))

    def _not(self, node: ast.Not) -> ir.Expr:
        return ir.Unary("not", self.build(node.operand))

    def _neg(self, node: ast.Neg) -> ir.Expr:
        return ir.Unary("-", self.build(node.operand))

    def _ifelse(self, node: ast.IfElse) -> ir.Expr:
        then = self.build(node.then)
        cond = self.build(node.cond)
        orelse = self.build(node.orelse)
        return ir.IfElse(cond, then, orelse)

    def _member(self, node: ast.Member) -> ir.Expr:
        element = self.build(node.element)
        options = self.constant_literal(node.options)
        if not isinstance(options, SetVal):
            raise self.recorder.error(
                "type", "'in' needs a set of constants, e.g. x in {1, 2}", node.span
            )
        return ir.Member(element, options.values, node.negated)

    def _call(self, node: ast.Call) -> ir.Expr:
        if node.name == "lookup":
            return self._lookup(node)
        if node.keywords:
            raise self.recorder.error("arity", f"{node.name} takes no keyword arguments", node.span)
        args = tuple(self.build(a) for a in node.positional)
        problem = _arity_problem(node.name, len(args))
        if problem:
            raise self.recorder.error("arity", problem, node.span)
        if node.name == "indicator":
            return ir.IfElse(args[0], ir.Const(1), ir.Const(0))
        return ir.Call(node.name, args)

    def _lookup(self, node: ast.Call) -> ir.Expr:
        keywords = {k.name: k.value for k in node.keywords}
        if len(node.positional) != 2 or set(keywords) - {"default"}:
            raise self.recorder.error(
                "arity", "lookup takes a key and a table: lookup(x, {1: 2}, default=0)", node.span
            )
        key_node, table_node = node.positional
        parts = key_node.items if isinstance(key_node, ast.TupleLit) else (key_node,)
        keys = tuple(self.build(k) for k in parts)
        table = self.constant_literal(table_node)
        if isinstance(table, SetVal) and not table.values:
            table = TableVal(())
        if not isinstance(table, TableVal):
            raise self.recorder.error(
                "type", "lookup needs a table literal {key: value, ...}", node.span
            )
        if any(len(entry_key) != len(keys) for entry_key, _ in table.entries):
            raise self.recorder.error(
                "arity", f"table keys must have {len(keys)} part(s), like the lookup key", node.span
            )
        default = self.build(keywords["default"]) if "default" in keywords else ir.Const(None)
        return ir.Lookup(keys, table.entries, default)


def _arity_problem(name: str, count: int) -> str:
    """What is wrong with ``count`` arguments to the built-in ``name`` ('' if nothing)."""
    accepts, problem = _ARITIES.get(name, (lambda n: True, ""))
    return "" if accepts(count) else problem


_ARITIES: dict[str, tuple[Callable[[int], bool], str]] = {
    "indicator": (lambda n: n == 1, "indicator takes one argument"),
    "min": (lambda n: n >= 2, "min takes two or more arguments"),
    "max": (lambda n: n >= 2, "max takes two or more arguments"),
    "argmax": (lambda n: n >= 1, "argmax takes one or more arguments"),
    "abs": (lambda n: n == 1, "abs takes one argument"),
    "round": (lambda n: n == 1, "round takes one argument"),
}

# One rule per operator node (and built-in calls); each takes the builder and the node.
_RULES: dict[type, Callable[[TermBuilder, Any], ir.Expr]] = {
    ast.BinOp: TermBuilder._binary,
    ast.Logic: TermBuilder._binary,
    ast.Not: TermBuilder._not,
    ast.Neg: TermBuilder._neg,
    ast.IfElse: TermBuilder._ifelse,
    ast.Member: TermBuilder._member,
    ast.Call: TermBuilder._call,
}
