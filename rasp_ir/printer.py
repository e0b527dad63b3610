"""IR :class:`~rasp_ir.ir.Program` in, canonical source text out; ``parse(print(p)) == p``.

Bindings whose names the parser would derive for a nested expression (``x__select`` inside
``x``), used exactly once and carrying no annotation of their own, are printed back inline;
everything else is printed as its own statement. Maps whose parameters are named after their
inputs print as operator sugar (``length - indices - 1``). A program's comment prints as ``#``
lines before the header, a binding's before its statement (set off by a blank line, and never
inlined); comments take no part in equality, so they do not survive parsing.

A statement that does not fit in the line width is broken by the layout of
:mod:`rasp_ir.layout`, outermost construct first: a call's arguments go one per line,
indented 4 more than the line that opened it, the closing bracket on its own line (no
trailing comma: the grammar's calls take none); a table, value set or lambda's parameters
are packed as many per line as fit; a chain of operators of one level (``a + b - c``, not a
comparison) breaks before each operator, a ternary before each ``else`` (a branch still too
long before its ``if``), a lambda after its ``->``. The grammar ignores whitespace, newlines
included, so breaking needs no brackets. A statement that fits prints on one line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rasp_ir import ir
from rasp_ir.layout import (
    INDENT,
    Doc,
    Group,
    Line,
    Nest,
    Text,
    bracket,
    concat,
    render,
    render_flat,
)
from rasp_ir.values import Value, format_number, format_value, is_number

# Precedence levels of the grammar, loosest first.
LAMBDA, TERNARY, OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, ATOM = range(10)
_BINARY_LEVEL = {
    "or": OR,
    "and": AND,
    "+": SUM,
    "-": SUM,
    "*": PRODUCT,
    "/": PRODUCT,
    "%": PRODUCT,
    **{op: COMPARE for op in ir.COMPARISONS},
}
LINE_WIDTH = 100

# A printed term: its document and the precedence level of its outermost operator.
_Printed = tuple[Doc, int]


def format_program(program: ir.Program, width: int = LINE_WIDTH) -> str:
    """The canonical text of ``program``, statements broken to fit in ``width`` columns."""
    return _Printer(program, width).text()


def format_header(header: ir.Header) -> list[str]:
    """The ``%`` directives of a header, one per line."""
    if all(isinstance(v, str) and len(v) == 1 for v in header.vocab):
        vocab = "chars " + format_value("".join(str(v) for v in header.vocab))
    else:
        vocab = "{" + ", ".join(format_value(v) for v in header.vocab) + "}"
    lines = [f"%vocab {vocab}", f"%max_len {header.max_len}"]
    if header.bos is not None:
        lines.append(f"%bos {format_value(header.bos)}")
    if header.causal:
        lines.append("%causal")
    return lines


def format_comment(comment: str | None) -> list[str]:
    """``comment`` as ``#`` lines, one per line of it (none for None): whatever the text, every
    line it has is a comment, so a comment can never change the program."""
    if comment is None:
        return []
    return [f"# {line}".rstrip() for line in comment.splitlines() or [""]]


def format_expr(expr: ir.Expr) -> str:
    """An expression-language term as source text, on one line."""
    return render_flat(_expr(expr, {})[0])


def _lambda_doc(fn: ir.Lambda) -> Doc:
    """``fn(a, b) -> body``; broken, the body goes on its own line, indented."""
    params = bracket("fn(", [Text(p) for p in fn.params], ")", fill=True)
    return Group(concat(params, " ->", Nest(INDENT, concat(Line(), _expr(fn.body, {})[0]))))


def _predicate_doc(predicate: ir.Predicate) -> Doc:
    """A predicate argument: an operator, ``true``/``false`` or a lambda."""
    if isinstance(predicate, ir.Comparison):
        return Text(predicate.op)
    return _lambda_doc(predicate)


def _annotation_doc(encoding: ir.Encoding, domain: tuple[Value, ...] | None) -> Doc:
    """``cat``, ``num``, ``cat[6]`` or ``num{0, 0.5, 1}``."""
    if domain is None:
        return Text(encoding)
    # ``cat[n]`` means the ints 0..n-1; booleans compare equal to 0 and 1 but are not ints here
    integers = not any(isinstance(v, bool) for v in domain)
    if domain and integers and domain == tuple(range(len(domain))):
        return Text(f"{encoding}[{len(domain)}]")
    return concat(encoding, _value_set(domain))


def _value_set(values: tuple[Value, ...]) -> Doc:
    return bracket("{", [Text(format_value(v)) for v in values], "}", fill=True)


@dataclass
class _Context:
    name: str
    counters: Counter[str] = field(default_factory=Counter)


class _Printer:
    def __init__(self, program: ir.Program, width: int) -> None:
        self.program = program
        self.width = width
        self.uses: Counter[str] = Counter()
        for binding in program.bindings:
            self.uses.update(ir.operands(binding.node))
        self.uses.update(program.outputs)
        self.inlined: set[str] = set()
        self.inlining = True
        self.index = {b.name: i for i, b in enumerate(program.bindings)}

    def text(self) -> str:
        rendered: dict[str, str] = {}
        for binding in reversed(self.program.bindings):
            if binding.name in self.inlined:
                continue
            rendered[binding.name] = render(self._statement_in_order(binding), self.width)
        lines = format_comment(self.program.comment)
        if lines:
            lines.append("")
        lines.extend([*format_header(self.program.header), ""])
        printed = [b for b in self.program.bindings if b.name in rendered]
        for position, binding in enumerate(printed):
            # a commented statement starts a group: a blank line sets it off from the one above
            if binding.comment is not None and position > 0:
                lines.append("")
            lines.extend([*format_comment(binding.comment), rendered[binding.name]])
        if printed:
            lines.append("")
        lines.append(f"output {', '.join(self.program.outputs)};")
        return "\n".join(lines) + "\n"

    def _statement_in_order(self, binding: ir.Binding) -> Doc:
        """The statement of ``binding`` with nested bindings inline only where parsing it back
        binds them where the program has them: right before it, operands first (the parser's
        order); otherwise every operand is printed by name (and bound by its own statement)."""
        before = set(self.inlined)
        statement = self._statement(binding)
        nested = self.inlined - before
        if not nested or self._in_parse_order(binding.name, nested):
            return statement
        self.inlined -= nested
        self.inlining = False
        statement = self._statement(binding)
        self.inlining = True
        return statement

    def _in_parse_order(self, name: str, nested: set[str]) -> bool:
        expected = _operands_first(self.program, name, nested)
        start = self.index[name] - len(expected)
        found = [b.name for b in self.program.bindings[max(start, 0) : self.index[name]]]
        return start >= 0 and found == expected

    def _statement(self, binding: ir.Binding) -> Doc:
        context = _Context(binding.name)
        value, _ = self._node(binding, context, top=True)
        annotation: Doc = Text("")
        if binding.encoding is not None and (
            binding.encoding == "num" or binding.domain is not None
        ):
            annotation = concat(" : ", _annotation_doc(binding.encoding, binding.domain))
        return concat(binding.name, annotation, " = ", value, ";")

    def _default_encoding(self, node: ir.Node) -> ir.Encoding:
        if isinstance(node, ir.Aggregate):
            return self.program.encoding_of(node.sop)
        return "cat"

    def _inlinable(self, name: str, context: _Context) -> bool:
        if not self.inlining or name in ir.PRIMITIVES:
            return False
        if self.uses[name] != 1 or name in self.program.outputs:
            return False
        binding = self.program.binding(name)
        if binding.domain is not None or binding.comment is not None:
            return False
        if binding.encoding is not None and binding.encoding != self._default_encoding(
            binding.node
        ):
            return False
        kind = ir.kind_name(binding.node)
        count = context.counters[kind] + 1
        expected = f"{context.name}__{kind}{'' if count == 1 else count}"
        return name == expected

    def _operand(self, name: str, context: _Context, *, sugar_leaf: bool = False) -> _Printed:
        if not self._inlinable(name, context):
            return Text(name), ATOM
        binding = self.program.binding(name)
        if sugar_leaf and not self._prints_as_call(binding.node):
            return Text(name), ATOM
        if isinstance(binding.node, ir.Map) and _identity_input(binding.node) is not None:
            return Text(name), ATOM
        context.counters[ir.kind_name(binding.node)] += 1
        self.inlined.add(name)
        return self._node(binding, context, top=False)

    def _prints_as_call(self, node: ir.Node) -> bool:
        if isinstance(
            node, (ir.Aggregate, ir.SelectorWidth, ir.Select, ir.SelectClosest, ir.PooledVote)
        ):
            return True
        return isinstance(node, ir.Map) and not self._is_sugar(node)

    def _node(self, binding: ir.Binding, context: _Context, *, top: bool) -> _Printed:
        node = binding.node
        if isinstance(node, ir.Full):
            return _value_doc(node.value)
        if isinstance(node, ir.Map):
            return self._map(node, context, top=top)
        if isinstance(node, (ir.Select, ir.SelectClosest)):
            keys = self._operand(node.keys, context)[0]
            queries = self._operand(node.queries, context)[0]
            call = "select(" if isinstance(node, ir.Select) else "select_closest("
            return bracket(call, [keys, queries, _predicate_doc(node.predicate)], ")"), ATOM
        if isinstance(node, (ir.SelectorAnd, ir.SelectorOr)):
            op = "and" if isinstance(node, ir.SelectorAnd) else "or"
            level = AND if op == "and" else OR
            left = _wrap(self._operand(node.left, context), level)
            right = _wrap(self._operand(node.right, context), level + 1)
            return _operator_chain(left, [(op, right)]), level
        if isinstance(node, ir.SelectorNot):
            return concat("not ", _wrap(self._operand(node.operand, context), NOT)), NOT
        if isinstance(node, ir.Aggregate):
            return self._aggregate(binding, node, context), ATOM
        if isinstance(node, ir.PooledVote):
            return self._vote(node, context), ATOM
        return bracket("selector_width(", [self._operand(node.selector, context)[0]], ")"), ATOM

    def _aggregate(self, binding: ir.Binding, node: ir.Aggregate, context: _Context) -> Doc:
        selector = self._operand(node.selector, context)[0]
        sop = self._operand(node.sop, context)[0]
        parts = [selector, sop]
        implicit_default = 0 if binding.encoding == "num" else None
        if format_value(node.default) != format_value(implicit_default) or (
            is_number(node.default) != is_number(implicit_default)
        ):
            parts.append(Text(f"default={format_value(node.default)}"))
        if node.reduce != "mean":
            parts.append(Text(f"reduce={node.reduce}"))
        return bracket("aggregate(", parts, ")")

    def _vote(self, node: ir.PooledVote, context: _Context) -> Doc:
        """``pooled_vote(selector, fn -> score, ..., input, ..., labels=(...), default=...)``."""
        selector = self._operand(node.selector, context)[0]
        inputs = [self._operand(name, context)[0] for name in node.inputs]
        labels = [Text(format_value(v)) for v in node.labels]
        label_doc = labels[0] if len(labels) == 1 else bracket("(", labels, ")", fill=True)
        parts = [selector, *(_lambda_doc(fn) for fn in node.scores), *inputs]
        parts.append(concat("labels=", label_doc))
        if node.default is not None:
            parts.append(Text(f"default={format_value(node.default)}"))
        return bracket("pooled_vote(", parts, ")")

    def _is_sugar(self, node: ir.Map) -> bool:
        if node.default is not None or node.fn.params != node.inputs:
            return False
        if len(set(node.inputs)) != len(node.inputs):
            return False
        return _params_in_order(node.fn.body) == list(node.inputs)

    def _map(self, node: ir.Map, context: _Context, *, top: bool) -> _Printed:
        identity = _identity_input(node)
        if identity is not None and top and self._is_sugar(node):
            return Text(identity), ATOM
        if self._is_sugar(node) and identity is None:
            docs = {name: self._operand(name, context, sugar_leaf=True) for name in node.inputs}
            return _expr(node.fn.body, docs)
        inputs = [self._operand(name, context)[0] for name in node.inputs]
        parts = [_lambda_doc(node.fn), *inputs]
        if node.default is not None:
            parts.append(Text(f"default={format_value(node.default)}"))
        return bracket("map(", parts, ")"), ATOM


def _operands_first(program: ir.Program, root: str, nested: set[str]) -> list[str]:
    """The ``nested`` bindings under ``root`` in the order the parser binds them: each one's
    operands before it, operands in order (``root`` itself not included)."""
    order: list[str] = []

    def visit(name: str) -> None:
        for operand in ir.operands(program.binding(name).node):
            if operand in nested and operand not in order:
                visit(operand)
                order.append(operand)

    visit(root)
    return order


def _identity_input(node: ir.Map) -> str | None:
    body = node.fn.body
    if isinstance(body, ir.Param) and len(node.inputs) == 1:
        return node.inputs[0]
    return None


def _params_in_order(expr: ir.Expr) -> list[str]:
    """The parameters ``expr`` reads, each once, in the order the printer writes them."""
    order: dict[str, None] = {}
    _collect_params(expr, order)
    return list(order)


def _collect_params(expr: ir.Expr, order: dict[str, None]) -> None:
    if isinstance(expr, ir.Param):
        order.setdefault(expr.name)
        return
    for child in _printed_children(expr):
        _collect_params(child, order)


def _printed_children(expr: ir.Expr) -> tuple[ir.Expr, ...]:
    """The sub-expressions of ``expr`` in printed order (``then if cond else orelse``)."""
    if isinstance(expr, ir.Unary):
        return (expr.operand,)
    if isinstance(expr, ir.Binary):
        return (expr.left, expr.right)
    if isinstance(expr, ir.IfElse):
        return (expr.then, expr.cond, expr.orelse)
    if isinstance(expr, ir.Member):
        return (expr.element,)
    if isinstance(expr, ir.Lookup):
        return (*expr.keys, expr.default)
    if isinstance(expr, ir.Call):
        return expr.args
    return ()


def _wrap(item: _Printed, minimum: int) -> Doc:
    doc, level = item
    return doc if level >= minimum else bracket("(", [doc], ")")


def _operator_chain(first: Doc, rest: list[tuple[str, Doc]]) -> Doc:
    """``first op term op term ...``; broken, a line break before each operator, indented."""
    breaks = [concat(Line(), f"{op} ", term) for op, term in rest]
    return Group(concat(first, Nest(INDENT, concat(*breaks))))


def _value_doc(value: Value) -> _Printed:
    if is_number(value) and not isinstance(value, bool):
        text = format_number(value)  # type: ignore[arg-type]
        if "/" in text:
            return Text(f"({text})"), ATOM
        return Text(text), UNARY if text.startswith("-") else ATOM
    return Text(format_value(value)), ATOM


_Params = dict[str, _Printed]


def _expr(expr: ir.Expr, params: _Params) -> _Printed:
    if isinstance(expr, ir.Const):
        return _value_doc(expr.value)
    if isinstance(expr, ir.Param):
        return params.get(expr.name, (Text(expr.name), ATOM))
    if isinstance(expr, ir.Unary):
        return _unary(expr, params)
    if isinstance(expr, ir.Binary):
        return _binary(expr, params)
    if isinstance(expr, ir.IfElse):
        return _ternary(expr, params)
    if isinstance(expr, ir.Member):
        element = _wrap(_expr(expr.element, params), SUM)
        keyword = " not in " if expr.negated else " in "
        return concat(element, keyword, _value_set(expr.options)), COMPARE
    if isinstance(expr, ir.Lookup):
        return _lookup(expr, params), ATOM
    args = [_expr(a, params)[0] for a in expr.args]
    return bracket(f"{expr.func}(", args, ")"), ATOM


def _unary(expr: ir.Unary, params: _Params) -> _Printed:
    if expr.op == "not":
        return concat("not ", _wrap(_expr(expr.operand, params), NOT)), NOT
    return concat("-", _wrap(_expr(expr.operand, params), UNARY)), UNARY


def _binary(expr: ir.Binary, params: _Params) -> _Printed:
    """A chain of operators of one level (``a + b - c``) as one group; a comparison does not
    chain, nor break: its operands do (``key == lookup(`` stays on one line)."""
    level = _BINARY_LEVEL[expr.op]
    if level == COMPARE:
        left = _wrap(_expr(expr.left, params), level + 1)
        right = _wrap(_expr(expr.right, params), level + 1)
        return concat(left, f" {expr.op} ", right), level
    terms: list[tuple[str, Doc]] = []
    first: ir.Expr = expr
    while isinstance(first, ir.Binary) and _BINARY_LEVEL[first.op] == level:
        terms.append((first.op, _wrap(_expr(first.right, params), level + 1)))
        first = first.left
    return _operator_chain(_wrap(_expr(first, params), level), terms[::-1]), level


def _ternary(expr: ir.IfElse, params: _Params) -> _Printed:
    """``a if c else b if d else e``; broken, each ``else`` starts a line, and a branch too
    long for its line breaks before its ``if``."""
    branches: list[Doc] = []
    orelse: ir.Expr = expr
    while isinstance(orelse, ir.IfElse):
        then = _wrap(_expr(orelse.then, params), OR)
        cond = _wrap(_expr(orelse.cond, params), OR)
        branches.append(_operator_chain(then, [("if", cond)]))
        orelse = orelse.orelse
    last = _wrap(_expr(orelse, params), TERNARY)
    return _operator_chain(branches[0], [("else", b) for b in [*branches[1:], last]]), TERNARY


def _lookup(expr: ir.Lookup, params: _Params) -> Doc:
    keys = [_expr(k, params)[0] for k in expr.keys]
    key_doc = keys[0] if len(keys) == 1 else bracket("(", keys, ")")
    entries: list[Doc] = []
    for entry_key, value in expr.entries:
        parts = [format_value(v) for v in entry_key]
        entry_text = parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
        entries.append(Text(f"{entry_text}: {format_value(value)}"))
    args = [key_doc, bracket("{", entries, "}", fill=True)]
    if not (isinstance(expr.default, ir.Const) and expr.default.value is None):
        args.append(concat("default=", _expr(expr.default, params)[0]))
    return bracket("lookup(", args, ")")
