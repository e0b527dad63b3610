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

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from rasp_ir.diagnostics import RaspError, Span
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
    return list(_Splitter(text).scan())


def resplit_statements(old: str, old_pieces: list[Piece], new: str) -> list[Piece]:
    """The pieces of ``new``, given those of ``old`` (what :func:`split_statements` gives):
    pieces wholly before the first difference are kept; the text is cut again from there until
    a piece ends in the common tail where an old piece ended, and the old pieces after it are
    moved by the change in length (the cutter's state between pieces is always the same)."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    kept = 0
    while kept < len(old_pieces) and old_pieces[kept].end < prefix:
        kept += 1
    pieces = old_pieces[:kept]
    position, line = (pieces[-1].end, pieces[-1].end_line) if pieces else (0, 1)
    old_ends = {piece.end: index for index, piece in enumerate(old_pieces)}
    shift = len(new) - len(old)
    splitter = _Splitter(new, position, line, new.rfind("\n", 0, position) + 1)
    for piece in splitter.scan():
        pieces.append(piece)
        match = old_ends.get(piece.end - shift) if piece.end >= len(new) - suffix else None
        if match is not None:
            lines = piece.end_line - old_pieces[match].end_line
            tail = old_pieces[match + 1 :]
            return pieces + [_moved(p, new, shift, lines, piece.end_line) for p in tail]
    return pieces


def _moved(piece: Piece, new: str, shift: int, lines: int, boundary_line: int) -> Piece:
    """An old piece of the unchanged tail, placed in the new text."""
    if shift == 0 and lines == 0:
        return piece
    start = piece.start + shift
    column = piece.column
    if piece.line + lines == boundary_line:  # on the line the change ended on
        column = start - new.rfind("\n", 0, start)
    return Piece(start, piece.end + shift, piece.line + lines, column, piece.end_line + lines)


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (by halving: slices compare in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


class _Splitter:
    """Walks the brackets, strings, comments, ``;`` and newlines of a text from ``position``
    (between pieces, on 1-based ``line``, which starts at offset ``line_start``), cutting
    pieces."""

    def __init__(self, text: str, position: int = 0, line: int = 1, line_start: int = 0) -> None:
        self.text = text
        self.pieces: list[Piece] = []
        self.depth = 0
        self.line, self.line_start, self.position = line, line_start, position
        self.start: int | None = None
        self.start_line = self.start_column = 0
        self.is_def = self.is_directive = False

    def scan(self) -> Iterator[Piece]:
        """Each piece, as soon as it is cut."""
        for match in _SPECIAL.finditer(self.text, self.position):
            self._begin_before(match.start())
            self.position = match.end()
            self._token(match.group(), match.start(), match.end())
            if self.pieces:
                yield from self.pieces
                self.pieces.clear()
        self._begin_before(len(self.text))
        if self.start is not None:
            self._close(len(self.text), self.text.count("\n") + 1)
        yield from self.pieces

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
    """Parses the versions of one document, keeping the ASTs of the last version's pieces. A
    piece whose text and column are unchanged keeps its AST; one that only moved up or down
    (lines added or removed above it) gets it back with its spans moved."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int, str], tuple[int, ast.Module]] = {}
        self._text = ""
        self._pieces: list[Piece] = []
        self.reused = 0
        """How many pieces the last :meth:`parse` took from the previous version."""

    def parse(self, text: str, file: str) -> ast.Module:
        """The AST of ``text``, as :func:`~rasp_ir.syntax.parse_module` gives it; a
        :class:`~rasp_ir.diagnostics.RaspError` on bad syntax."""
        lines = text.split("\n")
        kept: dict[tuple[str, int, str], tuple[int, ast.Module]] = {}
        directives: list[ast.Directive] = []
        statements: list[ast.Statement] = []
        self.reused = 0
        pieces = resplit_statements(self._text, self._pieces, text)
        self._text, self._pieces = text, pieces
        for piece in pieces:
            own_lines = "\n".join(lines[piece.line - 1 : piece.end_line])
            key = (file, piece.column, own_lines)
            found = self._kept.get(key)
            parsed: ast.Module | None
            if found is None:
                parsed = _parse_piece(text, file, piece)
                if parsed is None:
                    return parse_module(text, file)
            else:
                line, parsed = found
                if line != piece.line:
                    parsed = moved_lines(parsed, piece.line - line)
                self.reused += 1
            kept[key] = (piece.line, parsed)
            if parsed.directives and statements:
                return parse_module(text, file)
            directives.extend(parsed.directives)
            statements.extend(parsed.statements)
        self._kept = kept
        return ast.Module(tuple(directives), tuple(statements))


def moved_lines(node: _Node, lines: int) -> _Node:
    """``node`` (an AST, or any part of one) with every span ``lines`` lines further down."""
    if isinstance(node, Span):
        moved = Span(
            node.file,
            node.line + lines,
            node.column,
            node.end_line + lines,
            node.end_column,
            node.line_text,
        )
        return moved  # type: ignore[return-value]
    if isinstance(node, tuple):
        return tuple(moved_lines(item, lines) for item in node)  # type: ignore[return-value]
    names = _FIELDS.get(type(node))
    if names is None:
        if not dataclasses.is_dataclass(node):
            return node
        names = _FIELDS.setdefault(type(node), tuple(f.name for f in dataclasses.fields(node)))
    return type(node)(*(moved_lines(getattr(node, name), lines) for name in names))


_Node = TypeVar("_Node")
_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each AST node class, in order (``dataclasses.fields`` is slow)."""


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
