"""Names for the nodes one binding's right-hand side creates: temporary while resolving,
then derived in pre-order (``x__select``, ``x__select2``) so the printer can inline them back.

``created`` maps temporary names to nodes; operands that are not in it are earlier bindings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from rasp_ir import ir


def derived_names(binding: str, created: dict[str, ir.Node], root: str) -> dict[str, str]:
    """Final names: ``root`` becomes ``binding``; the k-th nested node of kind K in pre-order
    becomes ``binding__K`` (k = 1) or ``binding__Kk``."""
    names = {root: binding}
    counters: dict[str, int] = {}
    for temp in preorder(created, root):
        if temp == root:
            continue
        kind = ir.kind_name(created[temp])
        counters[kind] = counters.get(kind, 0) + 1
        suffix = "" if counters[kind] == 1 else str(counters[kind])
        names[temp] = f"{binding}__{kind}{suffix}"
    return names


def preorder(created: dict[str, ir.Node], root: str) -> Iterator[str]:
    """Created nodes reachable from ``root``, parents first, operands left to right."""
    seen: set[str] = set()
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen or name not in created:
            continue
        seen.add(name)
        yield name
        stack.extend(reversed(ir.operands(created[name])))


def postorder(created: dict[str, ir.Node], root: str) -> list[str]:
    """Created nodes reachable from ``root``, operands before their users."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in created:
            return
        seen.add(name)
        for child in ir.operands(created[name]):
            visit(child)
        order.append(name)

    visit(root)
    return order


def rename(node: ir.Node, names: Mapping[str, str]) -> ir.Node:
    """``node`` with its operands (and sugar-map parameters) renamed by ``names``."""

    def new(name: str) -> str:
        return names.get(name, name)

    if isinstance(node, ir.Map):
        renamed = tuple(new(n) for n in node.inputs)
        fn = rename_params(node.fn, names)
        return ir.Map(fn, renamed, node.default)
    if isinstance(node, (ir.Select, ir.SelectClosest)):
        return type(node)(new(node.keys), new(node.queries), node.predicate)
    if isinstance(node, (ir.SelectorAnd, ir.SelectorOr)):
        return type(node)(new(node.left), new(node.right))
    if isinstance(node, ir.SelectorNot):
        return ir.SelectorNot(new(node.operand))
    if isinstance(node, ir.Aggregate):
        return ir.Aggregate(new(node.selector), new(node.sop), node.reduce, node.default)
    if isinstance(node, ir.SelectorWidth):
        return ir.SelectorWidth(new(node.selector))
    if isinstance(node, ir.PooledVote):
        inputs = tuple(new(n) for n in node.inputs)
        return ir.PooledVote(new(node.selector), node.scores, inputs, node.labels, node.default)
    return node


def rename_params(fn: ir.Lambda, names: Mapping[str, str]) -> ir.Lambda:
    """Sugar maps name their parameters after their inputs; keep that true after renaming."""
    if not any(p in names for p in fn.params):
        return fn
    return ir.Lambda(
        tuple(names.get(p, p) for p in fn.params), rename_expr(fn.body, names), fn.span
    )


def rename_expr(expr: ir.Expr, names: Mapping[str, str]) -> ir.Expr:
    """``expr`` with parameters renamed by ``names``."""
    if isinstance(expr, ir.Param):
        return ir.Param(names.get(expr.name, expr.name))
    return ir.map_children(expr, lambda child: rename_expr(child, names))
