"""Source text in, typed AST (:class:`~rasp_ir.syntax.ast.Module`) out: a Lark ``Transformer``
with one method per grammar rule, each node given the span of the text it came from."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from rasp_ir.diagnostics import Span
from rasp_ir.syntax import ast
from rasp_ir.syntax.tree import meta_span, parse_tree, span_of

Children = list[Any]
"""What a rule method receives: tokens and the AST nodes its sub-rules built."""


@lru_cache(maxsize=16)
def parse_module(text: str, file: str) -> ast.Module:
    """The AST of ``text``; a :class:`~rasp_ir.diagnostics.RaspError` on bad syntax.

    The last few ASTs are kept (they are frozen values): a driver that indexes a file and then
    resolves it, or a program that imports one library from several files, parses it once.
    """
    module = AstBuilder(text, file).transform(parse_tree(text, file))
    assert isinstance(module, ast.Module)
    return module


def decode_string(token: Token) -> str:
    """The value of a ``STRING`` token (JSON escapes)."""
    decoded = json.loads(str(token), strict=False)
    assert isinstance(decoded, str)
    return decoded


def _split_arguments(
    arguments: Children,
) -> tuple[tuple[ast.Argument, ...], tuple[ast.Keyword, ...]]:
    positional = tuple(a for a in arguments if not isinstance(a, ast.Keyword))
    keywords = tuple(a for a in arguments if isinstance(a, ast.Keyword))
    return positional, keywords


@v_args(meta=True)
class AstBuilder(Transformer_NonRecursive[Token, ast.Module]):
    """Builds AST nodes bottom-up; method names are the rule names (and aliases) of the grammar."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__()
        self.text = text
        self.file = file

    def _span(self, meta: Meta) -> Span:
        return meta_span(meta, self.text, self.file)

    def _token_span(self, token: Token) -> Span:
        return span_of(token, self.text, self.file)

    # ------------------------------------------------------------ file and header

    def start(self, meta: Meta, children: Children) -> ast.Module:
        directives = tuple(c for c in children if isinstance(c, ast.DIRECTIVES))
        statements = tuple(c for c in children if not isinstance(c, ast.DIRECTIVES))
        return ast.Module(directives, statements)

    def vocab_directive(self, meta: Meta, children: Children) -> ast.VocabDirective:
        (values,) = children
        if isinstance(values, Token):
            return ast.VocabDirective((), decode_string(values), self._span(meta))
        return ast.VocabDirective(values.items, None, self._span(meta))

    def max_len_directive(self, meta: Meta, children: Children) -> ast.MaxLenDirective:
        return ast.MaxLenDirective(str(children[0]), self._span(meta))

    def bos_directive(self, meta: Meta, children: Children) -> ast.BosDirective:
        return ast.BosDirective(children[0], self._span(meta))

    def causal_directive(self, meta: Meta, children: Children) -> ast.CausalDirective:
        return ast.CausalDirective(self._span(meta))

    # ------------------------------------------------------------ statements

    def binding(self, meta: Meta, children: Children) -> ast.Binding:
        name, *annotation, value = children
        return ast.Binding(
            str(name),
            self._token_span(name),
            annotation[0] if annotation else None,
            value,
            self._span(meta),
        )

    def annotation(self, meta: Meta, children: Children) -> ast.Annotation:
        encoding, *domain = children
        return ast.Annotation(str(encoding), domain[0] if domain else None, self._span(meta))

    def domain(self, meta: Meta, children: Children) -> ast.SetLit | ast.DomainSize:
        (spec,) = children
        if isinstance(spec, Token):
            return ast.DomainSize(str(spec), self._token_span(spec))
        assert isinstance(spec, ast.SetLit)
        return spec

    def def_(self, meta: Meta, children: Children) -> ast.Def:
        name, *rest, result = children
        params = tuple(str(c) for c in rest if isinstance(c, Token))
        body = tuple(c for c in rest if isinstance(c, ast.Binding))
        return ast.Def(str(name), self._token_span(name), params, body, result)

    def import_(self, meta: Meta, children: Children) -> ast.Import:
        (path,) = children
        return ast.Import(decode_string(path), self._token_span(path))

    def output(self, meta: Meta, children: Children) -> ast.Output:
        return ast.Output(tuple(ast.Name(str(t), self._token_span(t)) for t in children))

    # ------------------------------------------------------------ operators

    def ifelse(self, meta: Meta, children: Children) -> ast.IfElse:
        then, cond, orelse = children
        return ast.IfElse(then, cond, orelse, self._span(meta))

    def or_op(self, meta: Meta, children: Children) -> ast.Logic:
        return ast.Logic("or", children[0], children[1], self._span(meta))

    def and_op(self, meta: Meta, children: Children) -> ast.Logic:
        return ast.Logic("and", children[0], children[1], self._span(meta))

    def not_op(self, meta: Meta, children: Children) -> ast.Not:
        return ast.Not(children[0], self._span(meta))

    def compare(self, meta: Meta, children: Children) -> ast.BinOp:
        left, op, right = children
        return ast.BinOp(str(op), left, right, self._span(meta))

    arith = compare

    def member(self, meta: Meta, children: Children) -> ast.Member:
        return ast.Member(children[0], children[1], False, self._span(meta))

    def not_member(self, meta: Meta, children: Children) -> ast.Member:
        return ast.Member(children[0], children[1], True, self._span(meta))

    def neg(self, meta: Meta, children: Children) -> ast.Neg:
        return ast.Neg(children[0], self._span(meta))

    # ------------------------------------------------------------ atoms

    def name(self, meta: Meta, children: Children) -> ast.Name:
        return ast.Name(str(children[0]), self._token_span(children[0]))

    def call(self, meta: Meta, children: Children) -> ast.Call:
        name, *arguments = children
        positional, keywords = _split_arguments(arguments)
        return ast.Call(str(name), self._token_span(name), positional, keywords, self._span(meta))

    def keyword(self, meta: Meta, children: Children) -> ast.Keyword:
        return ast.Keyword(str(children[0]), children[1])

    def operator_argument(self, meta: Meta, children: Children) -> ast.OperatorArg:
        return ast.OperatorArg(str(children[0]), self._span(meta))

    def lambda_(self, meta: Meta, children: Children) -> ast.FnLit:
        *params, body = children
        return ast.FnLit(tuple(str(p) for p in params), body, self._span(meta))

    def value_set(self, meta: Meta, children: Children) -> ast.SetLit:
        return ast.SetLit(tuple(children), self._span(meta))

    def tuple_(self, meta: Meta, children: Children) -> ast.TupleLit:
        return ast.TupleLit(tuple(children), self._span(meta))

    def table(self, meta: Meta, children: Children) -> ast.TableLit:
        return ast.TableLit(tuple(children), self._span(meta))

    def entry(self, meta: Meta, children: Children) -> ast.Entry:
        return ast.Entry(children[0], children[1])

    # ------------------------------------------------------------ literals

    def int_(self, meta: Meta, children: Children) -> ast.IntLit:
        return ast.IntLit(str(children[0]), self._span(meta))

    def decimal(self, meta: Meta, children: Children) -> ast.DecimalLit:
        return ast.DecimalLit(str(children[0]), self._span(meta))

    def string(self, meta: Meta, children: Children) -> ast.StringLit:
        return ast.StringLit(decode_string(children[0]), self._span(meta))

    def true(self, meta: Meta, children: Children) -> ast.KeywordLit:
        return ast.KeywordLit(True, self._span(meta))

    def false(self, meta: Meta, children: Children) -> ast.KeywordLit:
        return ast.KeywordLit(False, self._span(meta))

    def none(self, meta: Meta, children: Children) -> ast.KeywordLit:
        return ast.KeywordLit(None, self._span(meta))
