"""Expression-language terms in, Python expression text out, exact by construction.

Each term is translated with the set of Python types its value can have (inferred from the
value sets of the map's inputs), so that the few places where Python and the expression
language disagree get a helper only when they can meet: ``True == 1`` (``_eq``, ``_member``,
``_tag``), exact division (``_div``) and integral fractions or booleans that must become ints
(``_num``). Literals are written with ``repr`` (strings) or as ``Fraction(n, d)``, so no value
can escape its literal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from rasp_ir.api import Value, ir

Types = frozenset[str]
NUMBERS: Types = frozenset({"int", "frac"})

# Python precedence levels, lowest first (comparisons never chain: both sides bind tighter).
CONDITIONAL, OR, AND, NOT, COMPARE, ADD, MUL, UNARY, ATOM = range(1, 10)
_BINARY_PRECEDENCE = {"or": OR, "and": AND, "+": ADD, "-": ADD, "*": MUL, "%": MUL}
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def type_of(value: Value) -> str:
    """The type tag of one value: ``none``, ``bool``, ``int``, ``frac`` or ``str``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Fraction):
        return "frac"
    return "str"


def types_of(values: tuple[Value, ...] | list[Value]) -> Types:
    """The type tags of every value of a set."""
    return frozenset(type_of(v) for v in values)


def bool_meets_number(left: Types, right: Types) -> bool:
    """True when a boolean on one side can meet a number on the other (Python: ``True == 1``)."""
    return bool(("bool" in left and right & NUMBERS) or ("bool" in right and left & NUMBERS))


def literal(value: Value) -> str:
    """Python source for a value: ``repr`` for strings, bools, ints and None, ``Fraction(n, d)``."""
    if isinstance(value, Fraction):
        return f"Fraction({value.numerator}, {value.denominator})"
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    raise TypeError(f"not a RASP value: {type(value).__name__}")


def tagged_literal(value: Value) -> str:
    """Source for ``_tag(value)``, computed now: ``(is_bool, value)``."""
    return f"({isinstance(value, bool)!r}, {literal(value)})"


@dataclass(frozen=True)
class Python:
    """A translated term: its source, its precedence and the types its value can have."""

    text: str
    precedence: int
    types: Types

    def at(self, precedence: int) -> str:
        """The text, parenthesised when it binds looser than ``precedence``."""
        return self.text if self.precedence >= precedence else f"({self.text})"


@dataclass
class Translator:
    """Translates the terms of one function; ``helpers`` collects the helpers they call.

    ``params`` maps each lambda parameter to its Python name and possible types; ``table``
    registers a module-level lookup table (entries source) and returns its name.
    """

    params: Mapping[str, tuple[str, Types]]
    table: Callable[[str], str]
    helpers: set[str] = field(default_factory=set)

    def translate(self, expr: ir.Expr) -> Python:
        """The Python term computing ``expr``."""
        if isinstance(expr, ir.Const):
            text = literal(expr.value)
            precedence = UNARY if text.startswith("-") else ATOM
            return Python(text, precedence, frozenset({type_of(expr.value)}))
        if isinstance(expr, ir.Param):
            name, types = self.params[expr.name]
            return Python(name, ATOM, types)
        if isinstance(expr, ir.Unary):
            return self._unary(expr)
        if isinstance(expr, ir.Binary):
            return self._binary(expr)
        if isinstance(expr, ir.IfElse):
            cond, then, orelse = (self.translate(e) for e in (expr.cond, expr.then, expr.orelse))
            text = f"{then.at(OR)} if {cond.at(OR)} else {orelse.at(CONDITIONAL)}"
            return Python(text, CONDITIONAL, then.types | orelse.types)
        if isinstance(expr, ir.Member):
            return self._member(expr)
        if isinstance(expr, ir.Lookup):
            return self._lookup(expr)
        return self._call(expr)

    def _unary(self, expr: ir.Unary) -> Python:
        operand = self.translate(expr.operand)
        if expr.op == "not":
            return Python(f"not {operand.at(COMPARE)}", NOT, frozenset({"bool"}))
        return Python(f"-{operand.at(ATOM)}", UNARY, _arithmetic_types(operand.types))

    def _binary(self, expr: ir.Binary) -> Python:
        left, right = self.translate(expr.left), self.translate(expr.right)
        op = expr.op
        boolean = frozenset({"bool"})
        if op in ("==", "!=") and bool_meets_number(left.types, right.types):
            self.helpers.add("_eq")
            text = f"_eq({left.text}, {right.text})"
            return Python(
                text if op == "==" else f"not {text}", ATOM if op == "==" else NOT, boolean
            )
        if op in _COMPARISONS:
            return Python(f"{left.at(ADD)} {op} {right.at(ADD)}", COMPARE, boolean)
        if op == "/":
            self.helpers.add("_div")
            return Python(f"_div({left.text}, {right.text})", ATOM, NUMBERS)
        precedence = _BINARY_PRECEDENCE[op]
        text = f"{left.at(precedence)} {op} {right.at(precedence + 1)}"
        if op in ("and", "or"):
            return Python(text, precedence, boolean)
        types = _arithmetic_types(left.types | right.types)
        if op == "+" and "str" in left.types and "str" in right.types:
            types |= {"str"}
        if "frac" in left.types | right.types:
            self.helpers.add("_num")
            return Python(f"_num({text})", ATOM, types)
        return Python(text, precedence, types)

    def _member(self, expr: ir.Member) -> Python:
        element = self.translate(expr.element)
        options = ", ".join(literal(v) for v in expr.options)
        options = f"({options},)" if len(expr.options) == 1 else f"({options})"
        if bool_meets_number(element.types, types_of(expr.options)):
            self.helpers.add("_member")
            text = f"_member({element.text}, {options})"
            if expr.negated:
                return Python(f"not {text}", NOT, frozenset({"bool"}))
            return Python(text, ATOM, frozenset({"bool"}))
        op = "not in" if expr.negated else "in"
        return Python(f"{element.at(ADD)} {op} {options}", COMPARE, frozenset({"bool"}))

    def _lookup(self, expr: ir.Lookup) -> Python:
        keys = [self.translate(k) for k in expr.keys]
        tagged = any(
            bool_meets_number(key.types, types_of([entry[0][axis] for entry in expr.entries]))
            for axis, key in enumerate(keys)
        )
        write = tagged_literal if tagged else literal
        if tagged:
            self.helpers.add("_tag")
            key_texts = [f"_tag({k.text})" for k in keys]
        else:
            key_texts = [k.text for k in keys]
        entries = []
        for key_values, result in expr.entries:
            parts = [write(v) for v in key_values]
            entry_key = parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
            entries.append(f"{entry_key}: {literal(result)}")
        name = self.table("{" + ", ".join(entries) + "}")
        if len(key_texts) > 1:
            key = f"({', '.join(key_texts)})"
        else:
            key = key_texts[0] if tagged else keys[0].at(ADD)
        default = self.translate(expr.default)
        types = types_of([result for _, result in expr.entries]) | default.types
        if isinstance(expr.default, ir.Const):
            return Python(f"{name}.get({key}, {default.text})", ATOM, types)
        text = f"{name}[{key}] if {key} in {name} else {default.at(CONDITIONAL)}"
        return Python(text, CONDITIONAL, types)

    def _call(self, expr: ir.Call) -> Python:
        args = [self.translate(a) for a in expr.args]
        text = f"{expr.func}({', '.join(a.text for a in args)})"
        if expr.func == "round":
            return Python(text, ATOM, frozenset({"int"}))
        if expr.func == "argmax":
            self.helpers.add("_argmax")
            return Python(f"_argmax({', '.join(a.text for a in args)})", ATOM, frozenset({"int"}))
        types = frozenset().union(*(a.types for a in args))
        if expr.func == "abs":
            return Python(text, ATOM, _arithmetic_types(types))
        if "bool" in types:  # min/max give a chosen boolean back as a number
            self.helpers.add("_num")
            return Python(f"_num({text})", ATOM, _arithmetic_types(types) | (types - {"bool"}))
        return Python(text, ATOM, types)


def _arithmetic_types(types: Types) -> Types:
    """The types of arithmetic on values of ``types``: booleans count as ints."""
    numbers = {"int" if t == "bool" else t for t in types if t in ("bool", "int", "frac")}
    if "frac" in numbers:
        numbers.add("int")
    return frozenset(numbers)
