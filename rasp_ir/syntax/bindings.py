"""Binding statements in, IR :class:`~rasp_ir.ir.Binding`\\ s out: the right-hand side resolved,
its nested nodes given derived names (:mod:`rasp_ir.syntax.names`), annotations checked and
applied, defaults filled in by encoding.
"""

from __future__ import annotations

from collections import ChainMap

from rasp_ir import ir
from rasp_ir.diagnostics import Span
from rasp_ir.limits import MAX_DOMAIN
from rasp_ir.syntax import ast
from rasp_ir.syntax.calls import MAP_ALIASES, SOP_BUILTINS, UNSET
from rasp_ir.syntax.elaborate import Elaborator
from rasp_ir.syntax.exprs import EXPR_BUILTINS
from rasp_ir.syntax.names import derived_names, postorder, rename
from rasp_ir.syntax.resolved import (
    POISONED,
    ConstVal,
    Resolved,
    Scope,
    SelRef,
    SOpRef,
    bounded_int,
    describe_resolved,
)
from rasp_ir.syntax.state import TEMP, Context, StatementFailed
from rasp_ir.values import Value, canonical_values

RESERVED = (*ir.PRIMITIVES, *SOP_BUILTINS, *MAP_ALIASES, *EXPR_BUILTINS, "fn", "def")
"""Names a binding or ``def`` cannot take."""


class BindingResolver(Elaborator):
    """Resolves bindings into the program's list of IR bindings."""

    def __init__(self) -> None:
        super().__init__()
        self.bindings: list[ir.Binding] = []
        self.binding_spans: dict[str, Span] = {}
        self.encodings: dict[str, ir.Encoding | None] = {}
        self.committed_temps: dict[str, str] = {}

    def check_new_name(self, name: str, span: Span, scope: Scope) -> None:
        """A diagnostic (raised) if ``name`` is built in or already bound in ``scope``."""
        if name in RESERVED:
            raise self.error(
                "reserved", f"{name!r} is a built-in name", span, "choose another name"
            )
        if name in scope:
            previous = self.binding_spans.get(name) or (
                self.defs[name].node.name_span if name in self.defs else None
            )
            where = f"; the first is at {previous.location()}" if previous else ""
            raise self.error(
                "duplicate", f"{name!r} is defined twice", span, f"names are bound once{where}"
            )

    def bind(self, binding: ast.Binding, scope: Scope, *, prefix: str) -> None:
        """Resolve ``binding`` and record its nodes; ``scope`` learns what its name stands for."""
        local = binding.name
        name = f"{prefix}__{local}" if prefix else local
        self.check_new_name(local, binding.name_span, scope)
        if prefix and name in self.binding_spans:
            raise self.error(
                "duplicate", f"macro-local name {name!r} already exists", binding.name_span
            )
        context = Context(name)
        try:
            root = self.resolve(binding.value, scope, context)
        except StatementFailed:
            scope[local] = POISONED
            raise
        declared = (
            self._annotation(binding.annotation, scope) if binding.annotation is not None else None
        )
        if isinstance(root, SelRef):
            scope[local] = self._bind_selector(binding, name, root, declared, context)
            return
        root_name = self._sop_root(binding, root, context)
        self._commit(context, root_name, declared, binding.name_span, binding.span)
        self.binding_spans[name] = binding.name_span
        scope[local] = SOpRef(name)

    def commit_argument(self, temp: str) -> str:
        """The binding name of the macro argument ``temp``; the first time, its nodes leave
        the context that built them and are committed under the argument's name."""
        if temp not in self.committed_temps:
            argument = self.macro_arguments[temp]
            owner = argument.context
            context = Context(argument.name, owner.created, owner.spans)
            self._commit(context, temp, None, None, owner.spans[temp])
        return self.committed_temps[temp]

    def _bind_selector(
        self,
        binding: ast.Binding,
        name: str,
        root: SelRef,
        declared: ir.Annotation | None,
        context: Context,
    ) -> SelRef:
        """A selector binding: committed if it built a selector, an alias if it names one."""
        if declared is not None:
            raise self.error(
                "annotation",
                f"{binding.name} is a selector; only s-ops take cat/num",
                binding.name_span,
            )
        if not root.name.startswith(TEMP):
            return root
        self._commit(context, root.name, None, None, binding.span)
        self.binding_spans[name] = binding.name_span
        return SelRef(name)

    def _sop_root(self, binding: ast.Binding, root: Resolved, context: Context) -> str:
        """The temporary holding an s-op binding's node: built, or made from a constant or a
        copy of another s-op."""
        if isinstance(root, ConstVal):
            return self.temp(context, ir.Full(root.value), binding.span)
        if isinstance(root, SOpRef) and not root.name.startswith(TEMP):
            identity = ir.Lambda((root.name,), ir.Param(root.name))
            return self.temp(context, ir.Map(identity, (root.name,)), binding.span)
        if isinstance(root, SOpRef):
            return root.name
        raise self.error(
            "type",
            f"{binding.name} must be an s-op or a selector, not {describe_resolved(root)}",
            binding.name_span,
            "functions, sets and tables can only be arguments",
        )

    def _annotation(self, annotation: ast.Annotation, scope: Scope) -> ir.Annotation:
        domain: tuple[Value, ...] | None = None
        if isinstance(annotation.domain, ast.DomainSize):
            size = bounded_int(annotation.domain.digits, MAX_DOMAIN)
            if size is None:
                raise self.error(
                    "annotation",
                    f"cat[{annotation.domain.digits[:12]}] is too large: "
                    f"at most {MAX_DOMAIN:,} values",
                    annotation.span,
                )
            domain = tuple(range(size))
        elif annotation.domain is not None:
            domain = canonical_values(self.constant(c, scope) for c in annotation.domain.items)
        return ir.Annotation(annotation.encoding, domain)  # type: ignore[arg-type]

    def _commit(
        self,
        context: Context,
        root: str,
        declared: ir.Annotation | None,
        name_span: Span | None,
        span: Span,
    ) -> None:
        """Record the nodes ``root`` reaches in ``context`` as bindings, operands first; they
        leave ``context``, and later readers of their temporary names read the bindings."""
        names = derived_names(context.name, context.created, root)
        renames = ChainMap(names, self.committed_temps)
        for temp in postorder(context.created, root):
            node = rename(context.created.pop(temp), renames)
            final = names[temp]
            node_span = context.spans.get(temp, span)
            encoding, domain = self._default_encoding(node), None
            if temp == root and declared is not None:
                self._check_aggregate_encoding(node, declared, final, name_span)
                encoding, domain = declared.encoding, declared.domain
            node = _fill_defaults(node, encoding)
            if final in self.binding_spans:
                raise self.error(
                    "duplicate",
                    f"the nested expression name {final!r} is already taken",
                    node_span,
                    f"rename the binding {final!r}",
                )
            self.bindings.append(ir.Binding(final, node, encoding, domain, node_span))
            self.binding_spans[final] = node_span
            self.encodings[final] = encoding
            self.committed_temps[temp] = final

    def _check_aggregate_encoding(
        self, node: ir.Node, declared: ir.Annotation, final: str, name_span: Span | None
    ) -> None:
        """An aggregate keeps its input's encoding; a declaration cannot change it."""
        if not isinstance(node, ir.Aggregate):
            return
        source_encoding = self.encodings.get(node.sop, "cat")
        if declared.encoding != source_encoding:
            raise self.error(
                "encoding",
                f"aggregate {final} must have its input's encoding ({source_encoding})",
                name_span,
                "map the value to the other encoding first",
            )

    def _default_encoding(self, node: ir.Node) -> ir.Encoding | None:
        if ir.is_selector(node):
            return None
        if isinstance(node, ir.Aggregate):
            return self.encodings.get(node.sop) or "cat"
        return "cat"


def _fill_defaults(node: ir.Node, encoding: ir.Encoding | None) -> ir.Node:
    """An aggregate without a default gets its encoding's: 0 for num, None for cat."""
    if isinstance(node, ir.Aggregate) and node.default is UNSET:
        return ir.Aggregate(node.selector, node.sop, node.reduce, 0 if encoding == "num" else None)
    return node
