"""Parse trees of the expression language in, :class:`~rasp_ir.ir.Expr` out: arithmetic,
comparisons, logic, conditionals, membership, ``lookup`` tables and the expression built-ins
(``min``, ``max``, ``indicator``, ...), folded to a constant where no parameter is free.

What names and other calls become is the caller's choice: lambda bodies read parameters,
operators on s-ops read s-ops (see :mod:`rasp_ir.lowering`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lark import Token, Tree

from rasp_ir import ir
from rasp_ir.diagnostics import Span
from rasp_ir.lowered import LITERALS, Lowered, SetVal, TableVal, split_arguments
from rasp_ir.lowering_state import Recorder, Source
from rasp_ir.syntax import ParseTree, span_of
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
class ExprBuilder:
    """Builds expressions from the trees of one source.

    ``leaf`` decides what names and non-expression calls become; ``constant_literal`` lowers
    the set and table literals that ``in`` and ``lookup`` take.
    """

    recorder: Recorder
    source: Source
    scope: dict[str, Lowered]
    leaf: Callable[[ParseTree | Token], ir.Expr]
    constant_literal: Callable[[ParseTree | Token], Lowered]

    def build(self, tree: ParseTree | Token) -> ir.Expr:
        """The expression ``tree`` stands for."""
        span = span_of(tree, self.source.text, self.source.file)
        if isinstance(tree, Token):
            raise self.recorder.error("syntax", "unexpected token", span)
        kind = tree.data
        children = tree.children
        sub = self.build
        result: ir.Expr
        if kind in LITERALS:
            return ir.Const(self.recorder.literal(tree, span))
        if kind == "arith" or kind == "compare":
            result = ir.Binary(str(children[1]), sub(children[0]), sub(children[2]))
        elif kind in ("and_op", "or_op"):
            result = ir.Binary(kind.removesuffix("_op"), sub(children[0]), sub(children[1]))
        elif kind == "not_op":
            result = ir.Unary("not", sub(children[0]))
        elif kind == "neg":
            result = ir.Unary("-", sub(children[0]))
        elif kind == "ifelse":
            then, cond, orelse = (sub(c) for c in children)
            result = ir.IfElse(cond, then, orelse)
        elif kind in ("member", "not_member"):
            element = sub(children[0])
            options = self.constant_literal(children[1])
            if not isinstance(options, SetVal):
                raise self.recorder.error(
                    "type", "'in' needs a set of constants, e.g. x in {1, 2}", span
                )
            result = ir.Member(element, options.values, kind == "not_member")
        elif (
            kind == "call"
            and str(children[0]) in EXPR_BUILTINS
            and str(children[0]) not in self.scope
        ):
            result = self._call(tree)
        else:
            return self.leaf(tree)
        return fold(self.recorder, result, span)

    def _call(self, tree: ParseTree) -> ir.Expr:
        name = str(tree.children[0])
        span = span_of(tree, self.source.text, self.source.file)
        positional, keywords = split_arguments(tree.children[1:])
        sub = self.build
        if name == "lookup":
            if len(positional) != 2 or set(keywords) - {"default"}:
                raise self.recorder.error(
                    "arity",
                    "lookup takes a key and a table: lookup(x, {1: 2}, default=0)",
                    span,
                )
            key_tree, table_tree = positional
            keys = (
                tuple(sub(c) for c in key_tree.children)
                if isinstance(key_tree, Tree) and key_tree.data == "tuple_"
                else (sub(key_tree),)
            )
            table = self.constant_literal(table_tree)
            if isinstance(table, SetVal) and not table.values:
                table = TableVal(())
            if not isinstance(table, TableVal):
                raise self.recorder.error(
                    "type", "lookup needs a table literal {key: value, ...}", span
                )
            for entry_key, _ in table.entries:
                if len(entry_key) != len(keys):
                    raise self.recorder.error(
                        "arity",
                        f"table keys must have {len(keys)} part(s), like the lookup key",
                        span,
                    )
            default = sub(keywords["default"]) if "default" in keywords else ir.Const(None)
            return ir.Lookup(keys, table.entries, default)
        if keywords:
            raise self.recorder.error("arity", f"{name} takes no keyword arguments", span)
        args = tuple(sub(a) for a in positional)
        if name == "indicator":
            if len(args) != 1:
                raise self.recorder.error("arity", "indicator takes one argument", span)
            return ir.IfElse(args[0], ir.Const(1), ir.Const(0))
        if name in ("min", "max") and len(args) < 2:
            raise self.recorder.error("arity", f"{name} takes two or more arguments", span)
        if name == "argmax" and not args:
            raise self.recorder.error("arity", "argmax takes one or more arguments", span)
        if name in ("abs", "round") and len(args) != 1:
            raise self.recorder.error("arity", f"{name} takes one argument", span)
        return ir.Call(name, args)
