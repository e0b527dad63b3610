"""Random well-typed expressions of the IR's expression language: a kind (number, string,
boolean, any value), the parameters in scope and a depth in, an :class:`~rasp_ir.ir.Expr` out
that evaluates without error whenever every parameter holds a defined value of its kind.

Numbers stay small (``*`` only by a constant 0..3) and never divide by anything but a non-zero
constant. Literal numbers are non-negative ints (negative numbers arise through unary minus).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rasp_ir.fuzz.choices import Chooser
from rasp_ir.ir import Binary, Call, Const, Expr, IfElse, Lookup, Member, Param, Unary
from rasp_ir.values import Value, value_key

Kind = Literal["num", "str", "bool", "any"]
Params = tuple[tuple[str, Kind], ...]

PLAIN_STRINGS: tuple[str, ...] = ("a", "b", "c", "x", "y", "z", "ab", "0", "1")
NUM_POOL: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 7)
BOOL_POOL: tuple[bool, ...] = (False, True)

# The compound forms of each kind, beside the leaves (a constant, or a parameter of that kind).
COMPOUND_FORMS: dict[Kind, list[str]] = {
    "num": ["arith", "divmod", "neg", "if", "minmax", "abs", "round", "lookup", "argmax"],
    "str": ["concat", "if", "lookup", "minmax"],
    "bool": ["eq", "order", "logic", "not", "member", "if", "lookup"],
    "any": ["if"],
}


def distinct_values(values: list[Value]) -> tuple[Value, ...]:
    """``values`` without repeats (by value_key, so ``True`` and ``1`` both stay), in
    first-seen order."""
    seen: set[tuple[int, object]] = set()
    out: list[Value] = []
    for v in values:
        if value_key(v) not in seen:
            seen.add(value_key(v))
            out.append(v)
    return tuple(out)


@dataclass(frozen=True)
class Literals:
    """Literal pools per kind, drawn from a program's header."""

    strings: tuple[str, ...]
    anys: tuple[Value, ...]

    def pool(self, kind: Kind) -> tuple[Value, ...]:
        """Literals of one kind."""
        if kind == "num":
            return NUM_POOL
        if kind == "str":
            return self.strings
        if kind == "bool":
            return BOOL_POOL
        return self.anys


DEFAULT_LITERALS = Literals(strings=PLAIN_STRINGS, anys=(*PLAIN_STRINGS, *NUM_POOL))


@dataclass(frozen=True)
class _Draw:
    """One expression being drawn: its kind, the parameters in scope and the depth left."""

    chooser: Chooser
    literals: Literals
    kind: Kind
    params: Params
    depth: int

    def sub(self, kind: Kind) -> Expr:
        """A subexpression of ``kind``, one level deeper."""
        return expression(self.chooser, self.literals, kind, self.params, self.depth - 1)

    def param(self, kind: Kind) -> Param:
        """A parameter of ``kind``."""
        return Param(self.chooser.choice([name for name, k in self.params if k == kind]))

    def literal(self, kind: Kind) -> Value:
        """A literal of ``kind``."""
        return self.chooser.choice(self.literals.pool(kind))

    def operand_kind(self) -> Kind:
        """A kind for a comparison or table-key operand, preferring the parameters' kinds."""
        kinds: list[Kind] = [k for _, k in self.params] or ["num"]
        return self.chooser.choice([*kinds, "num", "str"])


def expression(
    chooser: Chooser, literals: Literals, kind: Kind, params: Params, depth: int
) -> Expr:
    """A random expression of ``kind`` over ``params``, at most ``depth`` levels deep."""
    has_params = any(k == kind for _, k in params)
    leaves = ["const"] + (["param"] * 3 if has_params else [])
    forms = leaves if depth <= 0 else leaves + COMPOUND_FORMS[kind]
    form = chooser.choice(forms)
    return _FORMS[form](_Draw(chooser, literals, kind, params, depth))


def _arith(e: _Draw) -> Expr:
    """``+``, ``-`` of two numbers, or ``*`` by a small constant (so numbers stay small)."""
    op = e.chooser.choice(["+", "-", "*"])
    if op == "*":
        return Binary(op, e.sub("num"), Const(e.chooser.integer(0, 3)))
    return Binary(op, e.sub("num"), e.sub("num"))


def _divmod(e: _Draw) -> Expr:
    """``/`` or ``%`` by a non-zero constant."""
    divisor = Const(e.chooser.integer(1, 4))
    return Binary(e.chooser.choice(["/", "%"]), e.sub("num"), divisor)


def _minmax(e: _Draw) -> Expr:
    """``min`` or ``max`` of 2-3 values of the expression's kind."""
    func = e.chooser.choice(["min", "max"])
    return Call(func, tuple(e.sub(e.kind) for _ in range(e.chooser.integer(2, 3))))


def _argmax(e: _Draw) -> Expr:
    """``argmax`` of 2-3 numbers: the index of the first largest."""
    return Call("argmax", tuple(e.sub("num") for _ in range(e.chooser.integer(2, 3))))


def _equality(e: _Draw) -> Expr:
    """``==`` or ``!=`` of two values of one kind (an ``any`` parameter against a literal)."""
    kinds: list[Kind] = ["num", "str", "bool"]
    if any(k == "any" for _, k in e.params):
        kinds.append("any")
    k = e.chooser.choice(kinds)
    left = e.sub(k) if k != "any" else e.param("any")
    right = e.sub(k) if k != "any" else Const(e.literal("any"))
    return Binary(e.chooser.choice(["==", "!="]), left, right)


def _order(e: _Draw) -> Expr:
    """An ordering comparison of two numbers or two strings."""
    k: Kind = e.chooser.choice(["num", "str"])
    return Binary(e.chooser.choice(["<", "<=", ">", ">="]), e.sub(k), e.sub(k))


def _member(e: _Draw) -> Expr:
    """``x in {...}`` or ``x not in {...}`` over 1-3 distinct literals."""
    k = e.operand_kind()
    element = e.param(k) if k == "any" else e.sub(k)
    options = distinct_values([e.literal(k) for _ in range(e.chooser.integer(1, 3))])
    return Member(element, options, negated=e.chooser.boolean())


def _lookup(e: _Draw) -> Expr:
    """A table of 1-4 rows on 1 or 2 keys, returning values of the expression's kind, with a
    default of that kind."""
    key_kinds = [e.operand_kind() for _ in range(e.chooser.integer(1, 2))]
    keys = tuple(e.param(k) if k == "any" else e.sub(k) for k in key_kinds)
    entries: dict[tuple[tuple[int, object], ...], tuple[tuple[Value, ...], Value]] = {}
    for _ in range(e.chooser.integer(1, 4)):
        key = tuple(e.literal(k) for k in key_kinds)
        entries.setdefault(tuple(value_key(v) for v in key), (key, e.literal(e.kind)))
    return Lookup(keys, tuple(entries.values()), e.sub(e.kind))


# One rule per expression form; each draws what the form needs, in a fixed order.
_FORMS: dict[str, Callable[[_Draw], Expr]] = {
    "const": lambda e: Const(e.literal(e.kind)),
    "param": lambda e: e.param(e.kind),
    "arith": _arith,
    "divmod": _divmod,
    "neg": lambda e: Unary("-", e.sub("num")),
    "if": lambda e: IfElse(e.sub("bool"), e.sub(e.kind), e.sub(e.kind)),
    "minmax": _minmax,
    "argmax": _argmax,
    "abs": lambda e: Call("abs", (e.sub("num"),)),
    "round": lambda e: Call("round", (e.sub("num"),)),
    "concat": lambda e: Binary("+", e.sub("str"), e.sub("str")),
    "lookup": _lookup,
    "eq": _equality,
    "order": _order,
    "logic": lambda e: Binary(e.chooser.choice(["and", "or"]), e.sub("bool"), e.sub("bool")),
    "not": lambda e: Unary("not", e.sub("bool")),
    "member": _member,
}
