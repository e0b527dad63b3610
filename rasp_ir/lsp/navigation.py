"""A position in a document in, spans out: the definition of the name there (in an imported
file too, and an ``import``'s path leads to its file), every reference to it, and the edits
that rename it. References and renames reach the file defining the name and every other file
given (the server gives the open documents and the workspace's files) that uses it through its
imports."""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    analysis: Analysis,
    line: int,
    column: int,
    *,
    include_definition: bool,
    others: Sequence[Analysis] = (),
) -> list[Span]:
    """Every place where the name at the position occurs: in the document, in the file that
    defines it, and in each of ``others`` (analyses of other files) that reads it through an
    import."""
    symbol = symbol_at(analysis, line, column)
    if symbol is None:
        return []
    return [
        occurrence.span
        for index in _indexes_holding(analysis, symbol, others)
        for occurrence in index.uses_of(symbol)
        if include_definition or not occurrence.is_definition
    ]


def rename(
    analysis: Analysis, line: int, column: int, new_name: str, others: Sequence[Analysis] = ()
) -> list[Edit]:
    """The edits renaming the name at the position to ``new_name`` everywhere
    :func:`references` finds it; a :class:`RaspError` when the position is on no renamable
    name or ``new_name`` cannot be used (in any file that would change)."""
    symbol = symbol_at(analysis, line, column)
    if symbol is None or analysis.index is None:
        raise RaspError.single("rename", "there is no name of this program here")
    _check_name(new_name)
    edits: list[Edit] = []
    for index in _indexes_holding(analysis, symbol, others):
        uses = index.uses_of(symbol)
        if uses:
            _check_free(index, symbol, new_name)
        edits.extend(Edit(occurrence.span, new_name) for occurrence in uses)
    return edits


def _check_name(new_name: str) -> None:
    """A :class:`RaspError` unless ``new_name`` is a name a binding may take."""
    if not _NAME.fullmatch(new_name) or new_name in _KEYWORDS:
        raise RaspError.single(
            "rename", f"{new_name!r} is not a name", hint="use letters, _, digits"
        )
    if new_name in RESERVED:
        raise RaspError.single("rename", f"{new_name!r} is a built-in name")


def _check_free(index: FileIndex, symbol: Symbol, new_name: str) -> None:
    """A :class:`RaspError` when ``new_name`` already means something else where ``index``'s
    file uses ``symbol``."""
    taken = (
        index.scope if not symbol.owner else index.visible_at(symbol.span.line, symbol.span.column)
    )
    clash = taken.get(new_name)
    if clash is not None and clash != symbol:
        raise RaspError.single(
            "rename", f"{new_name!r} is already defined at {clash.span.location()}"
        )


def _indexes_holding(
    analysis: Analysis, symbol: Symbol, others: Sequence[Analysis]
) -> list[FileIndex]:
    """The document's index, the index of the file that defines ``symbol``, and those of the
    ``others`` that import that file (directly or further down); one per file."""
    assert analysis.index is not None
    found = {analysis.file: analysis.index}
    defining = _defining_index(analysis.index, symbol.span.file)
    for other in others:
        index = other.index
        if index is None or other.file in found:
            continue
        if other.file == symbol.span.file:
            defining = index
        elif _defining_index(index, symbol.span.file) is not None:
            found[other.file] = index
    if defining is not None:
        found.setdefault(defining.file, defining)
    return list(found.values())


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
