"""The language server: JSON-RPC over stdio in and out (pygls), each request handed to the
feature module that answers it.

Documents are analysed on open and on every change, and their diagnostics published at once;
documents that import a changed one are analysed again too. Requests are answered from the
latest analysis; completion falls back to the last version that parsed. Nothing a user types
stops the server: a failure inside a handler becomes an error response (or, for an analysis,
an ``internal`` diagnostic) and the server goes on.

A new request is one handler here, calling a function of its own module, and one entry in
:data:`FEATURES`. ``textDocument/formatting`` answers with one ``TextEdit`` replacing the
whole document with the formatter's text, or none when the text does not parse.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from rasp_ir import __version__
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.lsp import completion, hover, navigation, protocol, symbols
from rasp_ir.lsp.analysis import Analysis, DocumentMemo, analyse, analyse_for_index
from rasp_ir.lsp.index import FileIndex
from rasp_ir.syntax.formatter import format_source

LOG = logging.getLogger(__name__)

_COMPLETION_KINDS = {
    "variable": types.CompletionItemKind.Variable,
    "function": types.CompletionItemKind.Function,
    "parameter": types.CompletionItemKind.Variable,
    "keyword": types.CompletionItemKind.Keyword,
    "operator": types.CompletionItemKind.Operator,
    "directive": types.CompletionItemKind.Keyword,
    "constant": types.CompletionItemKind.Constant,
}
_SYMBOL_KINDS = {
    "binding": types.SymbolKind.Variable,
    "def": types.SymbolKind.Function,
    "parameter": types.SymbolKind.Variable,
    "local": types.SymbolKind.Variable,
    "fn-parameter": types.SymbolKind.Variable,
}


@dataclass
class OpenDocument:
    """An open document's latest analysis, the analysis of its last version that parsed, and
    what its analyses keep between versions."""

    uri: str
    analysis: Analysis
    last_parsed: Analysis | None
    memo: DocumentMemo


class RaspLanguageServer(LanguageServer):
    """pygls' server with the open RASP documents."""

    def __init__(self) -> None:
        super().__init__("rasp-lsp", __version__)
        self.documents: dict[str, OpenDocument] = {}

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client."""
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        return str(encoding)

    def read_file(self, path: Path) -> str:
        """An open document's text when ``path`` is open in the editor, else the file's."""
        for uri, document in self.workspace.text_documents.items():
            if _file_of(uri) == str(path):
                return str(document.source)
        return path.read_text(encoding="utf-8")

    def refresh(self, uri: str) -> None:
        """Analyse the document again, publish its diagnostics, then do the same for the open
        documents that import it."""
        self._analyse(uri)
        file = _file_of(uri)
        for other in list(self.documents):
            if other == uri:
                continue
            index = self.documents[other].analysis.index
            if index is not None and _imports_file(index, file):
                self._analyse(other)

    def _analyse(self, uri: str) -> None:
        text = str(self.workspace.get_text_document(uri).source)
        file = _file_of(uri)
        previous = self.documents.get(uri)
        memo = previous.memo if previous is not None else DocumentMemo()
        try:
            analysis = analyse(text, file, self.read_file, memo)
        except Exception as error:  # a bug in the hub: say so, keep serving
            LOG.exception("analysis of %s failed", uri)
            internal = Diagnostic("internal", f"internal error while checking: {error!r}")
            analysis = Analysis(file, text, (internal,))
            memo = DocumentMemo()  # what it kept may be half-updated
        parsed = analysis if analysis.module is not None else None
        last_parsed = parsed or (previous.last_parsed if previous else None)
        self.documents[uri] = OpenDocument(uri, analysis, last_parsed, memo)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri, protocol.diagnostics(analysis, self.encoding))
        )

    def other_files(self, uri: str) -> list[Analysis]:
        """The files that may use the names of the document at ``uri``, for references and
        renames: every other open document, and every ``.rasp`` file of the workspace that is
        not open and has an ``import`` (read from disk, indexed but not checked)."""
        found = [d.analysis for other, d in self.documents.items() if other != uri]
        open_files = {_file_of(other) for other in self.documents}
        for path in _workspace_files(self.workspace_roots()):
            if str(path) in open_files:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "import" in text:
                found.append(analyse_for_index(text, str(path), self.read_file))
        return found

    def workspace_roots(self) -> list[Path]:
        """The workspace's folders (the root the client gave, and any workspace folders)."""
        uris = [self.workspace.root_uri, *(f.uri for f in self.workspace.folders.values())]
        paths = {Path(_file_of(u)) for u in uris if u and u.startswith("file:")}
        return sorted(paths)

    def document(self, uri: str) -> OpenDocument:
        """The open document at ``uri`` (analysed now if the client never opened it)."""
        if uri not in self.documents:
            self._analyse(uri)
        return self.documents[uri]

    def at(self, uri: str, position: types.Position) -> tuple[OpenDocument, int, int]:
        """The document and the 1-based line and character column of ``position`` in it."""
        document = self.document(uri)
        lines = document.analysis.text.splitlines()
        line, column = protocol.server_position(lines, position, self.encoding)
        return document, line, column


def _file_of(uri: str) -> str:
    """The file name of a URI, symbolic links resolved as the resolver resolves imports (the
    URI itself for a document that is not a file)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return str(Path(path).resolve()) if path else uri


_SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages"}


def _workspace_files(roots: list[Path]) -> list[Path]:
    """The ``.rasp`` files under ``roots``, hidden folders (``.git``, ``.venv``) and package
    folders left out, each once, resolved as imports resolve them."""
    found: set[Path] = set()
    for root in roots:
        for folder, folders, files in os.walk(root):
            folders[:] = [f for f in folders if not f.startswith(".") and f not in _SKIPPED_FOLDERS]
            found.update((Path(folder) / f).resolve() for f in files if f.endswith(".rasp"))
    return sorted(found)


def _imports_file(index: FileIndex, file: str) -> bool:
    return any(
        str(link.path) == file or (link.index is not None and _imports_file(link.index, file))
        for link in index.imports
    )


def did_open(ls: RaspLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """Analyse a newly opened document."""
    ls.refresh(params.text_document.uri)


def did_change(ls: RaspLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Analyse a changed document (pygls has applied the change)."""
    ls.refresh(params.text_document.uri)


def did_close(ls: RaspLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget a closed document and clear its diagnostics."""
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


def on_hover(ls: RaspLanguageServer, params: types.HoverParams) -> types.Hover | None:
    """What the name under the cursor is, its values and its place in the model."""
    document, line, column = ls.at(params.text_document.uri, params.position)
    found = hover.hover(document.analysis, line, column)
    if found is None:
        return None
    lines = document.analysis.text.splitlines()
    content = types.MarkupContent(types.MarkupKind.Markdown, found.markdown)
    return types.Hover(content, protocol.span_range(found.span, lines, ls.encoding))


def on_definition(ls: RaspLanguageServer, params: types.DefinitionParams) -> types.Location | None:
    """Where the name under the cursor is defined, or the file an import names."""
    document, line, column = ls.at(params.text_document.uri, params.position)
    span = navigation.definition(document.analysis, line, column)
    if span is None:
        return None
    return protocol.location(span, document.analysis, ls.encoding, document.uri)


def on_references(ls: RaspLanguageServer, params: types.ReferenceParams) -> list[types.Location]:
    """Every occurrence of the name under the cursor."""
    document, line, column = ls.at(params.text_document.uri, params.position)
    others = ls.other_files(document.uri)
    spans = navigation.references(
        document.analysis,
        line,
        column,
        include_definition=params.context.include_declaration,
        others=others,
    )
    return [
        protocol.location(s, document.analysis, ls.encoding, document.uri, others) for s in spans
    ]


def on_rename(ls: RaspLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit:
    """The edits renaming a name everywhere; an invalid-params error when it cannot be."""
    document, line, column = ls.at(params.text_document.uri, params.position)
    others = ls.other_files(document.uri)
    try:
        edits = navigation.rename(document.analysis, line, column, params.new_name, others)
    except RaspError as error:
        raise JsonRpcInvalidParams(error.diagnostics[0].message) from None
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        where = protocol.location(edit.span, document.analysis, ls.encoding, document.uri, others)
        changes.setdefault(where.uri, []).append(types.TextEdit(where.range, edit.text))
    return types.WorkspaceEdit(changes=changes)


def on_completion(ls: RaspLanguageServer, params: types.CompletionParams) -> types.CompletionList:
    """Names in scope, built-ins, operators, keywords; directives after '%'."""
    document, line, column = ls.at(params.text_document.uri, params.position)
    analysis = document.analysis
    lines = analysis.text.splitlines()
    line_text = lines[line - 1] if 0 < line <= len(lines) else ""
    current = analysis.index is not None
    last = document.last_parsed
    index = analysis.index if current else (last.index if last is not None else None)
    found = completion.complete(index, line_text, line, column, current=current)
    items = [
        types.CompletionItem(
            c.label,
            kind=_COMPLETION_KINDS[c.kind],
            detail=c.detail,
            documentation=c.documentation or None,
        )
        for c in found
    ]
    return types.CompletionList(is_incomplete=False, items=items)


def on_document_symbol(
    ls: RaspLanguageServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    """The outline: bindings and defs, each def with its parameters and locals."""
    document = ls.document(params.text_document.uri)
    lines = document.analysis.text.splitlines()
    return [_document_symbol(e, lines, ls.encoding) for e in symbols.outline(document.analysis)]


def _document_symbol(
    entry: symbols.OutlineEntry, lines: list[str], encoding: str
) -> types.DocumentSymbol:
    symbol = entry.symbol
    return types.DocumentSymbol(
        name=symbol.name,
        kind=_SYMBOL_KINDS[symbol.kind],
        range=protocol.span_range(symbol.extent, lines, encoding),
        selection_range=protocol.span_range(symbol.span, lines, encoding),
        detail=entry.detail or None,
        children=[_document_symbol(c, lines, encoding) for c in entry.children] or None,
    )


COMPLETION_OPTIONS = types.CompletionOptions(trigger_characters=["%"])


def on_formatting(
    ls: RaspLanguageServer, params: types.DocumentFormattingParams
) -> list[types.TextEdit] | None:
    """The formatter's text as one edit replacing the whole document (``rasp fmt``'s layout
    at its default width), no edit when it is already formatted, None when it does not
    parse (the diagnostics already say why)."""
    document = ls.document(params.text_document.uri)
    text = document.analysis.text
    try:
        formatted = format_source(text, path=document.analysis.file)
    except RaspError:
        return None
    if formatted == text:
        return []
    lines = text.split("\n")
    end = protocol.position(lines, len(lines), len(lines[-1]) + 1, ls.encoding)
    return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]


FEATURES: dict[str, Callable[[RaspLanguageServer, Any], object]] = {
    types.TEXT_DOCUMENT_DID_OPEN: did_open,
    types.TEXT_DOCUMENT_DID_CHANGE: did_change,
    types.TEXT_DOCUMENT_DID_CLOSE: did_close,
    types.TEXT_DOCUMENT_HOVER: on_hover,
    types.TEXT_DOCUMENT_DEFINITION: on_definition,
    types.TEXT_DOCUMENT_REFERENCES: on_references,
    types.TEXT_DOCUMENT_RENAME: on_rename,
    types.TEXT_DOCUMENT_COMPLETION: on_completion,
    types.TEXT_DOCUMENT_DOCUMENT_SYMBOL: on_document_symbol,
    types.TEXT_DOCUMENT_FORMATTING: on_formatting,
}
"""Each LSP method the server answers, and its handler."""


def build_server() -> RaspLanguageServer:
    """A language server with every feature registered."""
    server = RaspLanguageServer()
    for method, handler in FEATURES.items():
        options = COMPLETION_OPTIONS if method == types.TEXT_DOCUMENT_COMPLETION else None
        server.feature(method, options)(handler)
    return server


def serve() -> None:
    """Serve over stdin and stdout until the client says exit."""
    build_server().start_io()
