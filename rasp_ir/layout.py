"""A document (text, line, group, nest, fill, comment) in, its text laid out to a line width out.

Wadler's "prettier printer" in Lindig's strict form. A :class:`Group` prints flat (each
:class:`Line` as its ``flat`` text) when it fits on the rest of the line, up to the next
line break the layout already chose; otherwise every line break directly in it breaks, to a
new line indented by the enclosing :class:`Nest` levels. A :class:`Fill` packs its items:
each goes on the current line if it fits there, else on a new one. Indentation depends on
nesting only, never on the layout, so a line longer than the width is one that no layout
could break (it prints the same at width 0).

A :class:`Comment` (what the formatter keeps of a ``#`` comment) ends its line: the next text
starts a new one, and spaces in between are dropped. A trailing comment follows the text
before it on its line, an own-line comment starts a line of its own; neither counts towards
the width. A group that holds a comment between two of its tokens is built ``broken``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

INDENT = 4  # columns a broken bracket, operator chain or lambda body is indented by


@dataclass(frozen=True)
class Text:
    """Text without line breaks."""

    text: str


@dataclass(frozen=True)
class Line:
    """A line break, or ``flat`` where its group prints on one line."""

    flat: str = " "


@dataclass(frozen=True)
class Concat:
    """Documents one after another."""

    parts: tuple[Doc, ...]


@dataclass(frozen=True)
class Nest:
    """``doc`` with its line breaks indented ``indent`` more."""

    indent: int
    doc: Doc


@dataclass(frozen=True)
class Group:
    """``doc`` flat if it fits, else with each of its own line breaks broken (always broken
    when ``broken``)."""

    doc: Doc
    broken: bool = False


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment: after the text before it on its line (``own_line`` False) or on a line
    of its own; what follows it starts a new line."""

    text: str
    own_line: bool = False


@dataclass(frozen=True)
class Fill:
    """``items`` (at least one) separated by spaces, a line break before each that does not
    fit."""

    items: tuple[Doc, ...]


@dataclass(frozen=True)
class _FillRest:
    """The items of a fill after the first, each preceded by its separator."""

    items: tuple[Doc, ...]


Doc = Text | Line | Concat | Nest | Group | Fill | _FillRest | Comment
SOFTLINE = Line("")
_SPACE = Text(" ")


def concat(*parts: Doc | str) -> Doc:
    """``parts`` one after another (strings as :class:`Text`)."""
    return Concat(tuple(Text(p) if isinstance(p, str) else p for p in parts))


def bracket(opening: str, items: Sequence[Doc], closing: str, *, fill: bool = False) -> Doc:
    """``opening`` items separated by ``, `` ``closing``; broken, the items go one per line
    (packed as many per line as fit with ``fill``), indented, the closing on its own line."""
    if not items:
        return Text(opening + closing)
    with_commas = [concat(item, ",") for item in items[:-1]] + [items[-1]]
    body: Doc = Fill(tuple(with_commas)) if fill else join(Line(), with_commas)
    return Group(concat(opening, Nest(INDENT, concat(SOFTLINE, body)), SOFTLINE, closing))


def join(separator: Doc, docs: Iterable[Doc]) -> Doc:
    """``docs`` with ``separator`` between each two."""
    parts: list[Doc] = []
    for doc in docs:
        if parts:
            parts.append(separator)
        parts.append(doc)
    return Concat(tuple(parts))


def render(doc: Doc, width: int) -> str:
    """``doc`` laid out to ``width`` columns."""
    return _Renderer(width).run(doc)


def render_flat(doc: Doc) -> str:
    """``doc`` on one line (every group flat, none measured)."""
    pieces: list[str] = []
    pending: list[Doc] = [doc]
    while pending:
        item = pending.pop()
        if isinstance(item, Text):
            pieces.append(item.text)
        elif isinstance(item, Concat):
            pending.extend(reversed(item.parts))
        elif isinstance(item, Line):
            pieces.append(item.flat)
        elif isinstance(item, Nest) or (isinstance(item, Group) and not item.broken):
            pending.append(item.doc)
        elif isinstance(item, Fill):
            for position in range(len(item.items) - 1, -1, -1):
                pending.append(item.items[position])
                if position:
                    pending.append(_SPACE)
        else:  # a comment or a broken group breaks the line: the full renderer
            return _Renderer(sys.maxsize).run(doc, flat=True)
    return "".join(pieces)


@dataclass(frozen=True)
class RenderedLine:
    """One output line: its text (no trailing spaces) and its trailing comment ('' if none)."""

    text: str
    comment: str = ""


def render_lines(doc: Doc, width: int, indent: int = 0) -> list[RenderedLine]:
    """``doc`` laid out to ``width`` columns, starting ``indent`` columns in (and nested by as
    much), as lines whose trailing comments are kept apart, for the caller to align."""
    renderer = _Renderer(width)
    text = renderer.run(Nest(indent, doc), start=indent)
    return [
        RenderedLine(line.rstrip(), renderer.comments.get(number, ""))
        for number, line in enumerate(text.split("\n"))
    ]


# (indent, flat, doc): a document still to print, where it prints
_Item = tuple[int, bool, Doc]


class _Renderer:
    def __init__(self, width: int) -> None:
        self.width = width
        self.column = 0
        self.line = 0
        self.line_has_text = False
        self.pending_break = False
        self.comments: dict[int, str] = {}
        self.out: list[str] = []
        self.stack: list[_Item] = []
        self.handlers: dict[type, Callable[[int, bool, Doc], None]] = {
            Text: self._text,
            Line: self._line,
            Concat: self._concat,
            Nest: self._nest,
            Group: self._group,
            Fill: self._fill,
            _FillRest: self._fill_rest,
            Comment: self._comment,
        }

    def run(self, doc: Doc, *, flat: bool = False, start: int = 0) -> str:
        self.out.append(" " * start)
        self.column = start
        self.stack.append((0, flat, doc))
        while self.stack:
            indent, flat, item = self.stack.pop()
            self.handlers[type(item)](indent, flat, item)
        return "".join(self.out)

    def _emit(self, text: str, indent: int) -> None:
        """Append ``text``; after a comment, spaces are dropped and other text starts a new
        line."""
        if self.pending_break:
            if not text.strip():
                return
            self._newline(indent)
        self.out.append(text)
        self.column += len(text)
        self.line_has_text = self.line_has_text or bool(text)

    def _newline(self, indent: int) -> None:
        self.out.append("\n" + " " * indent)
        self.column = indent
        self.line += 1
        self.line_has_text = False
        self.pending_break = False

    def _text(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Text)
        self._emit(doc.text, indent)

    def _comment(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Comment)
        if not doc.own_line:
            self.comments[self.line] = doc.text
        else:
            if self.line_has_text or self.pending_break:
                self._newline(indent)
            self._emit(doc.text, indent)
        self.pending_break = True

    def _line(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Line)
        if flat:
            self._emit(doc.flat, indent)
        else:
            self._newline(indent)

    def _concat(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Concat)
        self.stack.extend((indent, flat, part) for part in reversed(doc.parts))

    def _nest(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Nest)
        self.stack.append((indent + doc.indent, flat, doc.doc))

    def _group(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Group)
        fits = not doc.broken and (flat or self._fits((indent, True, doc.doc)))
        self.stack.append((indent, fits, doc.doc))

    def _fill(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, Fill)
        if len(doc.items) > 1:
            self.stack.append((indent, flat, _FillRest(doc.items[1:])))
        self.stack.append((indent, flat, doc.items[0]))

    def _fill_rest(self, indent: int, flat: bool, doc: Doc) -> None:
        assert isinstance(doc, _FillRest)
        first, *rest = doc.items
        if rest:
            self.stack.append((indent, flat, _FillRest(tuple(rest))))
        if flat or self._fits((indent, True, concat(Line(), first))):
            self._emit(" ", indent)
        else:
            self._newline(indent)
        self.stack.append((indent, flat, first))

    def _fits(self, first: _Item) -> bool:
        """Whether ``first``, then what follows it up to the next line break already chosen,
        fits on the current line; groups still to decide count as flat (unless built broken),
        a fill's next item as on a line of its own (the fill puts it here only if it fits);
        a trailing comment ends the line, after an own-line one the rest starts a new one."""
        remaining = self.width - self.column
        pending = [first]
        below = len(self.stack)
        while remaining >= 0:
            if not pending:
                if below == 0:
                    return True
                below -= 1
                pending.append(self.stack[below])
            indent, flat, doc = pending.pop()
            if isinstance(doc, Comment) and not doc.own_line:
                return True
            if isinstance(doc, Comment):  # what follows starts a new line
                remaining = self.width - indent
                continue
            if isinstance(doc, Text | Line):
                if isinstance(doc, Line) and not flat:
                    return True
                remaining -= len(doc.text if isinstance(doc, Text) else doc.flat)
            elif isinstance(doc, _FillRest) and not flat:
                return True
            else:
                pending.extend(_measured_parts(indent, flat, doc))
        return False


def _measured_parts(indent: int, flat: bool, doc: Doc) -> list[_Item]:
    """What ``doc`` measures as, last part first (the order :meth:`_Renderer._fits` pops)."""
    if isinstance(doc, Concat):
        return [(indent, flat, part) for part in reversed(doc.parts)]
    if isinstance(doc, Nest):
        return [(indent + doc.indent, flat, doc.doc)]
    if isinstance(doc, Group):
        return [(indent, not doc.broken, doc.doc)]
    if isinstance(doc, Fill):
        rest: list[_Item] = [(indent, flat, _FillRest(doc.items[1:]))] if doc.items[1:] else []
        return [*rest, (indent, flat, doc.items[0])]
    assert isinstance(doc, _FillRest)
    return [(indent, True, concat(Line(), join(Line(), doc.items)))]
