"""RASP source text in, IR :class:`~rasp_ir.ir.Program` out: the front end of the hub.

Three stages, one module each: :mod:`~rasp_ir.syntax.tree` (text to Lark parse tree, syntax
errors as diagnostics), :mod:`~rasp_ir.syntax.build_ast` (parse tree to the typed AST of
:mod:`~rasp_ir.syntax.ast`) and :mod:`~rasp_ir.syntax.resolve` (names, macros, imports, sugar,
annotations and derived names: AST to IR).

For people writing programs by hand, beside the front end: :mod:`~rasp_ir.syntax.trivia`
(the comments and blank lines the grammar ignores, attached to tokens),
:mod:`~rasp_ir.syntax.formatter` (``rasp fmt``: source text in, the same text tidied out) and
:mod:`~rasp_ir.syntax.highlight` (the Pygments lexer; imports Pygments, so it is not imported
here).

The names below are imported on first use, so that importing one module of the package (the
formatter, for ``rasp fmt``) does not import name resolution too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rasp_ir.syntax.bindings import RESERVED
    from rasp_ir.syntax.build_ast import parse_module
    from rasp_ir.syntax.calls import MAP_ALIASES, SOP_BUILTINS
    from rasp_ir.syntax.exprs import EXPR_BUILTINS
    from rasp_ir.syntax.header import HeaderOverrides
    from rasp_ir.syntax.resolve import parse_file, parse_program
    from rasp_ir.syntax.tree import ParseTree, as_token, as_tree, grammar_parser, parse_tree

_MODULE_OF = {
    "RESERVED": "bindings",
    "parse_module": "build_ast",
    "MAP_ALIASES": "calls",
    "SOP_BUILTINS": "calls",
    "EXPR_BUILTINS": "exprs",
    "HeaderOverrides": "header",
    "parse_file": "resolve",
    "parse_program": "resolve",
    "ParseTree": "tree",
    "as_token": "tree",
    "as_tree": "tree",
    "grammar_parser": "tree",
    "parse_tree": "tree",
}

__all__ = [
    "EXPR_BUILTINS",
    "MAP_ALIASES",
    "RESERVED",
    "SOP_BUILTINS",
    "HeaderOverrides",
    "ParseTree",
    "as_token",
    "as_tree",
    "grammar_parser",
    "parse_file",
    "parse_module",
    "parse_program",
    "parse_tree",
]


def __getattr__(name: str) -> Any:
    """One of :data:`__all__`, from its module (imported now if it was not yet)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
