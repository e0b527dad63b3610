"""Parse tree in, IR :class:`~rasp_ir.ir.Program` out.

Resolves names, expands ``def`` macros and ``import``\\ s, desugars operators on s-ops into
maps, folds constant expressions, applies annotations and defaults, and names nested
expressions deterministically: the ``k``-th nested node of kind ``K`` inside binding ``x`` is
called ``x__K`` (``x__K2``, ...), counted in pre-order, so the printer can put them back inline.
Every problem becomes a diagnostic with a span; as many as possible are reported at once.

Built-in s-op calls are lowered by :mod:`rasp_ir.lowering_calls`, expression-language trees by
:mod:`rasp_ir.lowering_exprs`, header directives by :mod:`rasp_ir.lowering_header`; this module
drives them statement by statement and assembles the program.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lark import Token, Tree

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, RaspError, Span
from rasp_ir.lowered import (
    LITERALS,
    ConstVal,
    FnVal,
    Lowered,
    OpVal,
    SelRef,
    SetVal,
    SOpRef,
    TableVal,
    TupleVal,
    bounded_int,
    const_value,
    decode_string,
    describe_lowered,
    reduction,
    split_arguments,
)
from rasp_ir.lowering_calls import CALL_LOWERERS, MAP_ALIASES, SOP_BUILTINS, UNSET
from rasp_ir.lowering_exprs import EXPR_BUILTINS, ExprBuilder, fold
from rasp_ir.lowering_header import HeaderDirectives, HeaderOverrides
from rasp_ir.lowering_state import TEMP, Context, LoweringFailed, Recorder, Source
from rasp_ir.naming import derived_names, postorder, rename
from rasp_ir.syntax import ParseTree, as_token, as_tree, parse_tree, span_of
from rasp_ir.values import Value, canonical_values, value_key

__all__ = [
    "EXPR_BUILTINS",
    "MAP_ALIASES",
    "OPERATOR_TREES",
    "RESERVED",
    "SOP_BUILTINS",
    "HeaderOverrides",
    "parse_file",
    "parse_program",
]

MAX_DOMAIN = 1_000_000
"""Most values a ``cat[N]`` annotation may declare."""
RESERVED = (*ir.PRIMITIVES, *SOP_BUILTINS, *MAP_ALIASES, *EXPR_BUILTINS, "fn", "def")
OPERATOR_TREES = (
    "arith",
    "compare",
    "member",
    "not_member",
    "and_op",
    "or_op",
    "not_op",
    "neg",
    "ifelse",
)


@dataclass
class _Def:
    name: str
    params: tuple[str, ...]
    body: list[ParseTree]
    result: ParseTree
    source: Source
    scope: dict[str, Lowered]
    span: Span


class _Lowerer(Recorder):
    def __init__(self, overrides: HeaderOverrides | None, read_file: Callable[[Path], str]):
        super().__init__()
        self.overrides = overrides or HeaderOverrides()
        self.read_file = read_file
        self.bindings: list[ir.Binding] = []
        self.binding_spans: dict[str, Span] = {}
        self.encodings: dict[str, ir.Encoding | None] = {}
        self.outputs: list[str] = []
        self.directives = HeaderDirectives()
        self.defs: dict[str, _Def] = {}
        self.import_stack: list[Path] = []
        self.imported: set[Path] = set()
        self.macro_stack: list[str] = []

    # ------------------------------------------------------------ files and statements

    def lower_file(self, source: Source, scope: dict[str, Lowered], *, main: bool) -> None:
        tree = parse_tree(source.text, source.file)
        for item in tree.children:
            try:
                self._statement(as_tree(item), source, scope, main=main)
            except LoweringFailed:
                continue

    def _statement(
        self, item: ParseTree, source: Source, scope: dict[str, Lowered], *, main: bool
    ) -> None:
        kind = item.data
        if kind.endswith("_directive"):
            if main:
                self.directives.read(
                    self, item, source, lambda tree: self._constant(tree, source, {})
                )
        elif kind == "binding":
            self._binding(item, source, scope, prefix="")
        elif kind == "def_":
            self._def(item, source, scope)
        elif kind == "import_":
            self._import(item, source, scope)
        elif kind == "output" and main:
            for token in item.children:
                self._output(as_token(token), source, scope)

    def _output(self, token: Token, source: Source, scope: dict[str, Lowered]) -> None:
        span = span_of(token, source.text, source.file)
        name = str(token)
        found = scope.get(name)
        if found is None:
            self._undefined(name, span, scope)
            return
        if found is _POISONED:
            return
        if isinstance(found, SelRef):
            self.error("output", f"{name} is a selector; only s-ops can be outputs", span)
            return
        if not isinstance(found, SOpRef) or found.name != name:
            self.error("output", f"{name} is not a binding of this program", span)
            return
        if name in self.outputs:
            self.error("output", f"{name} is already an output", span)
            return
        self.outputs.append(name)

    def _import(self, item: ParseTree, source: Source, scope: dict[str, Lowered]) -> None:
        token = item.children[0]
        span = span_of(token, source.text, source.file)
        base = (
            Path(source.file).parent if source.file and not source.file.startswith("<") else Path()
        )
        written = decode_string(as_token(token))
        try:
            path = (base / written).resolve()
        except (OSError, ValueError) as error:  # e.g. a NUL character in the path
            raise self.error("import", f"cannot import {written!r}: {error}", span) from None
        if path in self.import_stack:
            chain = " -> ".join(p.name for p in [*self.import_stack, path])
            raise self.error("import", f"import cycle: {chain}", span)
        if path in self.imported:
            return
        try:
            text = self.read_file(path)
        except OSError as error:
            raise self.error(
                "import", f"cannot read {path}: {error.strerror or error}", span
            ) from None
        except UnicodeDecodeError:
            raise self.error("import", f"cannot read {path}: it is not UTF-8 text", span) from None
        self.imported.add(path)
        self.import_stack.append(path)
        file_scope = _global_scope()
        try:
            self.lower_file(Source(str(path), text), file_scope, main=False)
        except RaspError as error:
            self.diagnostics.extend(error.diagnostics)
            raise LoweringFailed() from None
        finally:
            self.import_stack.pop()
        for name, value in file_scope.items():
            if name.startswith("_") or name in ir.PRIMITIVES:
                continue
            if name in scope and scope[name] != value:
                raise self.error("duplicate", f"import brings in {name!r}, already defined", span)
            scope[name] = value

    def _def(self, item: ParseTree, source: Source, scope: dict[str, Lowered]) -> None:
        name_token, *rest = item.children
        params = tuple(str(t) for t in rest if isinstance(t, Token))
        trees = [t for t in rest if isinstance(t, Tree)]
        span = span_of(name_token, source.text, source.file)
        name = str(name_token)
        self._check_new_name(name, span, scope)
        if len(set(params)) != len(params):
            raise self.error("duplicate", f"def {name} repeats a parameter name", span)
        self.defs[name] = _Def(name, params, trees[:-1], trees[-1], source, scope, span)
        scope[name] = SOpRef(_macro_marker(name))

    def _check_new_name(self, name: str, span: Span, scope: dict[str, Lowered]) -> None:
        if name in RESERVED:
            raise self.error(
                "reserved", f"{name!r} is a built-in name", span, "choose another name"
            )
        if name in scope:
            previous = self.binding_spans.get(name) or (
                self.defs[name].span if name in self.defs else None
            )
            where = f"; the first is at {previous.location()}" if previous else ""
            raise self.error(
                "duplicate", f"{name!r} is defined twice", span, f"names are bound once{where}"
            )

    # ------------------------------------------------------------ bindings

    def _binding(
        self, item: ParseTree, source: Source, scope: dict[str, Lowered], *, prefix: str
    ) -> None:
        name_token = item.children[0]
        annotation = next(
            (c for c in item.children[1:-1] if isinstance(c, Tree) and c.data == "annotation"),
            None,
        )
        rhs = item.children[-1]
        span = span_of(name_token, source.text, source.file)
        local = str(name_token)
        name = f"{prefix}__{local}" if prefix else local
        self._check_new_name(local, span, scope)
        if prefix and name in self.binding_spans:
            raise self.error("duplicate", f"macro-local name {name!r} already exists", span)
        context = Context(name)
        try:
            root = self._lower(rhs, source, scope, context)
        except LoweringFailed:
            scope[local] = _POISONED
            raise
        declared = self._annotation(annotation, source, scope) if annotation is not None else None
        stmt_span = span_of(item, source.text, source.file)
        if isinstance(root, SelRef):
            if declared is not None:
                raise self.error(
                    "annotation", f"{local} is a selector; only s-ops take cat/num", span
                )
            if root.name.startswith(TEMP):
                self._commit(context, root.name, None, None, stmt_span)
                self.binding_spans[name] = span
            scope[local] = SelRef(name if root.name.startswith(TEMP) else root.name)
            return
        if isinstance(root, ConstVal):
            root_name = self.temp(context, ir.Full(root.value), stmt_span)
        elif isinstance(root, SOpRef) and not root.name.startswith(TEMP):
            identity = ir.Lambda((root.name,), ir.Param(root.name))
            root_name = self.temp(context, ir.Map(identity, (root.name,)), stmt_span)
        elif isinstance(root, SOpRef):
            root_name = root.name
        else:
            raise self.error(
                "type",
                f"{local} must be an s-op or a selector, not {describe_lowered(root)}",
                span,
                "functions, sets and tables can only be arguments",
            )
        self._commit(context, root_name, declared, span, stmt_span)
        self.binding_spans[name] = span
        scope[local] = SOpRef(name)

    def _annotation(
        self, tree: ParseTree, source: Source, scope: dict[str, Lowered]
    ) -> ir.Annotation:
        encoding = str(tree.children[0])
        domain: tuple[Value, ...] | None = None
        if len(tree.children) > 1:
            spec = as_tree(tree.children[1]).children[0]
            if isinstance(spec, Token):
                size = bounded_int(str(spec), MAX_DOMAIN)
                if size is None:
                    raise self.error(
                        "annotation",
                        f"cat[{spec[:12]}] is too large: at most {MAX_DOMAIN:,} values",
                        span_of(tree, source.text, source.file),
                    )
                domain = tuple(range(size))
            else:
                domain = canonical_values(self._constant(c, source, scope) for c in spec.children)
        return ir.Annotation(encoding, domain)  # type: ignore[arg-type]

    def _commit(
        self,
        context: Context,
        root: str,
        declared: ir.Annotation | None,
        name_span: Span | None,
        span: Span,
    ) -> None:
        names = derived_names(context.name, context.created, root)
        for temp in postorder(context.created, root):
            node = rename(context.created[temp], names)
            final = names[temp]
            encoding = self._default_encoding(node)
            domain = None
            if temp == root and declared is not None:
                if isinstance(node, ir.Aggregate) and declared.encoding != self.encodings.get(
                    node.sop, "cat"
                ):
                    raise self.error(
                        "encoding",
                        f"aggregate {final} must have its input's encoding "
                        f"({self.encodings.get(node.sop, 'cat')})",
                        name_span,
                        "map the value to the other encoding first",
                    )
                encoding, domain = declared.encoding, declared.domain
            node = self._fill_defaults(node, encoding)
            if final in self.binding_spans:
                raise self.error(
                    "duplicate",
                    f"the nested expression name {final!r} is already taken",
                    context.spans.get(temp, span),
                    f"rename the binding {final!r}",
                )
            self.bindings.append(
                ir.Binding(final, node, encoding, domain, context.spans.get(temp, span))
            )
            self.binding_spans[final] = context.spans.get(temp, span)
            self.encodings[final] = encoding

    def _default_encoding(self, node: ir.Node) -> ir.Encoding | None:
        if ir.is_selector(node):
            return None
        if isinstance(node, ir.Aggregate):
            return self.encodings.get(node.sop) or "cat"
        return "cat"

    def _fill_defaults(self, node: ir.Node, encoding: ir.Encoding | None) -> ir.Node:
        if isinstance(node, ir.Aggregate) and node.default is UNSET:
            return ir.Aggregate(
                node.selector, node.sop, node.reduce, 0 if encoding == "num" else None
            )
        return node

    # ------------------------------------------------------------ expressions

    def _lower(
        self, tree: ParseTree | Token, source: Source, scope: dict[str, Lowered], ctx: Context
    ) -> Lowered:
        if isinstance(tree, Token):
            raise self.error("syntax", "unexpected token", span_of(tree, source.text, source.file))
        kind = tree.data
        span = span_of(tree, source.text, source.file)
        if kind in LITERALS:
            return ConstVal(self.literal(tree, span))
        if kind == "name":
            return self._name(as_token(tree.children[0]), source, scope)
        if kind in OPERATOR_TREES:
            return self._operator(tree, source, scope, ctx)
        if kind == "call":
            return self._call(tree, source, scope, ctx)
        if kind == "lambda_":
            return FnVal(self._lambda(tree, source, scope))
        if kind == "value_set":
            return SetVal(tuple(self._constant(c, source, scope) for c in tree.children))
        if kind == "tuple_":
            return TupleVal(tuple(self._constant(c, source, scope) for c in tree.children))
        if kind == "table":
            return TableVal(self._table(tree, source, scope))
        raise self.error("syntax", f"{kind} cannot be used here", span)

    def _name(self, token: Token, source: Source, scope: dict[str, Lowered]) -> Lowered:
        name = str(token)
        span = span_of(token, source.text, source.file)
        found = scope.get(name)
        if found is None:
            self._undefined(name, span, scope)
            raise LoweringFailed()
        if found is _POISONED:
            raise LoweringFailed()
        if isinstance(found, SOpRef) and found.name.startswith(_MACRO):
            raise self.error("type", f"{name} is a def; call it with arguments", span)
        return found

    def _undefined(self, name: str, span: Span, scope: dict[str, Lowered]) -> None:
        candidates = [n for n in scope if not n.startswith("_")] + list(SOP_BUILTINS)
        close = difflib.get_close_matches(name, candidates, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "bind it before using it"
        self.error("undefined", f"{name!r} is not defined", span, hint)

    def _constant(
        self, tree: ParseTree | Token, source: Source, scope: dict[str, Lowered]
    ) -> Value:
        span = span_of(tree, source.text, source.file)
        lowered = self._lower(tree, source, scope, Context("\0const"))
        if not isinstance(lowered, ConstVal):
            raise self.error("type", f"expected a constant, got {describe_lowered(lowered)}", span)
        return lowered.value

    def _table(
        self, tree: ParseTree, source: Source, scope: dict[str, Lowered]
    ) -> tuple[tuple[tuple[Value, ...], Value], ...]:
        entries: list[tuple[tuple[Value, ...], Value]] = []
        seen: set[tuple[object, ...]] = set()
        for entry in tree.children:
            key_tree, value_tree = as_tree(entry).children
            key_lowered = self._lower(key_tree, source, scope, Context("\0const"))
            if isinstance(key_lowered, TupleVal):
                key = key_lowered.values
            elif isinstance(key_lowered, ConstVal):
                key = (key_lowered.value,)
            else:
                raise self.error(
                    "type",
                    "table keys must be constants",
                    span_of(key_tree, source.text, source.file),
                )
            marker = tuple(value_key(k) for k in key)
            if marker in seen:
                raise self.error(
                    "duplicate",
                    "table key given twice",
                    span_of(key_tree, source.text, source.file),
                )
            seen.add(marker)
            entries.append((key, self._constant(value_tree, source, scope)))
        return tuple(entries)

    def _lambda(self, tree: ParseTree, source: Source, scope: dict[str, Lowered]) -> ir.Lambda:
        *param_tokens, body_tree = tree.children
        params = tuple(str(t) for t in param_tokens)
        span = span_of(tree, source.text, source.file)
        if len(set(params)) != len(params):
            raise self.error("duplicate", "a function repeats a parameter name", span)
        body = self._expr(body_tree, source, scope, set(params))
        return ir.Lambda(params, body, span)

    def _expr(
        self, tree: ParseTree | Token, source: Source, scope: dict[str, Lowered], params: set[str]
    ) -> ir.Expr:
        """A lambda body: parameters, constants (incl. macro constants) and operators."""
        return self._expr_builder(
            source, scope, lambda leaf: self._expr_leaf(leaf, source, scope, params)
        ).build(tree)

    def _expr_leaf(
        self, tree: ParseTree | Token, source: Source, scope: dict[str, Lowered], params: set[str]
    ) -> ir.Expr:
        """What the expression builder leaves to the lowerer: a name (a parameter or a constant);
        anything else (an s-op call, a selector) has no place in a function body."""
        span = span_of(tree, source.text, source.file)
        hint = (
            "a function body computes one value from its parameters (arithmetic, comparisons, "
            "if/else, lookup, min, max, abs, round, argmax, indicator); build s-ops outside it"
        )
        if isinstance(tree, Tree) and tree.data == "call":
            name = str(tree.children[0])
            raise self.error(
                "type", f"{name}(...) cannot be used inside a function body", span, hint
            )
        if not (isinstance(tree, Tree) and tree.data == "name"):
            raise self.error("type", "this cannot be used inside a function body", span, hint)
        name = str(tree.children[0])
        if name in params:
            return ir.Param(name)
        found = scope.get(name)
        if isinstance(found, ConstVal):
            return ir.Const(found.value)
        if isinstance(found, (SOpRef, SelRef)):
            raise self.error(
                "type",
                f"a function body cannot read the s-op {name!r}",
                span,
                "pass it as an input: map(fn(a, b) -> ..., a, b)",
            )
        self._undefined(name, span, scope)
        raise LoweringFailed()

    def _expr_builder(
        self,
        source: Source,
        scope: dict[str, Lowered],
        leaf: Callable[[ParseTree | Token], ir.Expr],
    ) -> ExprBuilder:
        def constant_literal(tree: ParseTree | Token) -> Lowered:
            return self._lower(tree, source, scope, Context("\0const"))

        return ExprBuilder(self, source, scope, leaf, constant_literal)

    # ------------------------------------------------------------ operators on s-ops

    def _operator(
        self, tree: ParseTree, source: Source, scope: dict[str, Lowered], ctx: Context
    ) -> Lowered:
        span = span_of(tree, source.text, source.file)
        if tree.data in ("and_op", "or_op", "not_op"):
            operands = [self._lower(c, source, scope, ctx) for c in tree.children]
            if any(isinstance(o, SelRef) for o in operands):
                return self._selector_logic(tree.data, operands, span, ctx)
            return self._sugar_from_lowered(tree, source, scope, ctx, operands)
        inputs: list[str] = []

        def leaf(subtree: ParseTree | Token) -> ir.Expr:
            return self._leaf(subtree, source, scope, ctx, inputs)

        body = self._expr_builder(source, scope, leaf).build(tree)
        if not inputs:
            return ConstVal(const_value(body))
        fn = ir.Lambda(tuple(inputs), body, span)
        return SOpRef(self.temp(ctx, ir.Map(fn, tuple(inputs)), span))

    def _sugar_from_lowered(
        self,
        tree: ParseTree,
        source: Source,
        scope: dict[str, Lowered],
        ctx: Context,
        operands: list[Lowered],
    ) -> Lowered:
        """``and``/``or``/``not`` on s-ops or constants, with operands already lowered."""
        span = span_of(tree, source.text, source.file)
        inputs: list[str] = []
        parts = [self._as_body(o, inputs, span) for o in operands]
        body: ir.Expr
        if tree.data == "not_op":
            body = ir.Unary("not", parts[0])
        else:
            body = ir.Binary(tree.data.removesuffix("_op"), parts[0], parts[1])
        body = fold(self, body, span)
        if not inputs:
            return ConstVal(const_value(body))
        fn = ir.Lambda(tuple(inputs), body, span)
        return SOpRef(self.temp(ctx, ir.Map(fn, tuple(inputs)), span))

    def _as_body(self, lowered: Lowered, inputs: list[str], span: Span) -> ir.Expr:
        if isinstance(lowered, ConstVal):
            return ir.Const(lowered.value)
        if isinstance(lowered, SOpRef):
            if lowered.name not in inputs:
                inputs.append(lowered.name)
            return ir.Param(lowered.name)
        raise self.error(
            "type", f"{describe_lowered(lowered)} cannot be used in an s-op expression", span
        )

    def _leaf(
        self,
        tree: ParseTree | Token,
        source: Source,
        scope: dict[str, Lowered],
        ctx: Context,
        inputs: list[str],
    ) -> ir.Expr:
        lowered = self._lower(tree, source, scope, ctx)
        if isinstance(lowered, SelRef):
            raise self.error(
                "type",
                "a selector cannot be used in arithmetic or comparisons",
                span_of(tree, source.text, source.file),
                "combine selectors with and/or/not; aggregate them to get an s-op",
            )
        return self._as_body(lowered, inputs, span_of(tree, source.text, source.file))

    def _selector_logic(
        self, kind: str, operands: list[Lowered], span: Span, ctx: Context
    ) -> Lowered:
        if not all(isinstance(o, SelRef) for o in operands):
            raise self.error("type", "'and', 'or' and 'not' cannot mix selectors and s-ops", span)
        names = [o.name for o in operands if isinstance(o, SelRef)]
        node: ir.Node
        if kind == "not_op":
            node = ir.SelectorNot(names[0])
        elif kind == "and_op":
            node = ir.SelectorAnd(names[0], names[1])
        else:
            node = ir.SelectorOr(names[0], names[1])
        return SelRef(self.temp(ctx, node, span))

    # ------------------------------------------------------------ calls

    def _call(
        self, tree: ParseTree, source: Source, scope: dict[str, Lowered], ctx: Context
    ) -> Lowered:
        name_token = tree.children[0]
        name = str(name_token)
        span = span_of(tree, source.text, source.file)
        if name in self.defs and isinstance(scope.get(name), SOpRef):
            return self._macro(self.defs[name], tree, source, scope, ctx)
        if name in EXPR_BUILTINS:
            return self._operator(tree, source, scope, ctx)
        if name in MAP_ALIASES:
            name = "map"
        if name not in SOP_BUILTINS:
            candidates = [*SOP_BUILTINS, *EXPR_BUILTINS, *self.defs]
            close = difflib.get_close_matches(name, candidates, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "define it with def"
            name_span = span_of(name_token, source.text, source.file)
            raise self.error("undefined", f"unknown function {name!r}", name_span, hint)
        positional_trees, keyword_trees = split_arguments(tree.children[1:])
        positional = [self._argument(a, source, scope, ctx) for a in positional_trees]
        keywords = {
            k: reduction(v) if k == "reduce" else self._argument(v, source, scope, ctx)
            for k, v in keyword_trees.items()
        }
        return CALL_LOWERERS[name](self, name, positional, keywords, span, ctx)

    def _argument(
        self, tree: ParseTree | Token, source: Source, scope: dict[str, Lowered], ctx: Context
    ) -> Lowered:
        if isinstance(tree, Tree) and tree.data == "operator_argument":
            return OpVal(str(tree.children[0]))
        if isinstance(tree, Token):
            return OpVal(str(tree))
        return self._lower(tree, source, scope, ctx)

    def _macro(
        self,
        definition: _Def,
        tree: ParseTree,
        source: Source,
        scope: dict[str, Lowered],
        ctx: Context,
    ) -> Lowered:
        span = span_of(tree, source.text, source.file)
        if definition.name in self.macro_stack:
            raise self.error("recursion", f"def {definition.name} calls itself", span)
        positional_trees, keyword_trees = split_arguments(tree.children[1:])
        if keyword_trees or len(positional_trees) != len(definition.params):
            raise self.error(
                "arity",
                f"{definition.name} takes {len(definition.params)} argument(s)",
                span,
                f"usage: {definition.name}({', '.join(definition.params)})",
            )
        args = [self._argument(a, source, scope, ctx) for a in positional_trees]
        count = ctx.macro_calls.get(definition.name, 0) + 1
        ctx.macro_calls[definition.name] = count
        prefix = f"{ctx.name}__{definition.name}{'' if count == 1 else count}"
        local_scope = dict(definition.scope)
        for param, arg in zip(definition.params, args, strict=True):
            local_scope[param] = arg
        self.macro_stack.append(definition.name)
        try:
            for statement in definition.body:
                self._binding(statement, definition.source, local_scope, prefix=prefix)
            return self._lower(definition.result, definition.source, local_scope, ctx)
        finally:
            self.macro_stack.pop()

    # ------------------------------------------------------------ assembly

    def program(self) -> ir.Program:
        header = self.directives.header(self.overrides, self)
        if not self.outputs and not self.diagnostics:
            self.diagnostics.append(
                Diagnostic(
                    "no-output",
                    "the program has no output",
                    None,
                    "add a line such as 'output result;'",
                )
            )
        if self.diagnostics or header is None:
            raise RaspError(self.diagnostics)
        return ir.Program(header, tuple(self.bindings), tuple(self.outputs))


_POISONED = SOpRef("\0poisoned")
_MACRO = "\0macro:"


def _macro_marker(name: str) -> str:
    return f"{_MACRO}{name}"


def _global_scope() -> dict[str, Lowered]:
    return {name: SOpRef(name) for name in ir.PRIMITIVES}


def parse_program(
    text: str,
    file: str = "<string>",
    *,
    overrides: HeaderOverrides | None = None,
    read_file: Callable[[Path], str] | None = None,
) -> ir.Program:
    """The program in ``text`` (``file`` names it in diagnostics and anchors imports).

    Raises :class:`RaspError` with every problem found.
    """
    lowerer = _Lowerer(overrides, read_file or (lambda p: p.read_text(encoding="utf-8")))
    lowerer.lower_file(Source(file, text), _global_scope(), main=True)
    return lowerer.program()


def parse_file(path: str | Path, *, overrides: HeaderOverrides | None = None) -> ir.Program:
    """The program in the file at ``path``; unreadable files are a :class:`RaspError`."""
    location = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {location}: {error}") from None
    return parse_program(text, location, overrides=overrides)
