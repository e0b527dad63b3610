"""The hub's values in, the Language Server Protocol's out (and positions back): spans as
ranges in the client's position encoding (UTF-16 unless it asks for another), diagnostics, file
names as URIs. Requires the ``lsp`` extra (lsprotocol comes with pygls)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.lsp.analysis import Analysis
from rasp_ir.lsp.index import FileIndex, ImportLink

SOURCE = "rasp"


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of ``encoding`` (utf-8, utf-16 or utf-32)."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def column_from_units(line_text: str, count: int, encoding: str) -> int:
    """The 0-based character index that is ``count`` code units into ``line_text``."""
    total = 0
    for index, char in enumerate(line_text):
        if total >= count:
            return index
        total += units(char, encoding)
    return len(line_text)


def position(lines: Sequence[str], line: int, column: int, encoding: str) -> types.Position:
    """The LSP position of 1-based ``line``:``column`` (a character column)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return types.Position(line - 1, units(text[: column - 1], encoding))


def span_range(span: Span, lines: Sequence[str], encoding: str) -> types.Range:
    """The LSP range of ``span`` in a file whose lines are ``lines``."""
    return types.Range(
        position(lines, span.line, span.column, encoding),
        position(lines, span.end_line, span.end_column, encoding),
    )


def server_position(lines: Sequence[str], at: types.Position, encoding: str) -> tuple[int, int]:
    """The 1-based line and character column of an LSP position."""
    text = lines[at.line] if 0 <= at.line < len(lines) else ""
    return at.line + 1, column_from_units(text, at.character, encoding) + 1


def uri_of(file: str) -> str:
    """The URI of a file name (one that is already a URI stays as it is)."""
    if "://" in file or file.startswith("untitled:"):
        return file
    return Path(file).resolve().as_uri()


def location(
    span: Span, analysis: Analysis, encoding: str, uri: str, others: Sequence[Analysis] = ()
) -> types.Location:
    """The LSP location of a span in the document (whose URI is ``uri``), in a file it
    imports, or in the file of one of ``others`` (or one that imports)."""
    source = analysis.sources.get(span.file)
    for other in others:
        if source is None and other.index is not None:
            source = other.sources.get(span.file)
    lines = (source if source is not None else span.line_text).splitlines()
    where = uri if span.file == analysis.file else uri_of(span.file)
    return types.Location(where, span_range(span, lines, encoding))


def diagnostics(analysis: Analysis, encoding: str) -> list[types.Diagnostic]:
    """The document's diagnostics as LSP diagnostics. One inside an imported file is shown at
    the import that brings the file in, its message starting with the file's location, and
    points to its place there; one without a place is shown at the start of the document."""
    lines = analysis.text.splitlines()
    return [_diagnostic(d, analysis, lines, encoding) for d in analysis.diagnostics]


def _diagnostic(
    diagnostic: Diagnostic, analysis: Analysis, lines: Sequence[str], encoding: str
) -> types.Diagnostic:
    message = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
    span, related = diagnostic.span, None
    if span is None:
        where = types.Range(types.Position(0, 0), types.Position(0, 0))
    elif span.file == analysis.file:
        where = span_range(span, lines, encoding)
    else:
        anchor = _import_anchor(analysis, span.file)
        where = (
            span_range(anchor.span, lines, encoding)
            if anchor is not None
            else types.Range(types.Position(0, 0), types.Position(0, 0))
        )
        message = f"{span.location()}: {message}"
        other = location(span, analysis, encoding, uri_of(span.file))
        related = [types.DiagnosticRelatedInformation(other, message)]
    severity = (
        types.DiagnosticSeverity.Error
        if diagnostic.severity == "error"
        else types.DiagnosticSeverity.Warning
    )
    return types.Diagnostic(
        where,
        message,
        severity=severity,
        code=diagnostic.code,
        source=SOURCE,
        related_information=related,
    )


def _import_anchor(analysis: Analysis, file: str) -> ImportLink | None:
    """The document's import that brings ``file`` in, directly or through other imports."""
    if analysis.index is None or not analysis.index.imports:
        return None
    for link in analysis.index.imports:
        if str(link.path) == file or (link.index is not None and _imports(link.index, file)):
            return link
    return analysis.index.imports[0]


def _imports(index: FileIndex, file: str) -> bool:
    return any(
        str(link.path) == file or (link.index is not None and _imports(link.index, file))
        for link in index.imports
    )
