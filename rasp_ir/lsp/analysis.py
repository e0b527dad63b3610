"""An open document's text in, everything the editor features need out: the hub's diagnostics
(the same as ``rasp check`` reports), the symbol index, and the checked program with its value
sets and layer allocation when the program resolves.

Nothing here raises for anything in the text: a syntax error leaves no index, a resolution
error no checked program, and both become diagnostics. A file with neither a header directive
nor an ``output`` statement is a library meant for ``import``: it is resolved for its errors
but not checked as a program (it has no vocabulary to check it under).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rasp_ir.check import CheckResult, check_program
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.lsp.incremental import IncrementalParser
from rasp_ir.lsp.index import FileIndex, index_module
from rasp_ir.syntax import ast, parse_module, parse_program
from rasp_ir.syntax.resolve import ProgramResolver, global_scope

ReadFile = Callable[[Path], str]
"""The text of a file: an open editor's buffer when there is one, otherwise the disk's."""


@dataclass(frozen=True)
class Analysis:
    """What is known about one version of one document. ``sources`` holds the text of the
    document and of every file it imports (by file name), for converting their spans;
    ``library`` marks a file meant for ``import``."""

    file: str
    text: str
    diagnostics: tuple[Diagnostic, ...]
    index: FileIndex | None = None
    checked: CheckResult | None = None
    sources: dict[str, str] = field(default_factory=dict)
    library: bool = False


def analyse(
    text: str, file: str, read_file: ReadFile, parser: IncrementalParser | None = None
) -> Analysis:
    """The analysis of ``text``, the content of ``file``; imports are read with ``read_file``.
    ``parser`` parses the document's successive versions (re-parsing only what changed)."""
    sources = {file: text}
    try:
        module = parser.parse(text, file) if parser is not None else parse_module(text, file)
    except RaspError as error:
        return Analysis(file, text, error.diagnostics, sources=sources)
    index = index_module(module, file, _ImportIndexer(read_file, sources, [Path(file)]))
    if _is_library(module):
        diagnostics = _library_diagnostics(text, file, read_file, module)
        return Analysis(file, text, diagnostics, index, None, sources, library=True)
    try:
        program = parse_program(text, file, read_file=read_file, module=module)
    except RaspError as error:
        return Analysis(file, text, error.diagnostics, index, None, sources)
    checked = check_program(program)
    return Analysis(file, text, checked.diagnostics, index, checked, sources)


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
