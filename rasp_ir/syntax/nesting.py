"""An AST module in, a diagnostic for every statement nested deeper than
:data:`~rasp_ir.limits.MAX_NESTING` out: refused before anything walks the AST recursively.

The walk is iterative, so it measures any depth without using Python's stack.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.limits import MAX_NESTING
from rasp_ir.syntax import ast

_EXPRESSIONS = (
    *ast.LITERALS,
    ast.Name,
    ast.BinOp,
    ast.Logic,
    ast.Not,
    ast.Neg,
    ast.IfElse,
    ast.Member,
    ast.OperatorArg,
    ast.Call,
    ast.FnLit,
    ast.SetLit,
    ast.TupleLit,
    ast.TableLit,
)
"""The nodes that count as one level; others (a statement, a keyword argument, a table entry)
only group them."""


def nesting_problems(module: ast.Module) -> list[Diagnostic]:
    """One diagnostic per statement (or directive) whose expressions nest deeper than
    :data:`MAX_NESTING`, at the first node past the limit."""
    problems = []
    for top in (*module.directives, *module.statements):
        too_deep = _first_too_deep(top)
        if too_deep is not None:
            problems.append(
                Diagnostic(
                    "nesting",
                    f"expressions nest more than {MAX_NESTING} deep here",
                    too_deep,
                    "name the inner parts as bindings of their own",
                )
            )
    return problems


def _first_too_deep(top: object) -> Span | None:
    """The span of the first expression (in pre-order) inside more than
    :data:`MAX_NESTING` - 1 others below ``top``, or None."""
    stack: list[tuple[object, int]] = [(top, 0)]
    while stack:
        node, outer = stack.pop()
        level = outer + 1 if isinstance(node, _EXPRESSIONS) else outer
        if level > MAX_NESTING:
            span: Span = node.span  # type: ignore[attr-defined]
            return span
        stack.extend((child, level) for child in reversed(_children(node)))
    return None


def _children(node: object) -> list[object]:
    """The AST nodes directly inside ``node``, in source order."""
    if not is_dataclass(node):
        return []
    found: list[object] = []
    for field in fields(node):
        value = getattr(node, field.name)
        if isinstance(value, tuple):
            found.extend(item for item in value if is_dataclass(item))
        elif is_dataclass(value) and not isinstance(value, Span):
            found.append(value)
    return found
