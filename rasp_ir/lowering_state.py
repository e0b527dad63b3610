"""What the lowering modules share: the source of a statement, the temporary nodes one binding's
right-hand side creates, and a recorder that collects diagnostics and those nodes.

Lowerers record into a :class:`Recorder`; :mod:`rasp_ir.lowering` reads the nodes back as
bindings and the diagnostics as one :class:`~rasp_ir.diagnostics.RaspError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.lowered import MAX_NUMBER_DIGITS, LiteralTooLarge, literal
from rasp_ir.syntax import ParseTree
from rasp_ir.values import Value

TEMP = "\0tmp"


class LoweringFailed(Exception):
    """Lowering of one statement stopped after recording a diagnostic."""


@dataclass
class Source:
    file: str
    text: str


@dataclass
class Context:
    """Nodes created while lowering one binding's right-hand side (temporary names)."""

    name: str
    created: dict[str, ir.Node] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    macro_calls: dict[str, int] = field(default_factory=dict)


class Recorder:
    """Diagnostics and temporary nodes recorded while lowering one program."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.temp_counter = 0

    def error(self, code: str, message: str, span: Span | None, hint: str = "") -> LoweringFailed:
        """Record a diagnostic; the caller raises what comes back to stop the statement."""
        self.diagnostics.append(Diagnostic(code, message, span, hint))
        return LoweringFailed()

    def literal(self, tree: ParseTree, span: Span) -> Value:
        """The value of a literal tree; a diagnostic for numbers too large to handle."""
        try:
            return literal(tree)
        except LiteralTooLarge as error:
            hint = f"numbers are exact: at most {MAX_NUMBER_DIGITS} digits and exponent"
            raise self.error("literal", str(error), span, hint) from None

    def temp(self, context: Context, node: ir.Node, span: Span) -> str:
        """A fresh temporary name for ``node``, created in ``context``."""
        self.temp_counter += 1
        name = f"{TEMP}{self.temp_counter}"
        context.created[name] = node
        context.spans[name] = span
        return name
