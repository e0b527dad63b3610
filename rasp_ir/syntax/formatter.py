"""RASP source text in, the same program tidied out: the formatter behind ``rasp fmt``.

It works on the concrete syntax tree (every token kept) and changes layout only: spaces
around operators and after commas, one statement per line, ``def`` bodies indented by 4,
statements too long for the line width broken by the rules of :mod:`rasp_ir.layout` (the IR
printer's: a call's arguments one per line, sets, tables and parameters packed, a chain of
operators before each operator, a ternary before each ``if`` and ``else``, a lambda after its
``->``). Everything the author wrote stays: every token in its order (brackets, optional
``;`` and trailing commas included), every comment (own-line comments on their own line,
trailing comments at the end of their line, aligned when consecutive lines have one), ``def``
and ``import``, and blank lines between statements (at most one). A set or table written with
a trailing comma stays one item per line, as in ruff and black.

Before it returns, :func:`format_source` proves the result means the same: read again with the
lexer states the input's parse went through, it has exactly the input's tokens (so the parser,
which sees only tokens, builds the same tree, and the same IR: see
:meth:`~rasp_ir.syntax.lalr.FastLalr.reread`) and comments; otherwise it raises instead of
returning text that would change the program.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from itertools import accumulate

from lark import Token, Tree

from rasp_ir.collector import collector_paused
from rasp_ir.diagnostics import RaspError
from rasp_ir.layout import (
    INDENT,
    SOFTLINE,
    Comment,
    Doc,
    Fill,
    Group,
    Line,
    Nest,
    RenderedLine,
    Text,
    concat,
    join,
    render_flat,
    render_lines,
)
from rasp_ir.printer import LINE_WIDTH
from rasp_ir.syntax.lalr import ConcreteParse
from rasp_ir.syntax.tree import (
    ParseTree,
    as_token,
    as_tree,
    fast_concrete_parser,
    parse_concrete,
)
from rasp_ir.syntax.trivia import Trivia, collect_trivia

COMMENT_GAP = 2
"""Spaces between code and the trailing comments of a block of lines (at least)."""

_CHAIN_OPERATORS = {
    "or_op": frozenset({"or"}),
    "and_op": frozenset({"and"}),
    "sum": frozenset({"+", "-"}),
    "product": frozenset({"*", "/", "%"}),
}


def format_source(text: str, *, line_width: int = LINE_WIDTH, path: str = "<string>") -> str:
    """``text`` laid out in canonical form, ``line_width`` columns wide where the code allows.

    Raises :class:`RaspError` (code ``syntax``, located in ``path``) when ``text`` does not
    parse, and (code ``format``) in the should-never-happen case that the formatted text would
    not parse back to the same tokens and comments.
    """
    # the trees are freed (by reference counting) before the collector runs again
    with collector_paused():
        return _formatted(text, line_width, path)


def _formatted(text: str, line_width: int, path: str) -> str:
    parsed = parse_concrete(text, path)
    trivia = collect_trivia(text, parsed.tokens)
    comments = trivia.comment_texts()
    formatted = _Formatter(trivia, line_width).file(parsed.tree)
    _check_same_program(parsed, comments, formatted, path)
    return formatted


def _check_same_program(
    parsed: ConcreteParse, comments: list[str], formatted: str, path: str
) -> None:
    """Raise unless ``formatted`` has exactly the tokens of ``parsed`` (the input's), each
    read in the lexer state the input's was, and exactly ``comments`` (the input's)."""
    ignored = fast_concrete_parser().reread(formatted, parsed.tokens, parsed.lexed_with)
    again = [text.rstrip() for kind, text in ignored or () if kind == "COMMENT"]
    if ignored is None or again != comments:
        raise RaspError.single(
            "format",
            f"{path}: the formatted text would not mean the same program; nothing was changed",
            hint="this is a bug in the formatter: please report it with this file",
        )


class _Formatter:
    """Builds a layout document per statement from the concrete syntax tree, with each
    token's comments beside it, and joins the rendered statements (the statements' own-line
    comments are taken off ``trivia`` as they are written)."""

    def __init__(self, trivia: Trivia, width: int) -> None:
        self.trivia = trivia
        self.width = width
        tokens = trivia.tokens
        self.first_of: dict[int, int] = {t.start_pos or 0: i for i, t in enumerate(tokens)}
        # what forces a line break between tokens i and j: a trailing comment on i..j-1, an
        # own-line comment on i+1..j, a trailing comma of a set or table on i+1..j-1
        self.trailing_before = _counts_before(len(tokens), trivia.trailing)
        self.leading_before = _counts_before(len(tokens), trivia.leading)
        self.commas_before = _counts_before(len(tokens), _trailing_commas(tokens))
        self.lines: list[RenderedLine] = []

    # ------------------------------------------------------------ statements and blocks

    def file(self, tree: ParseTree) -> str:
        """The formatted text of the whole file."""
        for item in tree.children:
            node = as_tree(item)
            if node.data == "def_":
                self._def(node)
            else:
                self._begin(self._first(node), indent=0, first=not self.lines)
                self._render(self._statement_doc(node), indent=0, node=node)
        self._own_line_comments(len(self.trivia.tokens), indent=0, first=not self.lines)
        if not self.lines:
            return ""
        return "\n".join(_aligned(self.lines)) + "\n"

    def _begin(self, start: int, *, indent: int, first: bool) -> None:
        """What comes before the statement starting at token ``start``: its own-line comments
        and a blank line where the author left one (not first in a file or body)."""
        wrote = self._own_line_comments(start, indent=indent, first=first)
        if start in self.trivia.blank_before and not (first and not wrote):
            self.lines.append(RenderedLine(""))

    def _render(self, doc: Doc, *, indent: int, node: ParseTree | None = None) -> None:
        """Lay ``doc`` out; the statement ``node`` without comments or trailing commas that
        fits on its line is printed flat without measuring its groups (the layout would print
        it the same: every group in it fits)."""
        if node is not None and not self._must_break(node):
            last = self._span(node)[1]
            if last not in self.trivia.trailing:
                flat = render_flat(doc)
                if indent + len(flat) <= self.width:
                    self.lines.append(RenderedLine(" " * indent + flat))
                    return
        self.lines.extend(render_lines(doc, self.width, indent))

    def _own_line_comments(self, index: int, *, indent: int, first: bool) -> bool:
        """Emit the own-line comments before token ``index`` (taking them off it); whether
        there were any."""
        comments = self.trivia.leading.pop(index, [])
        for position, comment in enumerate(comments):
            if comment.blank_before and not (first and position == 0):
                self.lines.append(RenderedLine(""))
            self.lines.append(RenderedLine(" " * indent + comment.text))
        return bool(comments)

    def _def(self, node: ParseTree) -> None:
        """``def name(params) {``, the body indented, ``}``."""
        children = node.children
        self._begin(self._first(node), indent=0, first=not self.lines)
        open_paren = _index_of(children, "LPAR")
        close_paren = _index_of(children, "RPAR")
        params = self._bracket(
            children[open_paren],
            children[open_paren + 1 : close_paren],
            children[close_paren],
            fill=True,
        )
        header = concat(
            self._token(children[0]),
            " ",
            self._token(children[1]),
            params,
            " ",
            self._token(children[close_paren + 1]),
        )
        self._render(header, indent=0)
        body = children[close_paren + 2 : -1]
        returned = _index_of(body, "_RETURN")
        for position, item in enumerate(body[:returned]):
            binding = as_tree(item)
            self._begin(self._first(binding), indent=INDENT, first=position == 0)
            self._render(self._statement_doc(binding), indent=INDENT, node=binding)
        return_token, value, semicolon = body[returned:]
        self._begin(self._index(as_token(return_token)), indent=INDENT, first=returned == 0)
        self._render(
            concat(self._token(return_token), " ", self._expr(value), self._token(semicolon)),
            indent=INDENT,
        )
        closing = as_token(children[-1])
        self._own_line_comments(self._index(closing), indent=INDENT, first=False)
        self._render(self._token(closing), indent=0)

    def _statement_doc(self, node: ParseTree) -> Doc:
        """A directive, binding, import or output statement."""
        children = node.children
        if node.data == "binding":
            name, *annotation, equals, value, semicolon = children
            parts: list[Doc] = [self._token(name)]
            if annotation:
                parts.extend([Text(" "), self._annotation(as_tree(annotation[0]))])
            return concat(
                *parts, " ", self._token(equals), " ", self._expr(value), self._token(semicolon)
            )
        if node.data == "output":
            keyword, *names, semicolon = children
            items = self._items(names)
            return concat(
                self._token(keyword), " ", Nest(INDENT, Fill(tuple(items))), self._token(semicolon)
            )
        # import and directives: keyword, operands separated by spaces, optional ';'
        words: list[Doc] = []
        for child in children:
            doc = self._expr(child)
            if isinstance(child, Token) and child.type == "SEMICOLON":
                words[-1] = concat(words[-1], doc)
            else:
                words.append(doc)
        return join(Text(" "), words)

    def _annotation(self, node: ParseTree) -> Doc:
        """``: cat``, ``: num``, ``: cat[6]``, ``: cat{"a", "b"}``."""
        colon, encoding, *domain = node.children
        parts = [self._token(colon), " ", self._token(encoding)]
        if domain:
            spec = as_tree(domain[0])
            parts.extend(self._expr(child) for child in spec.children)
        return concat(*parts)

    # ------------------------------------------------------------ expressions

    def _expr(self, item: ParseTree | Token) -> Doc:
        """The document of an expression (or any token)."""
        if isinstance(item, Token):
            return self._token(item)
        kind = item.data
        children = item.children
        if len(children) == 1:  # a name or a literal: its token
            return self._expr(children[0])
        if kind in ("or_op", "and_op", "arith"):
            return self._chain(item)
        if kind == "ifelse":
            return self._ternary(item)
        if kind == "lambda_":
            return self._lambda(item)
        if kind == "call":
            return self._bracket(
                children[1],
                children[2:-1],
                children[-1],
                prefix=self._token(children[0]),
            )
        if kind in ("value_set", "table", "tuple_", "atom"):
            fill = kind in ("value_set", "table")
            return self._bracket(children[0], children[1:-1], children[-1], fill=fill)
        if kind in ("keyword", "entry"):
            key, separator, value = children
            space = " " if kind == "entry" else ""
            return concat(self._expr(key), self._token(separator), space, self._expr(value))
        if kind == "neg":
            return concat(self._token(children[0]), self._expr(children[1]))
        # compare, member, not_member, not_op: tokens and operands, spaced
        return join(Text(" "), [self._expr(child) for child in children])

    def _chain(self, node: ParseTree) -> Doc:
        """``a + b - c`` (one level of operators); broken, a line break before each operator."""
        level = _chain_level(node)
        rest: list[Doc] = []
        first: ParseTree | Token = node
        while isinstance(first, Tree) and first.data in ("or_op", "and_op", "arith"):
            left, operator, right = first.children
            if _chain_level(first) != level:
                break
            rest.append(concat(Line(), self._token(operator), " ", self._expr(right)))
            first = left
        body = concat(self._expr(first), Nest(INDENT, concat(*reversed(rest))))
        return Group(body, broken=self._must_break(node))

    def _ternary(self, node: ParseTree) -> Doc:
        """``a if c else b if d else e``; broken, a line break before each ``else`` (and, in a
        branch still too long, before its ``if``)."""
        branches: list[Doc] = []
        elses: list[Token] = []
        current: ParseTree | Token = node
        while isinstance(current, Tree) and current.data == "ifelse":
            then, if_token, condition, else_token, current = current.children
            branch = concat(
                self._expr(then),
                Nest(INDENT, concat(Line(), self._token(if_token), " ", self._expr(condition))),
            )
            branches.append(Group(branch, broken=self._must_break(then, condition)))
            elses.append(as_token(else_token))
        branches.append(self._expr(current))
        rest = [
            concat(Line(), self._token(else_token), " ", branch)
            for else_token, branch in zip(elses, branches[1:], strict=True)
        ]
        return Group(
            concat(branches[0], Nest(INDENT, concat(*rest))), broken=self._must_break(node)
        )

    def _lambda(self, node: ParseTree) -> Doc:
        """``fn(a, b) -> body``; broken, the body on its own line, indented."""
        children = node.children
        params = self._bracket(
            children[1],
            children[2:-3],
            children[-3],
            fill=True,
            prefix=self._token(children[0]),
        )
        body = Nest(INDENT, concat(Line(), self._expr(children[-1])))
        return Group(
            concat(params, " ", self._token(children[-2]), body),
            broken=self._must_break(node),
        )

    def _bracket(
        self,
        opening: ParseTree | Token,
        inside: Sequence[ParseTree | Token],
        closing: ParseTree | Token,
        *,
        fill: bool = False,
        prefix: Doc | None = None,
    ) -> Doc:
        """``prefix(items)``, ``{items}``, ...; broken, the items one per line (packed with
        ``fill``) and indented, the closing bracket on a line of its own. A trailing comma
        (sets and tables) keeps it broken."""
        head = concat(prefix, self._token(opening)) if prefix else self._token(opening)
        if not inside:
            return concat(head, self._token(closing))
        items = self._items(inside)
        body = Fill(tuple(items)) if fill else join(Line(), items)
        # own-line comments before the closing bracket stay with the items
        inner = concat(SOFTLINE, body, self._leading(as_token(closing)))
        return Group(
            concat(head, Nest(INDENT, inner), SOFTLINE, self._token(closing, leading=False)),
            broken=self._must_break(opening, closing),
        )

    def _items(self, inside: Sequence[ParseTree | Token]) -> list[Doc]:
        """The items of a bracket or list, each with the comma after it."""
        items: list[Doc] = []
        for child in inside:
            doc = self._expr(child)
            if isinstance(child, Token) and child.type == "COMMA":
                items[-1] = concat(items[-1], doc)
            else:
                items.append(doc)
        return items

    # ------------------------------------------------------------ tokens and comments

    def _token(self, item: ParseTree | Token, *, leading: bool = True) -> Doc:
        """A token with its comments: own-line ones before it (unless not ``leading``), the
        trailing one after it."""
        token = as_token(item)
        index = self.first_of[token.start_pos or 0]
        trailing = self.trivia.trailing.get(index)
        if trailing is None and not (leading and index in self.trivia.leading):
            return Text(token.value)
        parts = [self._leading(token)] if leading else []
        parts.append(Text(token.value))
        if trailing is not None:
            parts.append(Comment(trailing))
        return concat(*parts)

    def _leading(self, token: Token) -> Doc:
        """The own-line comments before ``token``."""
        comments = self.trivia.leading.get(self._index(token), ())
        return concat(*(Comment(c.text, own_line=True) for c in comments))

    def _index(self, token: Token) -> int:
        return self.first_of[token.start_pos or 0]

    def _first(self, node: ParseTree | Token) -> int:
        """The index of the first token of ``node`` (every node of the tree has tokens)."""
        while isinstance(node, Tree):
            node = node.children[0]
        return self._index(node)

    def _span(self, item: ParseTree | Token) -> tuple[int, int]:
        """The indices of the first and the last token of ``item``."""
        last = item
        while isinstance(last, Tree):
            last = last.children[-1]
        return self._first(item), self._index(last)

    def _must_break(self, first: ParseTree | Token, last: ParseTree | Token | None = None) -> bool:
        """Whether the text from the start of ``first`` to the end of ``last`` (default:
        ``first``) cannot print on one line: a comment sits between two of its tokens, or a
        set or table in it has a trailing comma."""
        start, end = self._span(first)[0], self._span(last or first)[1]
        trailing = self.trailing_before[end] - self.trailing_before[start]
        leading = self.leading_before[end + 1] - self.leading_before[start + 1]
        commas = self.commas_before[end] - self.commas_before[start + 1]
        return trailing + leading + commas > 0


def _counts_before(size: int, marked: Collection[int]) -> list[int]:
    """``counts[i]``: how many of the indices ``0 .. i - 1`` are ``marked``."""
    return [0, *accumulate(int(index in marked) for index in range(size))]


def _trailing_commas(tokens: Sequence[Token]) -> set[int]:
    """The indices of commas right before a ``}``: trailing commas of sets and tables."""
    return {
        index
        for index, token in enumerate(tokens[:-1])
        if token.type == "COMMA" and tokens[index + 1].type == "RBRACE"
    }


def _chain_level(node: ParseTree) -> frozenset[str]:
    if node.data != "arith":
        return _CHAIN_OPERATORS[node.data]
    operator = str(node.children[1])
    return _CHAIN_OPERATORS["sum" if operator in _CHAIN_OPERATORS["sum"] else "product"]


def _index_of(children: Sequence[ParseTree | Token], token_type: str) -> int:
    return next(i for i, c in enumerate(children) if isinstance(c, Token) and c.type == token_type)


def _aligned(lines: list[RenderedLine]) -> Iterator[str]:
    """The lines as text, the trailing comments of consecutive lines in one column."""
    position = 0
    while position < len(lines):
        end = position
        while end < len(lines) and lines[end].comment:
            end += 1
        if end == position:
            yield lines[position].text
            position += 1
            continue
        column = max(len(line.text) for line in lines[position:end]) + COMMENT_GAP
        for line in lines[position:end]:
            yield line.text.ljust(column) + line.comment
        position = end
