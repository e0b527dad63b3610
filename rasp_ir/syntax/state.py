"""Problems and built nodes in, diagnostics and temporaries out: the recorder the resolution
modules share, and the temporary nodes one binding's right-hand side creates.

Resolvers record into a :class:`Recorder`; :mod:`rasp_ir.syntax.resolve` reads the nodes back
as bindings and the diagnostics as one :class:`~rasp_ir.diagnostics.RaspError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.limits import MAX_NUMBER_DIGITS
from rasp_ir.syntax import ast
from rasp_ir.syntax.resolved import LiteralTooLarge, literal_value
from rasp_ir.values import Value

TEMP = "\0tmp"


class StatementFailed(Exception):
    """Resolution of one statement stopped after recording a diagnostic."""


@dataclass
class Context:
    """Nodes created while resolving one binding's right-hand side (temporary names)."""

    name: str
    created: dict[str, ir.Node] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    macro_calls: dict[str, int] = field(default_factory=dict)


class Recorder:
    """Diagnostics and temporary nodes recorded while resolving one program."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.temp_counter = 0

    def error(self, code: str, message: str, span: Span | None, hint: str = "") -> StatementFailed:
        """Record a diagnostic; the caller raises what comes back to stop the statement."""
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return StatementFailed()

    def literal(self, node: ast.Literal) -> Value:
        """The value of a literal; a diagnostic for numbers too large to handle."""
        try:
            return literal_value(node)
        except LiteralTooLarge as error:
            hint = f"numbers are exact: at most {MAX_NUMBER_DIGITS} digits and exponent"
            raise self.error("literal", str(error), node.span, hint) from None

    def temp(self, context: Context, node: ir.Node, span: Span) -> str:
        """A fresh temporary name for ``node``, created in ``context``."""
        self.temp_counter += 1
        name = f"{TEMP}{self.temp_counter}"
        context.created[name] = node
        context.spans[name] = span
        return name
