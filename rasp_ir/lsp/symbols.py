"""A document's index in, its outline out: the file's bindings and ``def``\\ s in text order,
each ``def`` with its parameters and locals beneath it."""

from __future__ import annotations

from dataclasses import dataclass, field

from rasp_ir import ir
from rasp_ir.lsp.analysis import Analysis
from rasp_ir.lsp.index import Symbol


@dataclass(frozen=True)
class OutlineEntry:
    """One entry of the outline and the entries beneath it."""

    symbol: Symbol
    detail: str
    children: tuple[OutlineEntry, ...] = field(default=())


def outline(analysis: Analysis) -> list[OutlineEntry]:
    """The outline of the document (empty while it does not parse)."""
    if analysis.index is None:
        return []
    own = [s for s in analysis.index.symbols if s.span.file == analysis.file]
    entries = []
    for symbol in own:
        if symbol.owner or symbol.kind == "fn-parameter":
            continue
        children = tuple(
            OutlineEntry(s, s.kind) for s in own if s.owner == symbol.name and symbol.kind == "def"
        )
        entries.append(OutlineEntry(symbol, _detail(symbol, analysis), children))
    return entries


def _detail(symbol: Symbol, analysis: Analysis) -> str:
    """``def f(a, b)``, or a binding's op and encoding when the program checks."""
    if symbol.kind == "def":
        return symbol.detail
    checked = analysis.checked
    if checked is None or symbol.name not in checked.program.by_name:
        return symbol.detail
    binding = checked.program.binding(symbol.name)
    kind = ir.kind_name(binding.node)
    return f"{kind}, {binding.encoding}" if binding.encoding else f"selector ({kind})"
