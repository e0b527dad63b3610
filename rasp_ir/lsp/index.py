"""One file's AST in, its symbol index out: every name it defines (bindings, ``def``\\ s, their
parameters and locals, ``fn`` parameters) and every place a name occurs, each occurrence tied
to the definition it reads, through ``import`` into other files too.

Scoping follows the resolver (:mod:`rasp_ir.syntax.resolve`): a name is visible after the
statement that binds it; a ``def`` body sees the file's names so far, its parameters and its
own earlier locals; a ``fn`` literal's parameters shadow everything inside its body; an import
brings in the imported file's public names (those not starting with ``_``).
"""

from __future__ import annotations

import bisect
import re
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rasp_ir.diagnostics import Span
from rasp_ir.syntax import ast

SymbolKind = Literal["binding", "def", "parameter", "local", "fn-parameter"]

_PARAMETER_LIST = re.compile(r"\s*\(([^)]*)\)")
_FN_HEADER = re.compile(r"fn\s*\(([^)]*)\)")


@dataclass(frozen=True)
class Symbol:
    """A defined name. ``span`` covers the name where it is defined, ``extent`` the whole
    definition; ``owner`` is the ``def`` a parameter or local belongs to ('' at file level)."""

    name: str
    kind: SymbolKind
    span: Span
    extent: Span
    owner: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Occurrence:
    """A name in the text: a definition or a use. ``symbol`` is what it refers to; None for a
    built-in, a primitive or an undefined name."""

    name: str
    span: Span
    symbol: Symbol | None
    is_definition: bool = False


@dataclass(frozen=True)
class ImportLink:
    """An ``import "path";`` statement: the path string's span, the file it names and that
    file's index (None when it cannot be read or parsed, or imports back into a cycle)."""

    span: Span
    path: Path
    index: FileIndex | None


@dataclass
class FileIndex:
    """The symbols of one file, its occurrences in text order and its imports. ``scope`` holds
    the names visible at the end of the file (imported public names included)."""

    file: str
    symbols: list[Symbol] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    imports: list[ImportLink] = field(default_factory=list)
    scope: dict[str, Symbol] = field(default_factory=dict)
    _starts: list[tuple[int, int]] = field(default_factory=list, repr=False)

    @property
    def imported(self) -> list[FileIndex]:
        """The indexes of the files this file imports (those that could be indexed)."""
        return [link.index for link in self.imports if link.index is not None]

    def finish(self) -> None:
        """Sort the occurrences by position, for :meth:`at`."""
        self.occurrences.sort(key=lambda o: (o.span.line, o.span.column))
        self._starts = [(o.span.line, o.span.column) for o in self.occurrences]

    def at(self, line: int, column: int) -> Occurrence | None:
        """The occurrence covering (or ending right at) 1-based ``line``:``column``."""
        position = bisect.bisect_right(self._starts, (line, column))
        for candidate in self.occurrences[max(0, position - 1) : position + 1]:
            span = candidate.span
            if span.line == line and span.column <= column <= span.end_column:
                return candidate
        return None

    def import_at(self, line: int, column: int) -> ImportLink | None:
        """The import whose path string covers ``line``:``column``."""
        for link in self.imports:
            if link.span.line == line and link.span.column <= column <= link.span.end_column:
                return link
        return None

    def uses_of(self, symbol: Symbol) -> list[Occurrence]:
        """Every occurrence of ``symbol`` in this file, its definition included."""
        return [o for o in self.occurrences if o.symbol == symbol]

    def visible_at(self, line: int, column: int) -> dict[str, Symbol]:
        """The names in scope at ``line``:``column``: file-level names bound before it (every
        name, when the position is past the last statement), inside a ``def`` its parameters
        and locals, and inside an ``fn`` literal its parameters."""
        visible: dict[str, Symbol] = {}
        for name, symbol in self.scope.items():
            if symbol.span.file != self.file or _before(symbol.extent, line, column):
                visible[name] = symbol
        for symbol in self.symbols:
            if symbol.kind == "def" and _inside(symbol.extent, line, column):
                visible.update(
                    (s.name, s)
                    for s in self.symbols
                    if s.owner == symbol.name and s.kind in ("parameter", "local")
                )
        for symbol in self.symbols:
            if symbol.kind == "fn-parameter" and _inside(symbol.extent, line, column):
                visible[symbol.name] = symbol
        return visible


ImportLoader = Callable[[Path], "FileIndex | None"]
"""The index of an imported file, or None when it cannot be read or parsed."""


@dataclass(frozen=True)
class _IndexedStatement:
    """What indexing one statement read from the file's scope (each name and the symbol found,
    None for none) and what it added: symbols, occurrences, and the file-level names it binds."""

    statement: ast.Statement
    reads: dict[str, Symbol | None]
    symbols: list[Symbol]
    occurrences: list[Occurrence]
    binds: list[Symbol]


class IndexMemo:
    """The indexed statements of a document's last indexed version, by AST object: a statement
    that is the same object and finds the same symbols for the names it reads is not indexed
    again (its occurrences then point to the same symbols)."""

    def __init__(self) -> None:
        self.statements: dict[int, _IndexedStatement] = {}
        self.reused = 0
        """How many statements the last indexing took from the one before."""


def index_module(
    module: ast.Module, file: str, load_import: ImportLoader, memo: IndexMemo | None = None
) -> FileIndex:
    """The index of ``module`` (the AST of ``file``); imports are indexed by ``load_import``;
    ``memo`` reuses what an earlier version's indexing found (the same index as without)."""
    builder = _IndexBuilder(FileIndex(file), load_import)
    kept: dict[int, _IndexedStatement] = {}
    if memo is not None:
        memo.reused = 0
    for statement in module.statements:
        if memo is None or isinstance(statement, ast.Import):
            builder.statement(statement)
            continue
        last = memo.statements.get(id(statement))
        if last is not None and last.statement is statement and builder.reuse(last):
            memo.reused += 1
            kept[id(statement)] = last
        else:
            kept[id(statement)] = builder.indexed(statement)
    if memo is not None:
        memo.statements = kept
    builder.index.finish()
    return builder.index


def import_path(file: str, written: str) -> Path:
    """The file an ``import`` in ``file`` names, as the resolver finds it."""
    base = Path(file).parent if file and not file.startswith("<") else Path()
    return (base / written).resolve()


class _IndexBuilder:
    def __init__(self, index: FileIndex, load_import: ImportLoader) -> None:
        self.index = index
        self.load_import = load_import

    def define(self, symbol: Symbol, scope: MutableMapping[str, Symbol]) -> None:
        self.index.symbols.append(symbol)
        self.index.occurrences.append(Occurrence(symbol.name, symbol.span, symbol, True))
        scope[symbol.name] = symbol

    def use(self, name: str, span: Span, scope: Mapping[str, Symbol]) -> None:
        self.index.occurrences.append(Occurrence(name, span, scope.get(name)))

    def reuse(self, last: _IndexedStatement) -> bool:
        """Add ``last``'s symbols and occurrences if its reads find the same symbols now."""
        scope = self.index.scope
        if any(scope.get(name) is not found for name, found in last.reads.items()):
            return False
        self.index.symbols.extend(last.symbols)
        self.index.occurrences.extend(last.occurrences)
        for symbol in last.binds:
            scope[symbol.name] = symbol
        return True

    def indexed(self, statement: ast.Statement) -> _IndexedStatement:
        """Index ``statement``, noting what it read from the file's scope and added."""
        symbols_before, occurrences_before = len(self.index.symbols), len(self.index.occurrences)
        self.statement(statement)
        symbols = self.index.symbols[symbols_before:]
        occurrences = self.index.occurrences[occurrences_before:]
        reads = {
            o.name: o.symbol
            for o in occurrences
            if not o.is_definition and (o.symbol is None or o.symbol.kind in ("binding", "def"))
        }
        binds = [s for s in symbols if s.kind in ("binding", "def")]
        return _IndexedStatement(statement, reads, symbols, occurrences, binds)

    def statement(self, statement: ast.Statement) -> None:
        scope = self.index.scope
        if isinstance(statement, ast.Binding):
            self.expression(statement.value, scope)
            detail = _annotation_text(statement.annotation)
            self.define(
                Symbol(statement.name, "binding", statement.name_span, statement.span, "", detail),
                scope,
            )
        elif isinstance(statement, ast.Def):
            self.definition(statement, scope)
        elif isinstance(statement, ast.Import):
            self.imported(statement, scope)
        else:
            for name in statement.names:
                self.use(name.name, name.span, scope)

    def definition(self, node: ast.Def, scope: MutableMapping[str, Symbol]) -> None:
        extent = _def_extent(node)
        body_scope: MutableMapping[str, Symbol] = ChainMap({}, scope)
        for name, span in _names_in_parentheses(node.name_span, node.params, after_name=True):
            self.define(Symbol(name, "parameter", span, span, node.name), body_scope)
        for binding in node.body:
            self.expression(binding.value, body_scope)
            local = Symbol(binding.name, "local", binding.name_span, binding.span, node.name)
            self.define(local, body_scope)
        self.expression(node.result, body_scope)
        detail = f"def {node.name}({', '.join(node.params)})"
        self.define(Symbol(node.name, "def", node.name_span, extent, "", detail), scope)

    def imported(self, node: ast.Import, scope: dict[str, Symbol]) -> None:
        path = import_path(self.index.file, node.path)
        other = self.load_import(path)
        self.index.imports.append(ImportLink(node.span, path, other))
        if other is None:
            return
        for name, symbol in other.scope.items():
            if not name.startswith("_"):
                scope.setdefault(name, symbol)

    def expression(self, node: ast.Argument, scope: MutableMapping[str, Symbol]) -> None:
        if isinstance(node, ast.Name):
            self.use(node.name, node.span, scope)
        elif isinstance(node, ast.Call):
            self.use(node.name, node.name_span, scope)
            for argument in node.positional:
                self.expression(argument, scope)
            for keyword in node.keywords:
                self.expression(keyword.value, scope)
        elif isinstance(node, ast.FnLit):
            inner: MutableMapping[str, Symbol] = ChainMap({}, scope)
            for name, span in _names_in_parentheses(node.span, node.params, after_name=False):
                self.define(Symbol(name, "fn-parameter", span, node.span), inner)
            self.expression(node.body, inner)
        else:
            for child in _children(node):
                self.expression(child, scope)


def _children(node: ast.Argument) -> Iterator[ast.Expr]:
    """The sub-expressions of an operator or literal node."""
    if isinstance(node, (ast.BinOp, ast.Logic)):
        yield from (node.left, node.right)
    elif isinstance(node, (ast.Not, ast.Neg)):
        yield node.operand
    elif isinstance(node, ast.IfElse):
        yield from (node.then, node.cond, node.orelse)
    elif isinstance(node, ast.Member):
        yield from (node.element, node.options)
    elif isinstance(node, (ast.SetLit, ast.TupleLit)):
        yield from node.items
    elif isinstance(node, ast.TableLit):
        for entry in node.entries:
            yield from (entry.key, entry.value)


def _names_in_parentheses(
    anchor: Span, names: tuple[str, ...], *, after_name: bool
) -> list[tuple[str, Span]]:
    """The spans of parameter names in the ``(...)`` that follows a ``def`` name
    (``after_name``) or starts an ``fn`` literal; the anchor's span for any not found on the
    anchor's line (a parameter list broken over lines)."""
    text, start = anchor.line_text, anchor.column - 1
    if after_name:
        match = _PARAMETER_LIST.match(text, anchor.end_column - 1)
    else:
        match = _FN_HEADER.match(text, start)
    found: list[tuple[str, Span]] = []
    cursor = match.start(1) if match else -1
    for name in names:
        position = _word_at_or_after(text, name, cursor) if match else -1
        if position < 0:
            found.append((name, anchor))
            continue
        column = position + 1
        found.append(
            (name, Span(anchor.file, anchor.line, column, anchor.line, column + len(name), text))
        )
        cursor = position + len(name)
    return found


def _word_at_or_after(text: str, word: str, start: int) -> int:
    match = re.compile(rf"\b{re.escape(word)}\b").search(text, start)
    return match.start() if match else -1


def _def_extent(node: ast.Def) -> Span:
    """From the ``def`` name to the end of its result expression (the closing brace is not in
    the AST; the result's end is close enough for scoping and outlines)."""
    end = node.result.span
    start = node.name_span
    return Span(start.file, start.line, 1, end.end_line, end.end_column + 2, start.line_text)


def _before(extent: Span, line: int, column: int) -> bool:
    return (extent.end_line, extent.end_column) <= (line, column)


def _inside(extent: Span, line: int, column: int) -> bool:
    return (extent.line, extent.column) <= (line, column) <= (extent.end_line, extent.end_column)


def _annotation_text(annotation: ast.Annotation | None) -> str:
    return annotation.encoding if annotation is not None else ""
