"""A document's successive texts in, each one's AST out, parsed statement by statement: a
statement whose text and place are unchanged since the last version keeps its AST, so an edit
inside one statement re-parses only that statement.

The text is cut at the end of each top-level statement (a ``;`` or a ``def``'s closing ``}``
outside brackets, strings and comments; a directive without ``;`` ends with its line). Each
piece is parsed at its own line and column, and its spans carry the document's lines. Whenever
that is not certain to give what parsing the whole text gives (a piece that does not parse, a
directive after a statement) the whole text is parsed instead, so syntax errors are exactly
those of :func:`~rasp_ir.syntax.parse_module`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax import ast, parse_module, parse_tree
from rasp_ir.syntax.build_ast import AstBuilder

_SPECIAL = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[;{}()\[\]\n]')
_DEF = re.compile(r"def\b")
_CODE = re.compile(r"\S")


@dataclass(frozen=True)
class Piece:
    """One top-level statement (or directive) of a text: its offsets, 1-based line and column
    of its start, and the line it ends on."""

    start: int
    end: int
    line: int
    column: int
    end_line: int


def split_statements(text: str) -> list[Piece]:
    """The top-level pieces of ``text``, in order; trailing text without an end is a piece."""
    return _Splitter(text).run()


class _Splitter:
    """Walks the brackets, strings, comments, ``;`` and newlines of a text, cutting pieces."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces: list[Piece] = []
        self.depth = 0
        self.line, self.line_start, self.position = 1, 0, 0
        self.start: int | None = None
        self.start_line = self.start_column = 0
        self.is_def = self.is_directive = False

    def run(self) -> list[Piece]:
        for match in _SPECIAL.finditer(self.text):
            self._begin_before(match.start())
            self.position = match.end()
            self._token(match.group(), match.start(), match.end())
        self._begin_before(len(self.text))
        if self.start is not None:
            self._close(len(self.text), self.text.count("\n") + 1)
        return self.pieces

    def _begin_before(self, end: int) -> None:
        """Open a piece at the first code character before ``end``, if none is open."""
        if self.start is not None:
            return
        code = _CODE.search(self.text, self.position, end)
        if code is not None:
            self._open(code.start())

    def _open(self, offset: int) -> None:
        self.start = offset
        self.start_line, self.start_column = self.line, offset - self.line_start + 1
        self.is_def = _DEF.match(self.text, offset) is not None
        self.is_directive = self.text[offset] == "%"

    def _close(self, end: int, end_line: int) -> None:
        assert self.start is not None
        self.pieces.append(Piece(self.start, end, self.start_line, self.start_column, end_line))
        self.start = None

    def _token(self, token: str, start: int, end: int) -> None:
        if token == "\n":
            if self.start is not None and self.depth == 0 and self.is_directive:
                self._close(start, self.line)
            self.line, self.line_start = self.line + 1, end
            return
        if token[0] == "#":
            return
        if self.start is None:
            self._open(start)
        if token[0] == '"':
            return
        if token in "([{":
            self.depth += 1
            return
        if token in ")]}":
            self.depth -= 1
        if self.depth == 0 and (token == ";" or (token == "}" and self.is_def)):
            self._close(end, self.line)


class IncrementalParser:
    """Parses the versions of one document, keeping the ASTs of the last version's pieces."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int, int, str], ast.Module] = {}
        self.reused = 0
        """How many pieces the last :meth:`parse` took from the previous version."""

    def parse(self, text: str, file: str) -> ast.Module:
        """The AST of ``text``, as :func:`~rasp_ir.syntax.parse_module` gives it; a
        :class:`~rasp_ir.diagnostics.RaspError` on bad syntax."""
        lines = text.split("\n")
        kept: dict[tuple[str, int, int, str], ast.Module] = {}
        directives: list[ast.Directive] = []
        statements: list[ast.Statement] = []
        self.reused = 0
        for piece in split_statements(text):
            own_lines = "\n".join(lines[piece.line - 1 : piece.end_line])
            key = (file, piece.line, piece.column, own_lines)
            parsed = self._kept.get(key)
            if parsed is None:
                parsed = _parse_piece(text, file, piece)
                if parsed is None:
                    return parse_module(text, file)
            else:
                self.reused += 1
            kept[key] = parsed
            if parsed.directives and statements:
                return parse_module(text, file)
            directives.extend(parsed.directives)
            statements.extend(parsed.statements)
        self._kept = kept
        return ast.Module(tuple(directives), tuple(statements))


def _parse_piece(text: str, file: str, piece: Piece) -> ast.Module | None:
    """The AST of one piece, parsed where it stands in ``text``; None if it does not parse."""
    padded = "\n" * (piece.line - 1) + " " * (piece.column - 1) + text[piece.start : piece.end]
    try:
        tree = parse_tree(padded, file)
    except RaspError:
        return None
    module = AstBuilder(text, file).transform(tree)
    assert isinstance(module, ast.Module)
    return module
