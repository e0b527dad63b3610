"""Parse tree in, IR :class:`~rasp_ir.ir.Program` out.

Resolves names, expands ``def`` macros and ``import``\\ s, desugars operators on s-ops into
maps, folds constant expressions, applies annotations and defaults, and names nested
expressions deterministically: the ``k``-th nested node of kind ``K`` inside binding ``x`` is
called ``x__K`` (``x__K2``, ...), counted in pre-order, so the printer can put them back inline.
Every problem becomes a diagnostic with a span; as many as possible are reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lark import Token, Tree

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, RaspError, Span
from rasp_ir.expr import ExprError, evaluate, free_params
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
    const_value,
    decode_string,
    describe_lowered,
    literal,
    reduction,
    reduction_name,
    split_arguments,
    vocabulary_problem,
)
from rasp_ir.naming import derived_names, postorder, rename
from rasp_ir.syntax import ParseTree, as_token, as_tree, parse_tree, span_of
from rasp_ir.values import Value, canonical_values, describe_value, value_key

SOP_BUILTINS = ("select", "select_closest", "aggregate", "selector_width", "map")
MAP_ALIASES = ("sequence_map", "zipmap")
EXPR_BUILTINS = (*ir.EXPR_FUNCTIONS, "lookup", "indicator")
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


@dataclass(frozen=True)
class HeaderOverrides:
    """Header values given by a driver (the CLI's ``--vocab``/``--max-len``); they win."""

    vocab: tuple[Value, ...] | None = None
    max_len: int | None = None


# ---------------------------------------------------------------- lowered values


class _Failed(Exception):
    """Lowering of one statement stopped after recording a diagnostic."""


@dataclass
class _Def:
    name: str
    params: tuple[str, ...]
    body: list[ParseTree]
    result: ParseTree
    source: _Source
    scope: dict[str, Lowered]
    span: Span


@dataclass
class _Source:
    file: str
    text: str


@dataclass
class _Context:
    """Nodes created while lowering one binding's right-hand side (temporary names)."""

    name: str
    created: dict[str, ir.Node] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    macro_calls: dict[str, int] = field(default_factory=dict)


@dataclass
class _Header:
    vocab: tuple[Value, ...] | None = None
    max_len: int | None = None
    bos: Value = None
    causal: bool = False
    seen: dict[str, Span] = field(default_factory=dict)


_TEMP = "\0tmp"


class _Lowerer:
    def __init__(self, overrides: HeaderOverrides | None, read_file: Callable[[Path], str]):
        self.overrides = overrides or HeaderOverrides()
        self.read_file = read_file
        self.diagnostics: list[Diagnostic] = []
        self.bindings: list[ir.Binding] = []
        self.binding_spans: dict[str, Span] = {}
        self.encodings: dict[str, ir.Encoding | None] = {}
        self.outputs: list[str] = []
        self.header = _Header()
        self.defs: dict[str, _Def] = {}
        self.temp_counter = 0
        self.import_stack: list[Path] = []
        self.imported: set[Path] = set()
        self.macro_stack: list[str] = []

    # ------------------------------------------------------------ files and statements

    def lower_file(self, source: _Source, scope: dict[str, Lowered], *, main: bool) -> None:
        tree = parse_tree(source.text, source.file)
        for item in tree.children:
            try:
                self._statement(as_tree(item), source, scope, main=main)
            except _Failed:
                continue

    def _statement(
        self, item: ParseTree, source: _Source, scope: dict[str, Lowered], *, main: bool
    ) -> None:
        kind = item.data
        if kind.endswith("_directive"):
            if main:
                self._directive(item, source)
        elif kind == "binding":
            self._binding(item, source, scope, prefix="")
        elif kind == "def_":
            self._def(item, source, scope)
        elif kind == "import_":
            self._import(item, source, scope)
        elif kind == "output" and main:
            for token in item.children:
                self._output(as_token(token), source, scope)

    def _error(self, code: str, message: str, span: Span | None, hint: str = "") -> _Failed:
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return _Failed()

    def _directive(self, item: ParseTree, source: _Source) -> None:
        span = span_of(item, source.text, source.file)
        name = item.data.removesuffix("_directive")
        if name in self.header.seen:
            first = self.header.seen[name].location()
            raise self._error(
                "header", f"%{name} is given twice", span, f"the first one is at {first}"
            )
        self.header.seen[name] = span
        if name == "vocab":
            self.header.vocab = self._vocab(item, source, span)
        elif name == "max_len":
            value = int(as_token(item.children[0]))
            if value < 1:
                raise self._error("header", "%max_len must be at least 1", span)
            self.header.max_len = value
        elif name == "bos":
            self.header.bos = self._constant(item.children[0], source, {})
        else:
            self.header.causal = True

    def _vocab(self, item: ParseTree, source: _Source, span: Span) -> tuple[Value, ...]:
        child = item.children[0]
        if isinstance(child, Token):
            values: list[Value] = list(decode_string(child))
        else:
            values = [self._constant(c, source, {}) for c in child.children]
        problem = vocabulary_problem(values)
        if problem:
            raise self._error(
                "header", problem, span, 'e.g. %vocab {"a", "b"} or %vocab chars "ab"'
            )
        return tuple(values)

    def _output(self, token: Token, source: _Source, scope: dict[str, Lowered]) -> None:
        span = span_of(token, source.text, source.file)
        name = str(token)
        found = scope.get(name)
        if found is None:
            self._undefined(name, span, scope)
            return
        if found is _POISONED:
            return
        if isinstance(found, SelRef):
            self._error("output", f"{name} is a selector; only s-ops can be outputs", span)
            return
        if not isinstance(found, SOpRef) or found.name != name:
            self._error("output", f"{name} is not a binding of this program", span)
            return
        if name in self.outputs:
            self._error("output", f"{name} is already an output", span)
            return
        self.outputs.append(name)

    def _import(self, item: ParseTree, source: _Source, scope: dict[str, Lowered]) -> None:
        token = item.children[0]
        span = span_of(token, source.text, source.file)
        base = (
            Path(source.file).parent if source.file and not source.file.startswith("<") else Path()
        )
        path = (base / decode_string(as_token(token))).resolve()
        if path in self.import_stack:
            chain = " -> ".join(p.name for p in [*self.import_stack, path])
            raise self._error("import", f"import cycle: {chain}", span)
        if path in self.imported:
            return
        try:
            text = self.read_file(path)
        except OSError as error:
            raise self._error(
                "import", f"cannot read {path}: {error.strerror or error}", span
            ) from None
        self.imported.add(path)
        self.import_stack.append(path)
        file_scope = _global_scope()
        try:
            self.lower_file(_Source(str(path), text), file_scope, main=False)
        except RaspError as error:
            self.diagnostics.extend(error.diagnostics)
            raise _Failed() from None
        finally:
            self.import_stack.pop()
        for name, value in file_scope.items():
            if name.startswith("_") or name in ir.PRIMITIVES:
                continue
            if name in scope and scope[name] != value:
                raise self._error("duplicate", f"import brings in {name!r}, already defined", span)
            scope[name] = value

    def _def(self, item: ParseTree, source: _Source, scope: dict[str, Lowered]) -> None:
        name_token, *rest = item.children
        params = tuple(str(t) for t in rest if isinstance(t, Token))
        trees = [t for t in rest if isinstance(t, Tree)]
        span = span_of(name_token, source.text, source.file)
        name = str(name_token)
        self._check_new_name(name, span, scope)
        if len(set(params)) != len(params):
            raise self._error("duplicate", f"def {name} repeats a parameter name", span)
        self.defs[name] = _Def(name, params, trees[:-1], trees[-1], source, scope, span)
        scope[name] = SOpRef(_macro_marker(name))

    def _check_new_name(self, name: str, span: Span, scope: dict[str, Lowered]) -> None:
        if name in RESERVED:
            raise self._error(
                "reserved", f"{name!r} is a built-in name", span, "choose another name"
            )
        if name in scope:
            previous = self.binding_spans.get(name) or (
                self.defs[name].span if name in self.defs else None
            )
            where = f"; the first is at {previous.location()}" if previous else ""
            raise self._error(
                "duplicate", f"{name!r} is defined twice", span, f"names are bound once{where}"
            )

    # ------------------------------------------------------------ bindings

    def _binding(
        self, item: ParseTree, source: _Source, scope: dict[str, Lowered], *, prefix: str
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
            raise self._error("duplicate", f"macro-local name {name!r} already exists", span)
        context = _Context(name)
        try:
            root = self._lower(rhs, source, scope, context)
        except _Failed:
            scope[local] = _POISONED
            raise
        declared = self._annotation(annotation, source, scope) if annotation is not None else None
        stmt_span = span_of(item, source.text, source.file)
        if isinstance(root, SelRef):
            if declared is not None:
                raise self._error(
                    "annotation", f"{local} is a selector; only s-ops take cat/num", span
                )
            if root.name.startswith(_TEMP):
                self._commit(context, root.name, None, None, stmt_span)
                self.binding_spans[name] = span
            scope[local] = SelRef(name if root.name.startswith(_TEMP) else root.name)
            return
        if isinstance(root, ConstVal):
            root_name = self._temp(context, ir.Full(root.value), stmt_span)
        elif isinstance(root, SOpRef) and not root.name.startswith(_TEMP):
            identity = ir.Lambda((root.name,), ir.Param(root.name))
            root_name = self._temp(context, ir.Map(identity, (root.name,)), stmt_span)
        elif isinstance(root, SOpRef):
            root_name = root.name
        else:
            raise self._error(
                "type",
                f"{local} must be an s-op or a selector, not {describe_lowered(root)}",
                span,
                "functions, sets and tables can only be arguments",
            )
        self._commit(context, root_name, declared, span, stmt_span)
        self.binding_spans[name] = span
        scope[local] = SOpRef(name)

    def _annotation(
        self, tree: ParseTree, source: _Source, scope: dict[str, Lowered]
    ) -> ir.Annotation:
        encoding = str(tree.children[0])
        domain: tuple[Value, ...] | None = None
        if len(tree.children) > 1:
            spec = as_tree(tree.children[1]).children[0]
            if isinstance(spec, Token):
                domain = tuple(range(int(spec)))
            else:
                domain = canonical_values(self._constant(c, source, scope) for c in spec.children)
        return ir.Annotation(encoding, domain)  # type: ignore[arg-type]

    def _commit(
        self,
        context: _Context,
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
                    raise self._error(
                        "encoding",
                        f"aggregate {final} must have its input's encoding "
                        f"({self.encodings.get(node.sop, 'cat')})",
                        name_span,
                        "map the value to the other encoding first",
                    )
                encoding, domain = declared.encoding, declared.domain
            node = self._fill_defaults(node, encoding)
            if final in self.binding_spans:
                raise self._error(
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
        if isinstance(node, ir.Aggregate) and node.default is _UNSET:
            return ir.Aggregate(
                node.selector, node.sop, node.reduce, 0 if encoding == "num" else None
            )
        return node

    def _temp(self, context: _Context, node: ir.Node, span: Span) -> str:
        self.temp_counter += 1
        name = f"{_TEMP}{self.temp_counter}"
        context.created[name] = node
        context.spans[name] = span
        return name

    # ------------------------------------------------------------ expressions

    def _lower(
        self, tree: ParseTree | Token, source: _Source, scope: dict[str, Lowered], ctx: _Context
    ) -> Lowered:
        if isinstance(tree, Token):
            raise self._error("syntax", "unexpected token", span_of(tree, source.text, source.file))
        kind = tree.data
        span = span_of(tree, source.text, source.file)
        if kind in LITERALS:
            return ConstVal(literal(tree))
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
        raise self._error("syntax", f"{kind} cannot be used here", span)

    def _name(self, token: Token, source: _Source, scope: dict[str, Lowered]) -> Lowered:
        name = str(token)
        span = span_of(token, source.text, source.file)
        found = scope.get(name)
        if found is None:
            self._undefined(name, span, scope)
            raise _Failed()
        if found is _POISONED:
            raise _Failed()
        if isinstance(found, SOpRef) and found.name.startswith(_MACRO):
            raise self._error("type", f"{name} is a def; call it with arguments", span)
        return found

    def _undefined(self, name: str, span: Span, scope: dict[str, Lowered]) -> None:
        candidates = [n for n in scope if not n.startswith("_")] + list(SOP_BUILTINS)
        close = difflib.get_close_matches(name, candidates, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "bind it before using it"
        self._error("undefined", f"{name!r} is not defined", span, hint)

    def _constant(
        self, tree: ParseTree | Token, source: _Source, scope: dict[str, Lowered]
    ) -> Value:
        span = span_of(tree, source.text, source.file)
        lowered = self._lower(tree, source, scope, _Context("\0const"))
        if not isinstance(lowered, ConstVal):
            raise self._error("type", f"expected a constant, got {describe_lowered(lowered)}", span)
        return lowered.value

    def _table(
        self, tree: ParseTree, source: _Source, scope: dict[str, Lowered]
    ) -> tuple[tuple[tuple[Value, ...], Value], ...]:
        entries: list[tuple[tuple[Value, ...], Value]] = []
        seen: set[tuple[object, ...]] = set()
        for entry in tree.children:
            key_tree, value_tree = as_tree(entry).children
            key_lowered = self._lower(key_tree, source, scope, _Context("\0const"))
            if isinstance(key_lowered, TupleVal):
                key = key_lowered.values
            elif isinstance(key_lowered, ConstVal):
                key = (key_lowered.value,)
            else:
                raise self._error(
                    "type",
                    "table keys must be constants",
                    span_of(key_tree, source.text, source.file),
                )
            marker = tuple(value_key(k) for k in key)
            if marker in seen:
                raise self._error(
                    "duplicate",
                    "table key given twice",
                    span_of(key_tree, source.text, source.file),
                )
            seen.add(marker)
            entries.append((key, self._constant(value_tree, source, scope)))
        return tuple(entries)

    def _lambda(self, tree: ParseTree, source: _Source, scope: dict[str, Lowered]) -> ir.Lambda:
        *param_tokens, body_tree = tree.children
        params = tuple(str(t) for t in param_tokens)
        span = span_of(tree, source.text, source.file)
        if len(set(params)) != len(params):
            raise self._error("duplicate", "a function repeats a parameter name", span)
        body = self._expr(body_tree, source, scope, set(params))
        return ir.Lambda(params, body, span)

    def _expr(
        self, tree: ParseTree | Token, source: _Source, scope: dict[str, Lowered], params: set[str]
    ) -> ir.Expr:
        """A lambda body: parameters, constants (incl. macro constants) and operators."""
        span = span_of(tree, source.text, source.file)
        if isinstance(tree, Tree) and tree.data == "name":
            name = str(tree.children[0])
            if name in params:
                return ir.Param(name)
            found = scope.get(name)
            if isinstance(found, ConstVal):
                return ir.Const(found.value)
            if isinstance(found, (SOpRef, SelRef)):
                raise self._error(
                    "type",
                    f"a function body cannot read the s-op {name!r}",
                    span,
                    "pass it as an input: map(fn(a, b) -> ..., a, b)",
                )
            self._undefined(name, span, scope)
            raise _Failed()
        return self._build_expr(
            tree, source, scope, lambda leaf: self._expr(leaf, source, scope, params)
        )

    def _build_expr(
        self,
        tree: ParseTree | Token,
        source: _Source,
        scope: dict[str, Lowered],
        leaf: Callable[[ParseTree | Token], ir.Expr],
    ) -> ir.Expr:
        """An expression tree with ``leaf`` deciding what names and calls become."""
        span = span_of(tree, source.text, source.file)
        if isinstance(tree, Token):
            raise self._error("syntax", "unexpected token", span)
        kind = tree.data
        children = tree.children

        def sub(child: ParseTree | Token) -> ir.Expr:
            return self._build_expr(child, source, scope, leaf)

        result: ir.Expr
        if kind in LITERALS:
            return ir.Const(literal(tree))
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
            options = self._lower(children[1], source, scope, _Context("\0const"))
            if not isinstance(options, SetVal):
                raise self._error("type", "'in' needs a set of constants, e.g. x in {1, 2}", span)
            result = ir.Member(element, options.values, kind == "not_member")
        elif kind == "call" and str(children[0]) in EXPR_BUILTINS and str(children[0]) not in scope:
            result = self._expr_call(tree, source, scope, sub)
        else:
            return leaf(tree)
        return self._fold(result, span)

    def _expr_call(
        self,
        tree: ParseTree,
        source: _Source,
        scope: dict[str, Lowered],
        sub: Callable[[ParseTree | Token], ir.Expr],
    ) -> ir.Expr:
        name = str(tree.children[0])
        span = span_of(tree, source.text, source.file)
        positional, keywords = split_arguments(tree.children[1:])
        if name == "lookup":
            if len(positional) != 2 or set(keywords) - {"default"}:
                raise self._error(
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
            table = self._lower(table_tree, source, scope, _Context("\0const"))
            if isinstance(table, SetVal) and not table.values:
                table = TableVal(())
            if not isinstance(table, TableVal):
                raise self._error("type", "lookup needs a table literal {key: value, ...}", span)
            for entry_key, _ in table.entries:
                if len(entry_key) != len(keys):
                    raise self._error(
                        "arity",
                        f"table keys must have {len(keys)} part(s), like the lookup key",
                        span,
                    )
            default = sub(keywords["default"]) if "default" in keywords else ir.Const(None)
            return ir.Lookup(keys, table.entries, default)
        if keywords:
            raise self._error("arity", f"{name} takes no keyword arguments", span)
        args = tuple(sub(a) for a in positional)
        if name == "indicator":
            if len(args) != 1:
                raise self._error("arity", "indicator takes one argument", span)
            return ir.IfElse(args[0], ir.Const(1), ir.Const(0))
        if name in ("min", "max") and len(args) < 2:
            raise self._error("arity", f"{name} takes two or more arguments", span)
        if name == "argmax" and not args:
            raise self._error("arity", "argmax takes one or more arguments", span)
        if name in ("abs", "round") and len(args) != 1:
            raise self._error("arity", f"{name} takes one argument", span)
        return ir.Call(name, args)

    def _fold(self, expr: ir.Expr, span: Span) -> ir.Expr:
        if free_params(expr):
            return expr
        try:
            return ir.Const(evaluate(expr, {}))
        except ExprError as error:
            raise self._error("constant", f"cannot evaluate this constant: {error}", span) from None

    # ------------------------------------------------------------ operators on s-ops

    def _operator(
        self, tree: ParseTree, source: _Source, scope: dict[str, Lowered], ctx: _Context
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

        body = self._build_expr(tree, source, scope, leaf)
        if not inputs:
            return ConstVal(const_value(body))
        fn = ir.Lambda(tuple(inputs), body, span)
        return SOpRef(self._temp(ctx, ir.Map(fn, tuple(inputs)), span))

    def _sugar_from_lowered(
        self,
        tree: ParseTree,
        source: _Source,
        scope: dict[str, Lowered],
        ctx: _Context,
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
        body = self._fold(body, span)
        if not inputs:
            return ConstVal(const_value(body))
        fn = ir.Lambda(tuple(inputs), body, span)
        return SOpRef(self._temp(ctx, ir.Map(fn, tuple(inputs)), span))

    def _as_body(self, lowered: Lowered, inputs: list[str], span: Span) -> ir.Expr:
        if isinstance(lowered, ConstVal):
            return ir.Const(lowered.value)
        if isinstance(lowered, SOpRef):
            if lowered.name not in inputs:
                inputs.append(lowered.name)
            return ir.Param(lowered.name)
        raise self._error(
            "type", f"{describe_lowered(lowered)} cannot be used in an s-op expression", span
        )

    def _leaf(
        self,
        tree: ParseTree | Token,
        source: _Source,
        scope: dict[str, Lowered],
        ctx: _Context,
        inputs: list[str],
    ) -> ir.Expr:
        lowered = self._lower(tree, source, scope, ctx)
        if isinstance(lowered, SelRef):
            raise self._error(
                "type",
                "a selector cannot be used in arithmetic or comparisons",
                span_of(tree, source.text, source.file),
                "combine selectors with and/or/not; aggregate them to get an s-op",
            )
        return self._as_body(lowered, inputs, span_of(tree, source.text, source.file))

    def _selector_logic(
        self, kind: str, operands: list[Lowered], span: Span, ctx: _Context
    ) -> Lowered:
        if not all(isinstance(o, SelRef) for o in operands):
            raise self._error("type", "'and', 'or' and 'not' cannot mix selectors and s-ops", span)
        names = [o.name for o in operands if isinstance(o, SelRef)]
        node: ir.Node
        if kind == "not_op":
            node = ir.SelectorNot(names[0])
        elif kind == "and_op":
            node = ir.SelectorAnd(names[0], names[1])
        else:
            node = ir.SelectorOr(names[0], names[1])
        return SelRef(self._temp(ctx, node, span))

    # ------------------------------------------------------------ calls

    def _call(
        self, tree: ParseTree, source: _Source, scope: dict[str, Lowered], ctx: _Context
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
            raise self._error("undefined", f"unknown function {name!r}", name_span, hint)
        positional_trees, keyword_trees = split_arguments(tree.children[1:])
        positional = [self._argument(a, source, scope, ctx) for a in positional_trees]
        keywords = {
            k: reduction(v) if k == "reduce" else self._argument(v, source, scope, ctx)
            for k, v in keyword_trees.items()
        }
        builder = {
            "select": self._select,
            "select_closest": self._select,
            "aggregate": self._aggregate,
            "selector_width": self._selector_width,
            "map": self._map,
        }[name]
        return builder(name, positional, keywords, span, ctx)

    def _argument(
        self, tree: ParseTree | Token, source: _Source, scope: dict[str, Lowered], ctx: _Context
    ) -> Lowered:
        if isinstance(tree, Tree) and tree.data == "operator_argument":
            return OpVal(str(tree.children[0]))
        if isinstance(tree, Token):
            return OpVal(str(tree))
        return self._lower(tree, source, scope, ctx)

    def _sop_operand(self, value: Lowered, what: str, span: Span, ctx: _Context) -> str:
        if isinstance(value, SOpRef):
            return value.name
        if isinstance(value, ConstVal):
            return self._temp(ctx, ir.Full(value.value), span)
        raise self._error("type", f"{what} must be an s-op, not {describe_lowered(value)}", span)

    def _selector_operand(self, value: Lowered, what: str, span: Span) -> str:
        if isinstance(value, SelRef):
            return value.name
        raise self._error(
            "type",
            f"{what} must be a selector, not {describe_lowered(value)}",
            span,
            "build one with select(keys, queries, predicate)",
        )

    def _expect_arity(
        self,
        name: str,
        positional: list[Lowered],
        keywords: dict[str, Lowered],
        counts: tuple[int, ...],
        allowed_keywords: tuple[str, ...],
        usage: str,
        span: Span,
    ) -> None:
        unknown = set(keywords) - set(allowed_keywords)
        if len(positional) not in counts or unknown:
            extra = f"; unknown keyword {sorted(unknown)[0]!r}" if unknown else ""
            raise self._error("arity", f"wrong arguments to {name}{extra}", span, f"usage: {usage}")

    def _select(
        self,
        name: str,
        positional: list[Lowered],
        keywords: dict[str, Lowered],
        span: Span,
        ctx: _Context,
    ) -> Lowered:
        usage = f"{name}(keys, queries, predicate), e.g. {name}(indices, indices, <)"
        self._expect_arity(name, positional, keywords, (3,), (), usage, span)
        keys = self._sop_operand(positional[0], f"the keys of {name}", span, ctx)
        queries = self._sop_operand(positional[1], f"the queries of {name}", span, ctx)
        predicate = self._predicate(positional[2], name, span)
        node_type = ir.Select if name == "select" else ir.SelectClosest
        return SelRef(self._temp(ctx, node_type(keys, queries, predicate), span))

    def _predicate(self, value: Lowered, name: str, span: Span) -> ir.Predicate:
        if isinstance(value, OpVal):
            return ir.Comparison(value.op)
        if isinstance(value, ConstVal) and isinstance(value.value, bool):
            return ir.Comparison("true" if value.value else "false")
        if isinstance(value, FnVal):
            if len(value.fn.params) != 2:
                raise self._error(
                    "arity",
                    f"the predicate of {name} takes two parameters (key, query)",
                    value.fn.span or span,
                )
            return value.fn
        raise self._error(
            "type",
            f"the predicate of {name} must be a comparison (==, <, ...), true, false or "
            "fn(key, query) -> ...",
            span,
        )

    def _aggregate(
        self,
        name: str,
        positional: list[Lowered],
        keywords: dict[str, Lowered],
        span: Span,
        ctx: _Context,
    ) -> Lowered:
        usage = "aggregate(selector, sop, default=..., reduce=mean|sum|max|min)"
        self._expect_arity(name, positional, keywords, (2, 3), ("default", "reduce"), usage, span)
        selector = self._selector_operand(positional[0], "the first argument of aggregate", span)
        sop = self._sop_operand(positional[1], "the second argument of aggregate", span, ctx)
        default: Value | object = _UNSET
        default_arg = positional[2] if len(positional) == 3 else keywords.get("default")
        if default_arg is not None:
            if not isinstance(default_arg, ConstVal):
                raise self._error("type", "the default of aggregate must be a constant", span)
            default = default_arg.value
        reduce = "mean"
        if "reduce" in keywords:
            reduce = reduction_name(keywords["reduce"])
            if reduce not in ir.REDUCTIONS:
                raise self._error(
                    "type",
                    f"unknown reduction {reduce!r}: reduce must be mean, sum, max or min",
                    span,
                    usage,
                )
        node = ir.Aggregate(selector, sop, reduce, default)  # type: ignore[arg-type]
        return SOpRef(self._temp(ctx, node, span))

    def _selector_width(
        self,
        name: str,
        positional: list[Lowered],
        keywords: dict[str, Lowered],
        span: Span,
        ctx: _Context,
    ) -> Lowered:
        self._expect_arity(name, positional, keywords, (1,), (), "selector_width(selector)", span)
        selector = self._selector_operand(positional[0], "the argument of selector_width", span)
        return SOpRef(self._temp(ctx, ir.SelectorWidth(selector), span))

    def _map(
        self,
        name: str,
        positional: list[Lowered],
        keywords: dict[str, Lowered],
        span: Span,
        ctx: _Context,
    ) -> Lowered:
        usage = "map(fn(x, y) -> ..., x_sop, y_sop, default=...)"
        if len(positional) < 2 or set(keywords) - {"default"}:
            raise self._error("arity", "wrong arguments to map", span, f"usage: {usage}")
        fn_value = positional[0]
        if not isinstance(fn_value, FnVal):
            raise self._error("type", "the first argument of map must be fn(...) -> ...", span)
        inputs = tuple(self._sop_operand(v, "an input of map", span, ctx) for v in positional[1:])
        if len(fn_value.fn.params) != len(inputs):
            raise self._error(
                "arity",
                f"the function takes {len(fn_value.fn.params)} parameter(s) but map gives it "
                f"{len(inputs)} input(s)",
                fn_value.fn.span or span,
            )
        default: Value = None
        if "default" in keywords:
            default_arg = keywords["default"]
            if not isinstance(default_arg, ConstVal):
                raise self._error("type", "the default of map must be a constant", span)
            default = default_arg.value
        return SOpRef(self._temp(ctx, ir.Map(fn_value.fn, inputs, default), span))

    def _macro(
        self,
        definition: _Def,
        tree: ParseTree,
        source: _Source,
        scope: dict[str, Lowered],
        ctx: _Context,
    ) -> Lowered:
        span = span_of(tree, source.text, source.file)
        if definition.name in self.macro_stack:
            raise self._error("recursion", f"def {definition.name} calls itself", span)
        positional_trees, keyword_trees = split_arguments(tree.children[1:])
        if keyword_trees or len(positional_trees) != len(definition.params):
            raise self._error(
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
        header = self._final_header()
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

    def _final_header(self) -> ir.Header | None:
        overrides = self.overrides
        vocab = self.header.vocab if overrides.vocab is None else overrides.vocab
        max_len = self.header.max_len if overrides.max_len is None else overrides.max_len
        if self.overrides.vocab is not None and vocabulary_problem(self.overrides.vocab):
            self.diagnostics.append(
                Diagnostic("header", vocabulary_problem(self.overrides.vocab), None)
            )
        if max_len is not None and max_len < 1:
            self.diagnostics.append(Diagnostic("header", "the maximum length must be at least 1"))
        if vocab is None and "vocab" not in self.header.seen:
            self.diagnostics.append(
                Diagnostic("header", "no vocabulary", None, 'add %vocab {"a", "b"} or pass --vocab')
            )
        if max_len is None and "max_len" not in self.header.seen:
            self.diagnostics.append(
                Diagnostic("header", "no maximum length", None, "add %max_len 8 or pass --max-len")
            )
        if vocab is None or max_len is None:
            return None
        bos = self.header.bos
        if bos is not None and any(value_key(v) == value_key(bos) for v in vocab):
            self.diagnostics.append(
                Diagnostic(
                    "header",
                    f"the BOS token {describe_value(bos)} is also in the vocabulary",
                    self.header.seen.get("bos"),
                    "choose a BOS symbol outside the vocabulary",
                )
            )
        return ir.Header(vocab, max_len, bos, self.header.causal)


_UNSET: object = object()
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
    lowerer.lower_file(_Source(file, text), _global_scope(), main=True)
    return lowerer.program()


def parse_file(path: str | Path, *, overrides: HeaderOverrides | None = None) -> ir.Program:
    """The program in the file at ``path``; unreadable files are a :class:`RaspError`."""
    location = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {location}: {error}") from None
    return parse_program(text, location, overrides=overrides)
