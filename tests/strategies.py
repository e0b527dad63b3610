"""Hypothesis strategies for IR programs, their inputs and mutated source text.

* :func:`programs` draws random, well-formed :class:`~rasp_ir.ir.Program` values that mix every
  node kind. Programs are typed by construction (separate number, string and boolean worlds),
  never divide by anything but a non-zero constant, only select on s-ops that cannot be
  undefined, and only take categorical means over selectors that pick at most one key (or over
  constant s-ops), so most programs evaluate without errors on every valid input.
* :func:`program_inputs` / :func:`program_input` draw valid content-token lists for a program.
* :func:`mutated_program_text` draws corrupted variants of source text, for parser robustness.

Conventions that keep the programs friendly to a printer/parser round trip: binding names are
ASCII identifiers (never grammar keywords, never containing ``__``); literal numbers inside
programs are non-negative ints (negative numbers appear only through unary minus); binding
domains are never set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from hypothesis import strategies as st

from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Call,
    Comparison,
    Const,
    Encoding,
    Expr,
    Full,
    Header,
    IfElse,
    Lambda,
    Lookup,
    Map,
    Member,
    Param,
    Predicate,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
    Unary,
)
from rasp_ir.values import Value, value_key

__all__ = [
    "AWKWARD_STRINGS",
    "expressions",
    "headers",
    "mutated_program_text",
    "program_input",
    "program_inputs",
    "programs",
]

Draw = st.DrawFn
Kind = Literal["num", "str", "bool", "any"]
V = TypeVar("V", bound=Value)

PLAIN_STRINGS: tuple[str, ...] = ("a", "b", "c", "x", "y", "z", "ab", "0", "1")
AWKWARD_STRINGS: tuple[str, ...] = (
    'q"uote',
    "back\\slash",
    "new\nline",
    "tab\t",
    "é",
    "日本",
    "😀",
    " ",
    "",
    "{",
    ";",
    "#",
    "none",
    "true",
)
BOS_STRINGS: tuple[str, ...] = ("BOS", "<s>", "^", "bos", "§")
NAME_STEMS: tuple[str, ...] = ("a", "s", "m", "sel", "agg", "w", "x", "t", "_h", "Q", "v2")
NUM_POOL: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 7)
BOOL_POOL: tuple[bool, ...] = (False, True)


# ---------------------------------------------------------------- bookkeeping


@dataclass(frozen=True)
class _SOp:
    """What the generator knows about an s-op: value kind, whether it can be undefined,
    its encoding, and whether it is a constant (so any mean over it is well defined)."""

    name: str
    kind: Kind
    maybe_none: bool
    encoding: Encoding
    constant: bool = False


@dataclass(frozen=True)
class _Sel:
    """A selector, and whether every row selects at most one key."""

    name: str
    narrow: bool


@dataclass(frozen=True)
class _World:
    """Literal pools per kind, drawn from the program's header."""

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


def _distinct(values: list[V]) -> tuple[V, ...]:
    """``values`` without repeats (by value_key), in first-seen order."""
    seen: set[tuple[int, object]] = set()
    out: list[V] = []
    for v in values:
        if value_key(v) not in seen:
            seen.add(value_key(v))
            out.append(v)
    return tuple(out)


# ---------------------------------------------------------------- header


@st.composite
def headers(draw: Draw) -> Header:
    """A header: 2-4 ints or strings (sometimes awkward ones), max_len 1-6, optional BOS
    (a string outside the vocab) and a random causal flag."""
    if draw(st.booleans()):
        vocab: tuple[Value, ...] = tuple(
            draw(st.lists(st.integers(0, 9), min_size=2, max_size=4, unique=True))
        )
    else:
        pool = PLAIN_STRINGS + (AWKWARD_STRINGS if draw(st.booleans()) else ())
        vocab = tuple(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=4, unique=True)))
    max_len = draw(st.integers(1, 6))
    bos = draw(st.none() | st.sampled_from([b for b in BOS_STRINGS if b not in vocab]))
    return Header(vocab=vocab, max_len=max_len, bos=bos, causal=draw(st.booleans()))


# ---------------------------------------------------------------- expressions


# The compound forms of each kind, beside the leaves (a constant, or a parameter of that kind).
COMPOUND_FORMS: dict[Kind, list[str]] = {
    "num": ["arith", "divmod", "neg", "if", "minmax", "abs", "round", "lookup"],
    "str": ["concat", "if", "lookup", "minmax"],
    "bool": ["eq", "order", "logic", "not", "member", "if", "lookup"],
    "any": ["if"],
}


@dataclass(frozen=True)
class _ExprDraw:
    """One expression being drawn: its kind, the parameters in scope and the depth left."""

    draw: Draw
    world: _World
    kind: Kind
    params: tuple[tuple[str, Kind], ...]
    depth: int

    def sub(self, kind: Kind) -> Expr:
        """A subexpression of ``kind``, one level deeper."""
        return _expr(self.draw, self.world, kind, self.params, self.depth - 1)

    def param(self, kind: Kind) -> Param:
        """A parameter of ``kind``."""
        return Param(_param_of(self.draw, self.params, kind))


def _expr(
    draw: Draw, world: _World, kind: Kind, params: tuple[tuple[str, Kind], ...], depth: int
) -> Expr:
    """A random expression of ``kind`` that evaluates without error whenever every parameter
    holds a (defined) value of its declared kind."""
    has_params = any(k == kind for _, k in params)
    leaves: list[str] = ["const"] + (["param"] * 3 if has_params else [])
    forms = leaves if depth <= 0 else leaves + COMPOUND_FORMS[kind]
    form = draw(st.sampled_from(forms))
    return _EXPR_FORMS[form](_ExprDraw(draw, world, kind, params, depth))


def _arith(e: _ExprDraw) -> Expr:
    """``+``, ``-`` of two numbers, or ``*`` by a small constant (so numbers stay small)."""
    op = e.draw(st.sampled_from(["+", "-", "*"]))
    if op == "*":
        return Binary(op, e.sub("num"), Const(e.draw(st.integers(0, 3))))
    return Binary(op, e.sub("num"), e.sub("num"))


def _divmod(e: _ExprDraw) -> Expr:
    """``/`` or ``%`` by a non-zero constant."""
    divisor = Const(e.draw(st.integers(1, 4)))
    return Binary(e.draw(st.sampled_from(["/", "%"])), e.sub("num"), divisor)


def _minmax(e: _ExprDraw) -> Expr:
    """``min`` or ``max`` of 2-3 values of the expression's kind."""
    n_args = e.draw(st.integers(2, 3))
    return Call(
        e.draw(st.sampled_from(["min", "max"])), tuple(e.sub(e.kind) for _ in range(n_args))
    )


def _equality(e: _ExprDraw) -> Expr:
    """``==`` or ``!=`` of two values of one kind (an ``any`` parameter against a literal)."""
    operand_kinds: list[Kind] = ["num", "str", "bool"]
    if any(k == "any" for _, k in e.params):
        operand_kinds.append("any")
    k = e.draw(st.sampled_from(operand_kinds))
    left = e.sub(k) if k != "any" else e.param("any")
    right = e.sub(k) if k != "any" else Const(e.draw(st.sampled_from(e.world.anys)))
    return Binary(e.draw(st.sampled_from(["==", "!="])), left, right)


def _order(e: _ExprDraw) -> Expr:
    """An ordering comparison of two numbers or two strings."""
    k: Kind = e.draw(st.sampled_from(["num", "str"]))
    return Binary(e.draw(st.sampled_from(["<", "<=", ">", ">="])), e.sub(k), e.sub(k))


def _member(e: _ExprDraw) -> Expr:
    """``x in {...}`` or ``x not in {...}`` over 1-3 distinct literals."""
    k = _operand_kind(e.draw, e.params)
    element = e.param(k) if k == "any" else e.sub(k)
    options = _distinct(e.draw(st.lists(st.sampled_from(e.world.pool(k)), min_size=1, max_size=3)))
    return Member(element, options, negated=e.draw(st.booleans()))


# One rule per expression form; each draws what the form needs, in a fixed order.
_EXPR_FORMS: dict[str, Callable[[_ExprDraw], Expr]] = {
    "const": lambda e: Const(e.draw(st.sampled_from(e.world.pool(e.kind)))),
    "param": lambda e: e.param(e.kind),
    "arith": _arith,
    "divmod": _divmod,
    "neg": lambda e: Unary("-", e.sub("num")),
    "if": lambda e: IfElse(e.sub("bool"), e.sub(e.kind), e.sub(e.kind)),
    "minmax": _minmax,
    "abs": lambda e: Call("abs", (e.sub("num"),)),
    "round": lambda e: Call("round", (e.sub("num"),)),
    "concat": lambda e: Binary("+", e.sub("str"), e.sub("str")),
    "lookup": lambda e: _lookup(e.draw, e.world, e.kind, e.params, e.depth),
    "eq": _equality,
    "order": _order,
    "logic": lambda e: Binary(e.draw(st.sampled_from(["and", "or"])), e.sub("bool"), e.sub("bool")),
    "not": lambda e: Unary("not", e.sub("bool")),
    "member": _member,
}


def _param_of(draw: Draw, params: tuple[tuple[str, Kind], ...], kind: Kind) -> str:
    """The name of a parameter of ``kind``."""
    return draw(st.sampled_from([name for name, k in params if k == kind]))


def _operand_kind(draw: Draw, params: tuple[tuple[str, Kind], ...]) -> Kind:
    """A kind for a comparison/lookup operand, preferring the kinds of the parameters."""
    kinds: list[Kind] = [k for _, k in params] or ["num"]
    return draw(st.sampled_from([*kinds, "num", "str"]))


def _lookup(
    draw: Draw, world: _World, kind: Kind, params: tuple[tuple[str, Kind], ...], depth: int
) -> Expr:
    """A 1- or 2-key table returning values of ``kind`` with a default of ``kind``."""
    key_kinds: list[Kind] = [_operand_kind(draw, params) for _ in range(draw(st.integers(1, 2)))]
    keys: list[Expr] = []
    for k in key_kinds:
        if k == "any":
            keys.append(Param(_param_of(draw, params, "any")))
        else:
            keys.append(_expr(draw, world, k, params, depth - 1))
    rows = draw(
        st.lists(
            st.tuples(
                st.tuples(*[st.sampled_from(world.pool(k)) for k in key_kinds]),
                st.sampled_from(world.pool(kind)),
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda row: tuple(value_key(v) for v in row[0]),
        )
    )
    entries = tuple((tuple(key), value) for key, value in rows)
    default = _expr(draw, world, kind, params, depth - 1)
    return Lookup(tuple(keys), entries, default)


@st.composite
def expressions(
    draw: Draw,
    kind: Kind = "num",
    params: tuple[tuple[str, Kind], ...] = (("x", "num"),),
    max_depth: int = 3,
) -> Expr:
    """A well-typed expression of ``kind`` over parameters ``(name, kind)``."""
    world = _World(strings=PLAIN_STRINGS, anys=(*PLAIN_STRINGS, *NUM_POOL))
    return _expr(draw, world, kind, params, draw(st.integers(0, max_depth)))


# ---------------------------------------------------------------- nodes


def _lambda(
    draw: Draw, world: _World, out: Kind, kinds: list[Kind], names: tuple[str, ...]
) -> Lambda:
    """A lambda with parameters ``names`` (of ``kinds``) returning a value of ``out``."""
    params = tuple(zip(names, kinds, strict=True))
    return Lambda(names, _expr(draw, world, out, params, draw(st.integers(0, 3))))


def _predicate(draw: Draw, world: _World, key: _SOp, query: _SOp) -> Predicate:
    """A comparison legal for these kinds, or a lambda ``fn(k, q) -> bool``."""
    ops = ["==", "!=", "==", "true", "false"]
    if key.kind == "num" and query.kind == "num":
        ops += ["<", "<=", ">", ">="]
    if draw(st.integers(0, 3)) == 0:
        return _lambda(draw, world, "bool", [key.kind, query.kind], ("k", "q"))
    return Comparison(draw(st.sampled_from(ops)))


def _select(
    draw: Draw, world: _World, sops: list[_SOp], closest: bool
) -> tuple[Select | SelectClosest, bool]:
    """A ``select`` (or ``select_closest``) on defined s-ops, and whether it is narrow."""
    defined = [s for s in sops if not s.maybe_none]
    if draw(st.integers(0, 2)) == 0:
        # a narrow select: at most one key (the unique index) matches each query
        query = draw(st.sampled_from(defined))
        keys = next(s for s in sops if s.name == "indices")
        predicate: Predicate = Comparison("==")
    else:
        keys = draw(st.sampled_from(defined))
        query = draw(st.sampled_from(defined))
        predicate = _predicate(draw, world, keys, query)
    narrow = (
        closest
        or predicate in (Comparison("false"),)
        or (keys.name == "indices" and predicate == Comparison("=="))
    )
    node_type = SelectClosest if closest else Select
    return node_type(keys.name, query.name, predicate), narrow


def _value_of(draw: Draw, world: _World, kind: Kind) -> Value:
    """A literal of ``kind``."""
    return draw(st.sampled_from(world.pool(kind)))


@dataclass
class _Scope:
    """A program being drawn: its literal pools and what its bindings so far define."""

    world: _World
    sops: list[_SOp]
    sels: list[_Sel]
    bindings: list[Binding]

    def add_sop(self, binding: Binding, sop: _SOp) -> None:
        """Bind an s-op."""
        self.bindings.append(binding)
        self.sops.append(sop)

    def add_selector(self, binding: Binding, narrow: bool) -> None:
        """Bind a selector."""
        self.bindings.append(binding)
        self.sels.append(_Sel(binding.name, narrow))


def _scope(header: Header) -> _Scope:
    """The literal pools of ``header`` and its primitives ``tokens``, ``indices``, ``length``."""
    strings = tuple(v for v in header.vocab if isinstance(v, str)) or PLAIN_STRINGS[:3]
    anys = _distinct([*header.vocab, *([header.bos] if header.bos is not None else []), 0, "a"])
    world = _World(strings=_distinct([*strings, "a", "xy"]), anys=anys)
    if all(isinstance(v, str) for v in header.vocab):
        token_kind: Kind = "str"
    elif header.bos is None:
        token_kind = "num"
    else:
        token_kind = "any"
    sops = [
        _SOp("tokens", token_kind, False, "cat"),
        _SOp("indices", "num", False, "cat"),
        _SOp("length", "num", False, "cat"),
    ]
    return _Scope(world, sops, [], [])


@st.composite
def programs(draw: Draw, max_bindings: int = 8) -> Program:
    """A random well-formed program with 1..``max_bindings`` bindings of every node kind."""
    header = draw(headers())
    scope = _scope(header)
    count = draw(st.integers(1, max_bindings))
    stem_indices = st.integers(0, len(NAME_STEMS) - 1)
    for index in range(count):
        name = f"{NAME_STEMS[draw(stem_indices)]}_{index}"
        kinds = ["map", "map", "select", "select", "closest", "full"]
        if scope.sels:
            kinds += ["aggregate", "aggregate", "aggregate", "width", "and", "or", "not"]
        _BINDING_FORMS[draw(st.sampled_from(kinds))](draw, scope, name)
    bound_sops = [s.name for s in scope.sops[3:]] or ["tokens", "indices", "length"]
    outputs = draw(st.lists(st.sampled_from(bound_sops), min_size=1, max_size=3, unique=True))
    return Program(header, tuple(scope.bindings), tuple(outputs))


def _add_full(draw: Draw, scope: _Scope, name: str) -> None:
    """A constant s-op (sometimes ``none``)."""
    kind: Kind = draw(st.sampled_from(["num", "str", "bool"]))
    value = _value_of(draw, scope.world, kind)
    if draw(st.integers(0, 9)) == 0:
        kind, value = "any", None
    enc: Encoding = "num" if kind == "num" and draw(st.booleans()) else "cat"
    scope.add_sop(Binding(name, Full(value), enc), _SOp(name, kind, value is None, enc, True))


def _add_map(draw: Draw, scope: _Scope, name: str) -> None:
    """A ``map`` of 1-3 s-ops, with or without a default for undefined inputs."""
    inputs = draw(st.lists(st.sampled_from(scope.sops), min_size=1, max_size=3))
    out: Kind = draw(st.sampled_from(["num", "num", "str", "bool"]))
    names = ("x", "y", "z")[: len(inputs)]
    fn = _lambda(draw, scope.world, out, [s.kind for s in inputs], names)
    default: Value = None
    if draw(st.booleans()):
        default = _value_of(draw, scope.world, out)
    maybe_none = default is None and any(s.maybe_none for s in inputs)
    enc: Encoding = "num" if out == "num" and not maybe_none and draw(st.booleans()) else "cat"
    node = Map(fn, tuple(s.name for s in inputs), default)
    scope.add_sop(Binding(name, node, enc), _SOp(name, out, maybe_none, enc))


def _add_select(draw: Draw, scope: _Scope, name: str, closest: bool) -> None:
    """A ``select`` or ``select_closest``."""
    node, narrow = _select(draw, scope.world, scope.sops, closest=closest)
    scope.add_selector(Binding(name, node, None), narrow)


def _add_and(draw: Draw, scope: _Scope, name: str) -> None:
    """``and`` of two selectors: narrow when either is."""
    left = draw(st.sampled_from(scope.sels))
    right = draw(st.sampled_from(scope.sels))
    node = SelectorAnd(left.name, right.name)
    scope.add_selector(Binding(name, node, None), left.narrow or right.narrow)


def _add_or(draw: Draw, scope: _Scope, name: str) -> None:
    """``or`` of two selectors."""
    left = draw(st.sampled_from(scope.sels))
    right = draw(st.sampled_from(scope.sels))
    scope.add_selector(Binding(name, SelectorOr(left.name, right.name), None), False)


def _add_not(draw: Draw, scope: _Scope, name: str) -> None:
    """``not`` of a selector."""
    operand = draw(st.sampled_from(scope.sels))
    scope.add_selector(Binding(name, SelectorNot(operand.name), None), False)


def _add_width(draw: Draw, scope: _Scope, name: str) -> None:
    """``selector_width`` of a selector."""
    selector = draw(st.sampled_from(scope.sels))
    enc: Encoding = draw(st.sampled_from(["cat", "num"]))
    scope.add_sop(Binding(name, SelectorWidth(selector.name), enc), _SOp(name, "num", False, enc))


def _add_aggregate(draw: Draw, scope: _Scope, name: str) -> None:
    """An ``aggregate`` that is well defined: a mean only over numbers, narrow selectors or
    constants; ``sum``/``max``/``min`` only over defined numbers."""
    selector = draw(st.sampled_from(scope.sels))
    sops = scope.sops
    # indices is always a defined number, so sum/max/min always have an operand
    numbers = [s for s in sops if s.kind == "num" and not s.maybe_none]
    averageable = [s for s in sops if s.encoding == "num" or selector.narrow or s.constant]
    reductions = (["mean", "mean"] if averageable else []) + ["sum", "max", "min"]
    reduce = draw(st.sampled_from(reductions))
    sop = draw(st.sampled_from(averageable if reduce == "mean" else numbers))
    agg_default = _aggregate_default(draw, scope.world, sop)
    out_kind: Kind = sop.kind if reduce == "mean" and sop.encoding == "cat" else "num"
    maybe_none = agg_default is None or sop.maybe_none
    node = Aggregate(selector.name, sop.name, reduce, agg_default)
    scope.add_sop(Binding(name, node, sop.encoding), _SOp(name, out_kind, maybe_none, sop.encoding))


def _aggregate_default(draw: Draw, world: _World, sop: _SOp) -> Value:
    """A default for an aggregate of ``sop``: a small number for ``num``, else often ``none``."""
    if sop.encoding == "num":
        return draw(st.sampled_from([0, 0, 0, 1, 2]))
    if sop.kind != "any" and draw(st.integers(0, 3)) == 0:
        return _value_of(draw, world, sop.kind)
    return None


# One rule per binding form; each draws its operands from the scope and binds the result.
_BINDING_FORMS: dict[str, Callable[[Draw, _Scope, str], None]] = {
    "full": _add_full,
    "map": _add_map,
    "select": lambda draw, scope, name: _add_select(draw, scope, name, closest=False),
    "closest": lambda draw, scope, name: _add_select(draw, scope, name, closest=True),
    "and": _add_and,
    "or": _add_or,
    "not": _add_not,
    "width": _add_width,
    "aggregate": _add_aggregate,
}


# ---------------------------------------------------------------- inputs


def program_input(program: Program) -> st.SearchStrategy[list[Value]]:
    """One valid content-token list (length 0..max_len) for ``program``."""
    header = program.header
    return st.lists(st.sampled_from(header.vocab), min_size=0, max_size=header.max_len)


def program_inputs(program: Program, max_inputs: int = 5) -> st.SearchStrategy[list[list[Value]]]:
    """1..``max_inputs`` valid content-token lists for ``program``."""
    return st.lists(program_input(program), min_size=1, max_size=max_inputs)


# ---------------------------------------------------------------- source mutation

MUTATION_CHARS: tuple[str, ...] = (
    *';(){}[]"\\=,:%#-+*/<>!.\n\t aZ_09é😀',
    "fn",
    "->",
    "select",
    "aggregate",
    "none",
    "%vocab",
    "output",
    "==",
)


@st.composite
def mutated_program_text(draw: Draw, text: str) -> str:
    """``text`` with 1-4 random edits: delete/insert/replace characters, swap, duplicate or
    delete lines, or truncate."""
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(
            st.sampled_from(
                ["delete", "insert", "replace", "swap_lines", "dup_line", "drop_line", "truncate"]
            )
        )
        if edit in ("delete", "replace", "truncate") and not text:
            edit = "insert"
        if edit == "delete":
            start = draw(st.integers(0, len(text) - 1))
            stop = draw(st.integers(start + 1, min(len(text), start + 3)))
            text = text[:start] + text[stop:]
        elif edit == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(MUTATION_CHARS)) + text[at:]
        elif edit == "replace":
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + draw(st.sampled_from(MUTATION_CHARS)) + text[at + 1 :]
        elif edit == "truncate":
            text = text[: draw(st.integers(0, len(text) - 1))]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if edit == "swap_lines":
                lines[i], lines[j] = lines[j], lines[i]
            elif edit == "dup_line":
                lines.insert(j, lines[i])
            elif len(lines) > 1:
                del lines[i]
            text = "\n".join(lines)
    return text
