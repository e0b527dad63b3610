"""An AST module in, a diagnostic for every limit of :mod:`rasp_ir.limits` it exceeds out:
too many statements, expressions nested deeper than :data:`~rasp_ir.limits.MAX_NESTING`,
literal tables and sets larger than :data:`~rasp_ir.limits.MAX_LITERAL_ITEMS`. Checked before
anything walks the AST recursively or starts resolving it.

The walk is iterative, so it measures any depth without using Python's stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass

from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.limits import MAX_LITERAL_ITEMS, MAX_NESTING, MAX_STATEMENTS
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


def ast_limit_problems(
    module: ast.Module,
    file: str,
    per_node: Callable[[object], list[Diagnostic]] | None = None,
) -> list[Diagnostic]:
    """Every limit ``module`` (the AST of ``file``) exceeds, as diagnostics: the statement
    count once, then per statement (or directive) what :func:`node_limit_problems` finds
    (``per_node`` computes that instead when given, e.g. reusing earlier results)."""
    if len(module.statements) > MAX_STATEMENTS:
        message = (
            f"{file} has {len(module.statements):,} statements, more than the limit of "
            f"{MAX_STATEMENTS:,}"
        )
        return [Diagnostic("limit", message, None, "split the program into imported files")]
    problems = []
    for top in (*module.directives, *module.statements):
        problems.extend((per_node or node_limit_problems)(top))
    return problems


def node_limit_problems(top: object) -> list[Diagnostic]:
    """The limits one statement (or directive) exceeds: the first node nested too deep, then
    every literal with too many items."""
    problems = []
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
    problems.extend(_literal_problems(top))
    return problems


def _literal_problems(top: object) -> list[Diagnostic]:
    """A diagnostic for each table or set literal below ``top`` with too many items."""
    problems = []
    stack = [top]
    while stack:
        node = stack.pop()
        count = _literal_items(node)
        if count > MAX_LITERAL_ITEMS:
            message = (
                f"this literal has {count:,} items, more than the limit of {MAX_LITERAL_ITEMS:,}"
            )
            span: Span = node.span  # type: ignore[attr-defined]
            problems.append(Diagnostic("limit", message, span, "use a smaller table or set"))
            continue
        stack.extend(_children(node))
    return problems


def _literal_items(node: object) -> int:
    """How many entries a table, set or tuple literal has (0 for any other node)."""
    if isinstance(node, ast.TableLit):
        return len(node.entries)
    if isinstance(node, (ast.SetLit, ast.TupleLit)):
        return len(node.items)
    return 0


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


_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each AST node class (``dataclasses.fields`` is slow)."""


def _children(node: object) -> list[object]:
    """The AST nodes directly inside ``node``, in source order."""
    names = _FIELDS.get(type(node))
    if names is None:
        if not is_dataclass(node):
            return []
        names = _FIELDS.setdefault(type(node), tuple(f.name for f in fields(node)))
    found: list[object] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, tuple):
            found.extend(item for item in value if is_dataclass(item))
        elif is_dataclass(value) and not isinstance(value, Span):
            found.append(value)
    return found
