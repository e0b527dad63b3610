"""AST expressions in, resolved values out (:mod:`rasp_ir.syntax.resolved`): names looked up,
operators on s-ops desugared into maps, selector logic, function literals, constants folded,
built-in calls built (:mod:`rasp_ir.syntax.calls`) and ``def`` macros expanded.

The nodes an expression creates are recorded as temporaries of the binding's
:class:`~rasp_ir.syntax.state.Context`; :mod:`rasp_ir.syntax.bindings` names and commits them.
"""

from __future__ import annotations

import difflib
from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasp_ir import ir
from rasp_ir.diagnostics import Span
from rasp_ir.limits import MAX_MACRO_DEPTH
from rasp_ir.syntax import ast
from rasp_ir.syntax.calls import CALL_BUILDERS, MAP_ALIASES, SOP_BUILTINS
from rasp_ir.syntax.exprs import EXPR_BUILTINS, TermBuilder, fold
from rasp_ir.syntax.resolved import (
    POISONED,
    ConstVal,
    FnVal,
    OpVal,
    Resolved,
    Scope,
    SelRef,
    SetVal,
    SOpRef,
    TableVal,
    TupleVal,
    const_value,
    describe_resolved,
    is_macro_marker,
)
from rasp_ir.syntax.state import TEMP, Context, Recorder, StatementFailed
from rasp_ir.values import Value, value_key

CONSTANT = "\0const"
"""The context name of constant expressions (header values, set and table literals)."""

_BODY_HINT = (
    "a function body computes one value from its parameters (arithmetic, comparisons, "
    "if/else, lookup, min, max, abs, round, argmax, indicator); build s-ops outside it"
)


@dataclass
class MacroDef:
    """A ``def``: its AST and the scope of the file that defines it (read at each call)."""

    node: ast.Def
    scope: Scope


@dataclass(frozen=True)
class MacroArgument:
    """A macro argument built by its call: the binding it becomes if the macro body's own
    bindings read it (``x__h__s`` for parameter ``s`` of ``h`` inside ``x``), and the context
    that holds its nodes until then."""

    name: str
    context: Context


class Elaborator(Recorder):
    """Resolves expressions against a scope; subclasses say how a macro's bindings are bound."""

    def __init__(self) -> None:
        super().__init__()
        self.defs: dict[str, MacroDef] = {}
        self.macro_stack: list[str] = []
        self.macro_arguments: dict[str, MacroArgument] = {}

    def bind(self, binding: ast.Binding, scope: Scope, *, prefix: str) -> None:
        """Resolve and record one binding (of a file, or of a macro body under ``prefix``)."""
        raise NotImplementedError

    def commit_argument(self, temp: str) -> str:
        """The binding name of the macro argument ``temp``, committing its nodes if needed."""
        raise NotImplementedError

    def resolve(self, node: ast.Argument, scope: Scope, ctx: Context) -> Resolved:
        """What ``node`` stands for; nodes it creates are recorded in ``ctx``."""
        if isinstance(node, ast.LITERALS):
            return ConstVal(self.literal(node))
        return _RESOLVERS[type(node)](self, node, scope, ctx)

    def constant(self, node: ast.Expr, scope: Scope) -> Value:
        """The value of a constant expression."""
        resolved = self.resolve(node, scope, Context(CONSTANT))
        if not isinstance(resolved, ConstVal):
            raise self.error(
                "type", f"expected a constant, got {describe_resolved(resolved)}", node.span
            )
        return resolved.value

    def undefined(self, name: str, span: Span, scope: Scope) -> None:
        """Record that ``name`` is not defined, with the closest defined name as a hint."""
        candidates = [n for n in scope if not n.startswith("_")] + list(SOP_BUILTINS)
        close = difflib.get_close_matches(name, candidates, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "bind it before using it"
        self.error("undefined", f"{name!r} is not defined", span, hint)

    # ------------------------------------------------------------ names and literals

    def _name(self, node: ast.Name, scope: Scope, ctx: Context) -> Resolved:
        found = scope.get(node.name)
        if found is None:
            self.undefined(node.name, node.span, scope)
            raise StatementFailed()
        if found is POISONED:
            raise StatementFailed()
        if is_macro_marker(found):
            raise self.error("type", f"{node.name} is a def; call it with arguments", node.span)
        return self._bound_in(found, ctx)

    def _bound_in(self, found: Resolved, ctx: Context) -> Resolved:
        """``found`` as ``ctx`` may read it: a macro argument whose nodes belong to another
        binding's context (a macro body binding reads a parameter) is committed first, since
        ``ctx`` is committed before that context is."""
        if not isinstance(found, (SOpRef, SelRef)):
            return found
        if not found.name.startswith(TEMP) or found.name in ctx.created:
            return found
        return type(found)(self.commit_argument(found.name))

    def _set(self, node: ast.SetLit, scope: Scope, ctx: Context) -> Resolved:
        return SetVal(tuple(self.constant(c, scope) for c in node.items))

    def _tuple(self, node: ast.TupleLit, scope: Scope, ctx: Context) -> Resolved:
        return TupleVal(tuple(self.constant(c, scope) for c in node.items))

    def _table(self, node: ast.TableLit, scope: Scope, ctx: Context) -> Resolved:
        entries: list[tuple[tuple[Value, ...], Value]] = []
        seen: set[tuple[object, ...]] = set()
        for entry in node.entries:
            key = self._table_key(entry.key, scope)
            marker = tuple(value_key(k) for k in key)
            if marker in seen:
                raise self.error("duplicate", "table key given twice", entry.key.span)
            seen.add(marker)
            entries.append((key, self.constant(entry.value, scope)))
        return TableVal(tuple(entries))

    def _table_key(self, node: ast.Expr, scope: Scope) -> tuple[Value, ...]:
        resolved = self.resolve(node, scope, Context(CONSTANT))
        if isinstance(resolved, TupleVal):
            return resolved.values
        if isinstance(resolved, ConstVal):
            return (resolved.value,)
        raise self.error("type", "table keys must be constants", node.span)

    def _operator_argument(self, node: ast.OperatorArg, scope: Scope, ctx: Context) -> Resolved:
        raise self.error("syntax", "operator_argument cannot be used here", node.span)

    # ------------------------------------------------------------ function literals

    def _lambda(self, node: ast.FnLit, scope: Scope, ctx: Context) -> Resolved:
        if len(set(node.params)) != len(node.params):
            raise self.error("duplicate", "a function repeats a parameter name", node.span)
        params = set(node.params)
        builder = self._term_builder(scope, lambda leaf: self._body_leaf(leaf, scope, params))
        return FnVal(ir.Lambda(node.params, builder.build(node.body), node.span))

    def _body_leaf(self, node: ast.Argument, scope: Scope, params: set[str]) -> ir.Expr:
        """What a function body may read besides operators: a parameter or a constant;
        anything else (an s-op call, a selector) has no place in it."""
        if isinstance(node, ast.Call):
            raise self.error(
                "type",
                f"{node.name}(...) cannot be used inside a function body",
                node.span,
                _BODY_HINT,
            )
        if not isinstance(node, ast.Name):
            raise self.error(
                "type", "this cannot be used inside a function body", node.span, _BODY_HINT
            )
        if node.name in params:
            return ir.Param(node.name)
        found = scope.get(node.name)
        if isinstance(found, ConstVal):
            return ir.Const(found.value)
        if isinstance(found, (SOpRef, SelRef)):
            raise self.error(
                "type",
                f"a function body cannot read the s-op {node.name!r}",
                node.span,
                "pass it as an input: map(fn(a, b) -> ..., a, b)",
            )
        self.undefined(node.name, node.span, scope)
        raise StatementFailed()

    def _term_builder(self, scope: Scope, leaf: Callable[[ast.Argument], ir.Expr]) -> TermBuilder:
        def constant_literal(node: ast.Argument) -> Resolved:
            return self.resolve(node, scope, Context(CONSTANT))

        return TermBuilder(self, scope, leaf, constant_literal)

    # ------------------------------------------------------------ operators on s-ops

    def _operator(self, node: ast.Expr, scope: Scope, ctx: Context) -> Resolved:
        """Arithmetic, comparisons, conditionals, membership and expression built-ins on s-ops
        or constants: a map of the s-ops they read, or the constant they fold to."""
        inputs: list[str] = []
        builder = self._term_builder(scope, lambda leaf: self._sop_leaf(leaf, scope, ctx, inputs))
        return self._sugar_map(builder.build(node), inputs, node.span, ctx)

    def _sugar_map(self, body: ir.Expr, inputs: list[str], span: Span, ctx: Context) -> Resolved:
        """A map of ``inputs`` computing ``body``, or the constant ``body`` folds to."""
        if not inputs:
            return ConstVal(const_value(body))
        fn = ir.Lambda(tuple(inputs), body, span)
        return SOpRef(self.temp(ctx, ir.Map(fn, tuple(inputs)), span))

    def _logic(self, node: ast.Logic | ast.Not, scope: Scope, ctx: Context) -> Resolved:
        """``and``/``or``/``not``: on selectors a selector, on s-ops or constants a map."""
        children = (node.operand,) if isinstance(node, ast.Not) else (node.left, node.right)
        operands = [self.resolve(c, scope, ctx) for c in children]
        if any(isinstance(o, SelRef) for o in operands):
            return self._selector_logic(node, operands, ctx)
        inputs: list[str] = []
        parts = [self._as_body(o, inputs, node.span) for o in operands]
        body: ir.Expr
        if isinstance(node, ast.Not):
            body = ir.Unary("not", parts[0])
        else:
            body = ir.Binary(node.op, parts[0], parts[1])
        return self._sugar_map(fold(self, body, node.span), inputs, node.span, ctx)

    def _selector_logic(
        self, node: ast.Logic | ast.Not, operands: list[Resolved], ctx: Context
    ) -> Resolved:
        names = [o.name for o in operands if isinstance(o, SelRef)]
        if len(names) != len(operands):
            raise self.error(
                "type", "'and', 'or' and 'not' cannot mix selectors and s-ops", node.span
            )
        combined: ir.Node
        if isinstance(node, ast.Not):
            combined = ir.SelectorNot(names[0])
        elif node.op == "and":
            combined = ir.SelectorAnd(names[0], names[1])
        else:
            combined = ir.SelectorOr(names[0], names[1])
        return SelRef(self.temp(ctx, combined, node.span))

    def _as_body(self, resolved: Resolved, inputs: list[str], span: Span) -> ir.Expr:
        if isinstance(resolved, ConstVal):
            return ir.Const(resolved.value)
        if isinstance(resolved, SOpRef):
            if resolved.name not in inputs:
                inputs.append(resolved.name)
            return ir.Param(resolved.name)
        raise self.error(
            "type", f"{describe_resolved(resolved)} cannot be used in an s-op expression", span
        )

    def _sop_leaf(
        self, node: ast.Argument, scope: Scope, ctx: Context, inputs: list[str]
    ) -> ir.Expr:
        resolved = self.resolve(node, scope, ctx)
        if isinstance(resolved, SelRef):
            raise self.error(
                "type",
                "a selector cannot be used in arithmetic or comparisons",
                node.span,
                "combine selectors with and/or/not; aggregate them to get an s-op",
            )
        return self._as_body(resolved, inputs, node.span)

    # ------------------------------------------------------------ calls and macros

    def _call(self, node: ast.Call, scope: Scope, ctx: Context) -> Resolved:
        if node.name in self.defs and isinstance(scope.get(node.name), SOpRef):
            return self._macro(self.defs[node.name], node, scope, ctx)
        if node.name in EXPR_BUILTINS:
            return self._builtin_expression(node, scope, ctx)
        name = "map" if node.name in MAP_ALIASES else node.name
        if name not in SOP_BUILTINS:
            candidates = [*SOP_BUILTINS, *EXPR_BUILTINS, *self.defs]
            close = difflib.get_close_matches(name, candidates, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "define it with def"
            raise self.error("undefined", f"unknown function {name!r}", node.name_span, hint)
        positional = [self._argument(a, scope, ctx) for a in node.positional]
        keywords = {
            k: _reduction(v) if k == "reduce" else self._argument(v, scope, ctx)
            for k, v in _keyword_values(node).items()
        }
        return CALL_BUILDERS[name](self, name, positional, keywords, node.span, ctx)

    def _builtin_expression(self, node: ast.Call, scope: Scope, ctx: Context) -> Resolved:
        """``min(...)``, ``lookup(...)``, ...: sugar for a map, unless a ``def`` parameter of
        that name hides the built-in."""
        if node.name in scope:
            raise self.error(
                "type",
                f"{node.name} is a parameter of this def, not the built-in {node.name}(...)",
                node.name_span,
                "rename the parameter",
            )
        return self._operator(node, scope, ctx)

    def _argument(self, node: ast.Argument, scope: Scope, ctx: Context) -> Resolved:
        if isinstance(node, ast.OperatorArg):
            return OpVal(node.op)
        return self.resolve(node, scope, ctx)

    def _macro(self, definition: MacroDef, node: ast.Call, scope: Scope, ctx: Context) -> Resolved:
        name, params = definition.node.name, definition.node.params
        if name in self.macro_stack:
            raise self.error("recursion", f"def {name} calls itself", node.span)
        if len(self.macro_stack) >= MAX_MACRO_DEPTH:
            raise self.error(
                "nesting",
                f"def calls nest more than {MAX_MACRO_DEPTH} deep ({self.macro_stack[0]} -> ... "
                f"-> {self.macro_stack[-1]} -> {name})",
                node.span,
                "bind intermediate results outside the defs",
            )
        if node.keywords or len(node.positional) != len(params):
            raise self.error(
                "arity",
                f"{name} takes {len(params)} argument(s)",
                node.span,
                f"usage: {name}({', '.join(params)})",
            )
        args = [self._argument(a, scope, ctx) for a in node.positional]
        count = ctx.macro_calls.get(name, 0) + 1
        ctx.macro_calls[name] = count
        prefix = f"{ctx.name}__{name}{'' if count == 1 else count}"
        for param, arg in zip(params, args, strict=True):
            if isinstance(arg, (SOpRef, SelRef)) and arg.name.startswith(TEMP):
                # an argument passed on from an outer call keeps the outer parameter's name
                self.macro_arguments.setdefault(arg.name, MacroArgument(f"{prefix}__{param}", ctx))
        # the parameters over the defining file's scope as it is now (read through, not
        # copied: incremental resolution notes only the names a body reads)
        local_scope: Scope = ChainMap(dict(zip(params, args, strict=True)), definition.scope)
        self.macro_stack.append(name)
        try:
            for statement in definition.node.body:
                self.bind(statement, local_scope, prefix=prefix)
            return self.resolve(definition.node.result, local_scope, ctx)
        finally:
            self.macro_stack.pop()


def _keyword_values(node: ast.Call) -> dict[str, ast.Expr]:
    """The keyword arguments of a call by name (a repeated keyword: the last value, in the
    first one's place)."""
    return {k.name: k.value for k in node.keywords}


def _reduction(node: ast.Expr) -> Resolved:
    """The bare name given as ``reduce=`` (checked against the reductions by the caller)."""
    return OpVal(node.name if isinstance(node, ast.Name) else "")


# How each kind of node but literals resolves.
_RESOLVERS: dict[type, Callable[[Elaborator, Any, Scope, Context], Resolved]] = {
    ast.BinOp: Elaborator._operator,
    ast.Neg: Elaborator._operator,
    ast.IfElse: Elaborator._operator,
    ast.Member: Elaborator._operator,
    ast.Logic: Elaborator._logic,
    ast.Not: Elaborator._logic,
    ast.Name: Elaborator._name,
    ast.Call: Elaborator._call,
    ast.FnLit: Elaborator._lambda,
    ast.SetLit: Elaborator._set,
    ast.TupleLit: Elaborator._tuple,
    ast.TableLit: Elaborator._table,
    ast.OperatorArg: Elaborator._operator_argument,
}
