"""A position in a document in, spans out: the definition of the name there (in an imported
file too, and an ``import``'s path leads to its file), every reference to it, and the edits
that rename it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rasp_ir.diagnostics import RaspError, Span
from rasp_ir.lsp.analysis import Analysis
from rasp_ir.lsp.index import FileIndex, Symbol
from rasp_ir.syntax import RESERVED

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_KEYWORDS = ("output", "import", "true", "false", "none", "and", "or", "not", "in", "if", "else")


@dataclass(frozen=True)
class Edit:
    """Replace the text of ``span`` with ``text``."""

    span: Span
    text: str


def symbol_at(analysis: Analysis, line: int, column: int) -> Symbol | None:
    """The symbol defined or used at 1-based ``line``:``column``."""
    if analysis.index is None:
        return None
    occurrence = analysis.index.at(line, column)
    return occurrence.symbol if occurrence is not None else None


def definition(analysis: Analysis, line: int, column: int) -> Span | None:
    """Where the name at the position is defined; for an import's path, the start of the file
    it names."""
    if analysis.index is None:
        return None
    link = analysis.index.import_at(line, column)
    if link is not None:
        text = analysis.sources.get(str(link.path), "")
        first = text.splitlines()[0] if text else ""
        return Span(str(link.path), 1, 1, 1, 1, first)
    symbol = symbol_at(analysis, line, column)
    return symbol.span if symbol is not None else None


def references(
    analysis: Analysis, line: int, column: int, *, include_definition: bool
) -> list[Span]:
    """Every place in the document (and, for a name defined in an imported file, in that
    file) where the name at the position occurs."""
    symbol = symbol_at(analysis, line, column)
    if symbol is None:
        return []
    return [
        occurrence.span
        for index in _indexes_holding(analysis, symbol)
        for occurrence in index.uses_of(symbol)
        if include_definition or not occurrence.is_definition
    ]


def rename(analysis: Analysis, line: int, column: int, new_name: str) -> list[Edit]:
    """The edits renaming the name at the position to ``new_name``; a :class:`RaspError` when
    the position is on no renamable name or ``new_name`` cannot be used."""
    symbol = symbol_at(analysis, line, column)
    if symbol is None or analysis.index is None:
        raise RaspError.single("rename", "there is no name of this program here")
    _check_new_name(analysis.index, symbol, new_name)
    return [
        Edit(occurrence.span, new_name)
        for index in _indexes_holding(analysis, symbol)
        for occurrence in index.uses_of(symbol)
    ]


def _check_new_name(index: FileIndex, symbol: Symbol, new_name: str) -> None:
    if not _NAME.fullmatch(new_name) or new_name in _KEYWORDS:
        raise RaspError.single(
            "rename", f"{new_name!r} is not a name", hint="use letters, _, digits"
        )
    if new_name in RESERVED:
        raise RaspError.single("rename", f"{new_name!r} is a built-in name")
    taken = (
        index.scope if not symbol.owner else index.visible_at(symbol.span.line, symbol.span.column)
    )
    clash = taken.get(new_name)
    if clash is not None and clash != symbol:
        raise RaspError.single(
            "rename", f"{new_name!r} is already defined at {clash.span.location()}"
        )


def _indexes_holding(analysis: Analysis, symbol: Symbol) -> list[FileIndex]:
    """The document's index, and the imported file's that defines ``symbol`` if another."""
    assert analysis.index is not None
    indexes = [analysis.index]
    if symbol.span.file != analysis.file:
        defining = _defining_index(analysis.index, symbol.span.file)
        if defining is not None:
            indexes.append(defining)
    return indexes


def _defining_index(index: FileIndex, file: str) -> FileIndex | None:
    """The index of ``file`` among ``index``'s imports, directly or further down."""
    seen: set[str] = set()
    pending = [index]
    while pending:
        current = pending.pop()
        if current.file == file:
            return current
        if current.file in seen:
            continue
        seen.add(current.file)
        pending.extend(current.imported)
    return None
