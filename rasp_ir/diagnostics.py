"""Source spans, diagnostics and the project's one error type, rendered as ``file:line:col``.

Every error a user can cause becomes a :class:`Diagnostic` with a :class:`Span`; several are
raised together in one :class:`RaspError`. Rendering shows the source line (a window of it when
the line is long) with carets under the span and a hint saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
SOURCE_WIDTH = 100
"""Source lines longer than this are shown as a window around the caret."""
SOURCE_CONTEXT = 30
"""Characters shown before the caret when a long line is cut."""


@dataclass(frozen=True)
class Span:
    """A region of one source file (1-based line and column; ``end_column`` exclusive)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    line_text: str = field(default="", compare=False)

    def location(self) -> str:
        """``file:line:col``."""
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a stable code, a message, where it is and what to do about it."""

    code: str
    message: str
    span: Span | None = None
    hint: str = ""
    severity: Severity = "error"

    def render(self) -> str:
        """The diagnostic as people read it: location, message, source line, caret, hint."""
        where = f"{self.span.location()}: " if self.span else ""
        lines = [f"{where}{self.severity}: {self.message} [{self.code}]"]
        if self.span and self.span.line_text:
            text = self.span.line_text.rstrip("\n")
            shown, offset = _window(text, self.span.column - 1)
            width = min(_caret_width(self.span, text), len(shown) - offset)
            lines.append(f"    {shown}")
            lines.append("    " + " " * offset + "^" * max(1, width))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _window(text: str, start: int) -> tuple[str, int]:
    """At most :data:`SOURCE_WIDTH` characters of a source line around column ``start``
    (0-based), with ``…`` where it is cut, and the caret's offset in what is shown."""
    if len(text) <= SOURCE_WIDTH:
        return text, start
    first = max(0, min(start - SOURCE_CONTEXT, len(text) - SOURCE_WIDTH))
    shown = text[first : first + SOURCE_WIDTH]
    offset = start - first
    if first > 0:
        shown, offset = "…" + shown, offset + 1
    if first + SOURCE_WIDTH < len(text):
        shown += "…"
    return shown, offset


def _caret_width(span: Span, text: str) -> int:
    if span.end_line != span.line:
        return max(1, len(text) - span.column + 1)
    return max(1, span.end_column - span.column)


class RaspError(Exception):
    """The project's error for anything a user can get wrong; carries one or more diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        if not self.diagnostics:
            raise ValueError("RaspError needs at least one diagnostic")
        super().__init__(self.render())

    @classmethod
    def single(cls, code: str, message: str, span: Span | None = None, hint: str = "") -> RaspError:
        """An error with one diagnostic."""
        return cls([Diagnostic(code, message, span, hint)])

    def render(self) -> str:
        """All diagnostics, separated by blank lines."""
        return "\n\n".join(d.render() for d in self.diagnostics)


def errors_only(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics of severity ``error``."""
    return [d for d in diagnostics if d.severity == "error"]
