"""An open document's text in, everything the editor features need out: the hub's diagnostics
(the same as ``rasp check`` reports), the symbol index, and the checked program with its value
sets and layer allocation when the program resolves. Successive versions of a document are
analysed incrementally through its :class:`DocumentMemo`.

Nothing here raises for anything in the text: a syntax error leaves no index, a resolution
error no checked program, and both become diagnostics. A file with neither a header directive
nor an ``output`` statement is a library meant for ``import``: it is resolved for its errors
but not checked as a program (it has no vocabulary to check it under).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rasp_ir.check import CheckMemo, CheckResult, check_program
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.lsp.incremental import IncrementalParser
from rasp_ir.lsp.index import FileIndex, IndexMemo, index_module
from rasp_ir.syntax import ast, parse_module, parse_program
from rasp_ir.syntax.resolve import ProgramResolver, global_scope
from rasp_ir.syntax.statement_memo import StatementMemo

ReadFile = Callable[[Path], str]
"""The text of a file: an open editor's buffer when there is one, otherwise the disk's."""


@dataclass
class DocumentMemo:
    """What a document's analyses keep from one version to the next, so that an edit costs what
    it changes: the ASTs of its statements, their resolution, and what checking found about
    each binding."""

    parser: IncrementalParser = field(default_factory=IncrementalParser)
    statements: StatementMemo = field(default_factory=StatementMemo)
    check: CheckMemo = field(default_factory=CheckMemo)
    index: IndexMemo = field(default_factory=IndexMemo)


@dataclass(frozen=True)
class Analysis:
    """What is known about one version of one document; ``module`` is its AST when it parses,
    ``library`` marks a file meant for ``import``. The symbol index is built when first asked
    for (diagnostics do not need it, so they are published without waiting for it);
    ``sources`` holds the text of the document and of every file it imports (by file name),
    for converting their spans."""

    file: str
    text: str
    diagnostics: tuple[Diagnostic, ...]
    checked: CheckResult | None = None
    library: bool = False
    module: ast.Module | None = None
    read_file: ReadFile | None = None
    memo: DocumentMemo | None = field(default=None, compare=False, repr=False)

    @cached_property
    def _indexed(self) -> tuple[FileIndex | None, dict[str, str]]:
        sources = {self.file: self.text}
        if self.module is None or self.read_file is None:
            return None, sources
        indexer = _ImportIndexer(self.read_file, sources, [Path(self.file)])
        memo = self.memo.index if self.memo is not None else None
        return index_module(self.module, self.file, indexer, memo), sources

    @property
    def index(self) -> FileIndex | None:
        """The symbol index, through imports; None when the text does not parse."""
        return self._indexed[0]

    @property
    def sources(self) -> dict[str, str]:
        """The texts of the document and of the files it imports, by file name."""
        return self._indexed[1]


def analyse(
    text: str, file: str, read_file: ReadFile, memo: DocumentMemo | None = None
) -> Analysis:
    """The analysis of ``text``, the content of ``file``; imports are read with ``read_file``.
    ``memo`` holds what the document's previous versions found: only what the change affects
    is parsed, resolved and checked again (the result is the same as without it)."""
    try:
        module = memo.parser.parse(text, file) if memo is not None else parse_module(text, file)
    except RaspError as error:
        return Analysis(file, text, error.diagnostics)
    if _is_library(module):
        diagnostics = _library_diagnostics(text, file, read_file, module)
        return Analysis(file, text, diagnostics, None, True, module, read_file, memo)
    statements = memo.statements if memo is not None else None
    try:
        program = parse_program(text, file, read_file=read_file, module=module, memo=statements)
    except RaspError as error:
        return Analysis(file, text, error.diagnostics, None, False, module, read_file, memo)
    checked = check_program(program, memo.check if memo is not None else None)
    return Analysis(file, text, checked.diagnostics, checked, False, module, read_file, memo)


def analyse_for_index(text: str, file: str, read_file: ReadFile) -> Analysis:
    """What an index of ``text`` needs and no more: the file parsed, not resolved or checked
    (a file that is not open, searched for the uses of an open one's names). No diagnostics:
    nothing of it is published."""
    try:
        module = parse_module(text, file)
    except RaspError:
        return Analysis(file, text, ())
    return Analysis(file, text, (), None, False, module, read_file)


def _is_library(module: ast.Module) -> bool:
    return not module.directives and not any(isinstance(s, ast.Output) for s in module.statements)


def _library_diagnostics(
    text: str, file: str, read_file: ReadFile, module: ast.Module
) -> tuple[Diagnostic, ...]:
    """The resolution errors of a library file (header and output are not required of it)."""
    resolver = ProgramResolver(None, read_file)
    try:
        resolver.resolve_file(text, file, global_scope(), main=True, module=module)
    except RaspError as error:
        return error.diagnostics
    return tuple(resolver.diagnostics)


class _ImportIndexer:
    """Indexes imported files for :func:`index_module`, each once, never in a cycle."""

    def __init__(self, read_file: ReadFile, sources: dict[str, str], stack: list[Path]) -> None:
        self.read_file = read_file
        self.sources = sources
        self.stack = stack
        self.done: dict[Path, FileIndex | None] = {}

    def __call__(self, path: Path) -> FileIndex | None:
        if path in self.done:
            return self.done[path]
        if path in self.stack:
            return None
        self.done[path] = None
        try:
            text = self.read_file(path)
            module = parse_module(text, str(path))
        except (OSError, UnicodeDecodeError, RaspError):
            return None
        self.sources[str(path)] = text
        self.stack.append(path)
        try:
            self.done[path] = index_module(module, str(path), self)
        finally:
            self.stack.pop()
        return self.done[path]
