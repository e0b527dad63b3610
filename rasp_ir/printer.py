"""IR :class:`~rasp_ir.ir.Program` in, canonical source text out; ``parse(print(p)) == p``.

Bindings whose names the parser would derive for a nested expression (``x__select`` inside
``x``), used exactly once and carrying no annotation of their own, are printed back inline;
everything else is printed as its own statement. Maps whose parameters are named after their
inputs print as operator sugar (``length - indices - 1``). A program's comment prints as ``#``
lines before the header, a binding's before its statement (set off by a blank line, and never
inlined); comments take no part in equality, so they do not survive parsing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rasp_ir import ir
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


def format_program(program: ir.Program) -> str:
    """The canonical text of ``program``."""
    return _Printer(program).text()


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


def format_expr(expr: ir.Expr, param_text: dict[str, tuple[str, int]] | None = None) -> str:
    """An expression-language term as source text (``param_text`` substitutes parameters)."""
    return _expr(expr, param_text or {})[0]


def format_lambda(fn: ir.Lambda) -> str:
    """``fn(a, b) -> body``."""
    return f"fn({', '.join(fn.params)}) -> {format_expr(fn.body)}"


def format_predicate(predicate: ir.Predicate) -> str:
    """A predicate argument: an operator, ``true``/``false`` or a lambda."""
    if isinstance(predicate, ir.Comparison):
        return predicate.op
    return format_lambda(predicate)


def format_annotation(encoding: ir.Encoding, domain: tuple[Value, ...] | None) -> str:
    """``cat``, ``num``, ``cat[6]`` or ``num{0, 0.5, 1}``."""
    if domain is None:
        return encoding
    if domain == tuple(range(len(domain))) and domain:
        return f"{encoding}[{len(domain)}]"
    return encoding + "{" + ", ".join(format_value(v) for v in domain) + "}"


@dataclass
class _Context:
    name: str
    counters: Counter[str] = field(default_factory=Counter)


class _Printer:
    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.uses: Counter[str] = Counter()
        for binding in program.bindings:
            self.uses.update(ir.operands(binding.node))
        self.uses.update(program.outputs)
        self.inlined: set[str] = set()

    def text(self) -> str:
        rendered: dict[str, str] = {}
        for binding in reversed(self.program.bindings):
            if binding.name in self.inlined:
                continue
            rendered[binding.name] = self._statement(binding)
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

    def _statement(self, binding: ir.Binding) -> str:
        context = _Context(binding.name)
        text, _ = self._node(binding, context, top=True)
        annotation = ""
        if binding.encoding is not None and (
            binding.encoding == "num" or binding.domain is not None
        ):
            annotation = " : " + format_annotation(binding.encoding, binding.domain)
        return f"{binding.name}{annotation} = {text};"

    def _default_encoding(self, node: ir.Node) -> ir.Encoding:
        if isinstance(node, ir.Aggregate):
            return self.program.encoding_of(node.sop)
        return "cat"

    def _inlinable(self, name: str, context: _Context) -> bool:
        if name in ir.PRIMITIVES or self.uses[name] != 1 or name in self.program.outputs:
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

    def _operand(
        self, name: str, context: _Context, *, sugar_leaf: bool = False
    ) -> tuple[str, int]:
        if not self._inlinable(name, context):
            return name, ATOM
        binding = self.program.binding(name)
        if sugar_leaf and not self._prints_as_call(binding.node):
            return name, ATOM
        if isinstance(binding.node, ir.Map) and _identity_input(binding.node) is not None:
            return name, ATOM
        context.counters[ir.kind_name(binding.node)] += 1
        self.inlined.add(name)
        return self._node(binding, context, top=False)

    def _prints_as_call(self, node: ir.Node) -> bool:
        if isinstance(node, (ir.Aggregate, ir.SelectorWidth, ir.Select, ir.SelectClosest)):
            return True
        return isinstance(node, ir.Map) and not self._is_sugar(node)

    def _node(self, binding: ir.Binding, context: _Context, *, top: bool) -> tuple[str, int]:
        node = binding.node
        if isinstance(node, ir.Full):
            return _value_text(node.value)
        if isinstance(node, ir.Map):
            return self._map(node, context, top=top)
        if isinstance(node, (ir.Select, ir.SelectClosest)):
            keys = self._operand(node.keys, context)[0]
            queries = self._operand(node.queries, context)[0]
            call = "select" if isinstance(node, ir.Select) else "select_closest"
            return f"{call}({keys}, {queries}, {format_predicate(node.predicate)})", ATOM
        if isinstance(node, (ir.SelectorAnd, ir.SelectorOr)):
            op = "and" if isinstance(node, ir.SelectorAnd) else "or"
            level = AND if op == "and" else OR
            left = _wrap(self._operand(node.left, context), level)
            right = _wrap(self._operand(node.right, context), level + 1)
            return f"{left} {op} {right}", level
        if isinstance(node, ir.SelectorNot):
            return f"not {_wrap(self._operand(node.operand, context), NOT)}", NOT
        if isinstance(node, ir.Aggregate):
            return self._aggregate(binding, node, context), ATOM
        return f"selector_width({self._operand(node.selector, context)[0]})", ATOM

    def _aggregate(self, binding: ir.Binding, node: ir.Aggregate, context: _Context) -> str:
        selector = self._operand(node.selector, context)[0]
        sop = self._operand(node.sop, context)[0]
        parts = [selector, sop]
        implicit_default = 0 if binding.encoding == "num" else None
        if format_value(node.default) != format_value(implicit_default) or (
            is_number(node.default) != is_number(implicit_default)
        ):
            parts.append(f"default={format_value(node.default)}")
        if node.reduce != "mean":
            parts.append(f"reduce={node.reduce}")
        return f"aggregate({', '.join(parts)})"

    def _is_sugar(self, node: ir.Map) -> bool:
        if node.default is not None or node.fn.params != node.inputs:
            return False
        if len(set(node.inputs)) != len(node.inputs):
            return False
        return _params_in_order(node.fn.body) == list(node.inputs)

    def _map(self, node: ir.Map, context: _Context, *, top: bool) -> tuple[str, int]:
        identity = _identity_input(node)
        if identity is not None and top and self._is_sugar(node):
            return identity, ATOM
        if self._is_sugar(node) and identity is None:
            texts = {name: self._operand(name, context, sugar_leaf=True) for name in node.inputs}
            return _expr(node.fn.body, texts)
        inputs = [self._operand(name, context)[0] for name in node.inputs]
        parts = [format_lambda(node.fn), *inputs]
        if node.default is not None:
            parts.append(f"default={format_value(node.default)}")
        return f"map({', '.join(parts)})", ATOM


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


def _wrap(item: tuple[str, int], minimum: int) -> str:
    text, level = item
    return text if level >= minimum else f"({text})"


def _value_text(value: Value) -> tuple[str, int]:
    if is_number(value) and not isinstance(value, bool):
        text = format_number(value)  # type: ignore[arg-type]
        if "/" in text:
            return f"({text})", ATOM
        return text, UNARY if text.startswith("-") else ATOM
    return format_value(value), ATOM


def _expr(expr: ir.Expr, params: dict[str, tuple[str, int]]) -> tuple[str, int]:
    if isinstance(expr, ir.Const):
        return _value_text(expr.value)
    if isinstance(expr, ir.Param):
        return params.get(expr.name, (expr.name, ATOM))
    if isinstance(expr, ir.Unary):
        if expr.op == "not":
            return f"not {_wrap(_expr(expr.operand, params), NOT)}", NOT
        return f"-{_wrap(_expr(expr.operand, params), UNARY)}", UNARY
    if isinstance(expr, ir.Binary):
        level = _BINARY_LEVEL[expr.op]
        left_min = level + 1 if level == COMPARE else level
        left = _wrap(_expr(expr.left, params), left_min)
        right = _wrap(_expr(expr.right, params), level + 1)
        return f"{left} {expr.op} {right}", level
    if isinstance(expr, ir.IfElse):
        then = _wrap(_expr(expr.then, params), OR)
        cond = _wrap(_expr(expr.cond, params), OR)
        orelse = _wrap(_expr(expr.orelse, params), TERNARY)
        return f"{then} if {cond} else {orelse}", TERNARY
    if isinstance(expr, ir.Member):
        element = _wrap(_expr(expr.element, params), SUM)
        options = "{" + ", ".join(format_value(v) for v in expr.options) + "}"
        keyword = "not in" if expr.negated else "in"
        return f"{element} {keyword} {options}", COMPARE
    if isinstance(expr, ir.Lookup):
        return _lookup(expr, params), ATOM
    args = ", ".join(_expr(a, params)[0] for a in expr.args)
    return f"{expr.func}({args})", ATOM


def _lookup(expr: ir.Lookup, params: dict[str, tuple[str, int]]) -> str:
    keys = [_expr(k, params)[0] for k in expr.keys]
    key_text = keys[0] if len(keys) == 1 else f"({', '.join(keys)})"
    entries = []
    for entry_key, value in expr.entries:
        parts = [format_value(v) for v in entry_key]
        entry_text = parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
        entries.append(f"{entry_text}: {format_value(value)}")
    table = "{" + ", ".join(entries) + "}"
    default = ""
    if not (isinstance(expr.default, ir.Const) and expr.default.value is None):
        default = f", default={_expr(expr.default, params)[0]}"
    return f"lookup({key_text}, {table}{default})"
