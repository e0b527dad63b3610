"""Random well-formed programs: a :class:`~rasp_ir.fuzz.choices.Chooser` in, an
:class:`~rasp_ir.ir.Program` out that mixes every node kind (maps with tables, select,
select_closest, and/or/not of selectors, every reduction, selector_width, constants, and in
about one program of eight a closing pooled_vote), numerical and categorical encodings,
annotated domains, BOS and causal headers.

Programs are typed by construction (separate number, string and boolean worlds), only select
on s-ops that cannot be undefined, and only take categorical means over selectors that pick at
most one key (or over constants), so most of them evaluate without errors on every input.
Binding names are ``stem_index`` (never a keyword, never containing ``__``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rasp_ir.fuzz.choices import Chooser, distinct_choices
from rasp_ir.fuzz.expressions import (
    PLAIN_STRINGS,
    Kind,
    Literals,
    distinct_values,
    expression,
)
from rasp_ir.ir import (
    Aggregate,
    Binding,
    Comparison,
    Encoding,
    Full,
    Header,
    Lambda,
    Map,
    PooledVote,
    Predicate,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorWidth,
)
from rasp_ir.values import Value, canonical_values
from rasp_ir.valuesets import infer_value_sets

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
# Domains are annotated only on s-ops with at most this many values.
MAX_ANNOTATED_DOMAIN = 12


def header(chooser: Chooser) -> Header:
    """2-4 ints or strings (sometimes awkward ones), max_len 1-6, optional BOS (a string
    outside the vocabulary), causal or not."""
    if chooser.boolean():
        vocab: tuple[Value, ...] = tuple(distinct_choices(chooser, range(10), 2, 4))
    else:
        pool = PLAIN_STRINGS + (AWKWARD_STRINGS if chooser.boolean() else ())
        vocab = tuple(distinct_choices(chooser, pool, 2, 4))
    max_len = chooser.integer(1, 6)
    bos_options: list[Value] = [None, *(b for b in BOS_STRINGS if b not in vocab)]
    bos = None if chooser.boolean() else chooser.choice(bos_options)
    return Header(vocab=vocab, max_len=max_len, bos=bos, causal=chooser.boolean())


@dataclass(frozen=True)
class SOp:
    """What the generator knows about an s-op: value kind, whether it can be undefined,
    its encoding, and whether it is a constant (so any mean over it is well defined)."""

    name: str
    kind: Kind
    maybe_none: bool
    encoding: Encoding
    constant: bool = False


@dataclass(frozen=True)
class Sel:
    """A selector, and whether every row selects at most one key."""

    name: str
    narrow: bool


@dataclass
class Scope:
    """A program being built: its chooser, literal pools and what its bindings so far
    define."""

    chooser: Chooser
    literals: Literals
    sops: list[SOp]
    sels: list[Sel]
    bindings: list[Binding]

    def add_sop(self, binding: Binding, sop: SOp) -> None:
        """Bind an s-op."""
        self.bindings.append(binding)
        self.sops.append(sop)

    def add_selector(self, binding: Binding, narrow: bool) -> None:
        """Bind a selector."""
        self.bindings.append(binding)
        self.sels.append(Sel(binding.name, narrow))

    def function(self, out: Kind, kinds: list[Kind], names: tuple[str, ...]) -> Lambda:
        """A lambda with parameters ``names`` (of ``kinds``) returning a value of ``out``."""
        params = tuple(zip(names, kinds, strict=True))
        depth = self.chooser.integer(0, 3)
        return Lambda(names, expression(self.chooser, self.literals, out, params, depth))


def scope_of(chooser: Chooser, head: Header) -> Scope:
    """The literal pools of ``head`` and its primitives ``tokens``, ``indices``, ``length``."""
    strings = tuple(v for v in head.vocab if isinstance(v, str)) or PLAIN_STRINGS[:3]
    bos = [head.bos] if head.bos is not None else []
    anys = distinct_values([*head.vocab, *bos, 0, "a"])
    literals = Literals(strings=tuple(map(str, distinct_values([*strings, "a", "xy"]))), anys=anys)
    if all(isinstance(v, str) for v in head.vocab):
        token_kind: Kind = "str"
    elif head.bos is None:
        token_kind = "num"
    else:
        token_kind = "any"
    sops = [
        SOp("tokens", token_kind, False, "cat"),
        SOp("indices", "num", False, "cat"),
        SOp("length", "num", False, "cat"),
    ]
    return Scope(chooser, literals, sops, [], [])


def program(chooser: Chooser, max_bindings: int = 8, annotate: bool = True) -> Program:
    """A random well-formed program of 1..``max_bindings`` bindings; with ``annotate``, some
    s-ops declare their domain (the inferred value set, sometimes with one value more)."""
    head = header(chooser)
    scope = scope_of(chooser, head)
    for index in range(chooser.integer(1, max_bindings)):
        name = f"{chooser.choice(NAME_STEMS)}_{index}"
        forms = ["map", "map", "select", "select", "closest", "full"]
        if scope.sels:
            forms += ["aggregate", "aggregate", "aggregate", "width", "and", "or", "not"]
        _BINDING_FORMS[chooser.choice(forms)](scope, name)
    bound = [s.name for s in scope.sops[3:]] or ["tokens", "indices", "length"]
    outputs = distinct_choices(chooser, bound, 1, 3)
    # rare, last and an output: the torch and triton checks skip programs with a vote
    if scope.sels and chooser.integer(0, 7) == 0:
        outputs.append(f"vote_{len(scope.bindings)}")
        _add_vote(scope, outputs[-1])
    built = Program(head, tuple(scope.bindings), tuple(outputs))
    return annotate_domains(chooser, built) if annotate else built


def annotate_domains(chooser: Chooser, built: Program) -> Program:
    """``built`` with a declared domain on about a quarter of its small s-ops: the inferred
    value set, sometimes with an unreachable value more (a domain may be wider)."""
    sets = infer_value_sets(built).sets
    bindings = []
    for binding in built.bindings:
        values = sets.get(binding.name)
        if not _annotatable(values) or chooser.integer(0, 3) > 0:
            bindings.append(binding)
            continue
        assert values is not None
        extra = _unreachable_value(values) if chooser.boolean() else None
        domain = values if extra is None else canonical_values((*values, extra))
        bindings.append(replace(binding, domain=domain))
    return replace(built, bindings=tuple(bindings))


def _annotatable(values: tuple[Value, ...] | None) -> bool:
    """Whether a domain can be declared for an s-op of these values: a few, all defined."""
    return values is not None and 0 < len(values) <= MAX_ANNOTATED_DOMAIN and None not in values


def _unreachable_value(values: tuple[Value, ...]) -> Value:
    """A value of the same kind as ``values`` that is not among them (None if none fits)."""
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(values):
        return max(numbers) + 1
    if values and all(isinstance(v, str) for v in values):
        return "".join(str(v) for v in values) + "!"
    return None


def _predicate(scope: Scope, key: SOp, query: SOp) -> Predicate:
    """A comparison legal for these kinds, or a lambda ``fn(k, q) -> bool``."""
    ops = ["==", "!=", "==", "true", "false"]
    if key.kind == "num" and query.kind == "num":
        ops += ["<", "<=", ">", ">="]
    if scope.chooser.integer(0, 3) == 0:
        return scope.function("bool", [key.kind, query.kind], ("k", "q"))
    return Comparison(scope.chooser.choice(ops))


def _add_select(scope: Scope, name: str, closest: bool) -> None:
    """A ``select`` or ``select_closest`` on defined s-ops; narrow when at most one key can
    match (``select_closest``, ``false``, or ``indices ==`` a query)."""
    defined = [s for s in scope.sops if not s.maybe_none]
    if scope.chooser.integer(0, 2) == 0:
        query = scope.chooser.choice(defined)
        keys = scope.sops[1]  # indices: the unique position matches
        predicate: Predicate = Comparison("==")
    else:
        keys = scope.chooser.choice(defined)
        query = scope.chooser.choice(defined)
        predicate = _predicate(scope, keys, query)
    narrow = (
        closest
        or predicate == Comparison("false")
        or (keys.name == "indices" and predicate == Comparison("=="))
    )
    node = (SelectClosest if closest else Select)(keys.name, query.name, predicate)
    scope.add_selector(Binding(name, node, None), narrow)


def _add_full(scope: Scope, name: str) -> None:
    """A constant s-op (sometimes ``none``)."""
    kind: Kind = scope.chooser.choice(["num", "str", "bool"])
    value: Value = scope.chooser.choice(scope.literals.pool(kind))
    if scope.chooser.integer(0, 9) == 0:
        kind, value = "any", None
    enc: Encoding = "num" if kind == "num" and scope.chooser.boolean() else "cat"
    scope.add_sop(Binding(name, Full(value), enc), SOp(name, kind, value is None, enc, True))


def _add_map(scope: Scope, name: str) -> None:
    """A ``map`` of 1-3 s-ops, with or without a default for undefined inputs."""
    inputs = [scope.chooser.choice(scope.sops) for _ in range(scope.chooser.integer(1, 3))]
    out: Kind = scope.chooser.choice(["num", "num", "str", "bool"])
    fn = scope.function(out, [s.kind for s in inputs], ("x", "y", "z")[: len(inputs)])
    default: Value = None
    if scope.chooser.boolean():
        default = scope.chooser.choice(scope.literals.pool(out))
    maybe_none = default is None and any(s.maybe_none for s in inputs)
    numeric = out == "num" and not maybe_none and scope.chooser.boolean()
    enc: Encoding = "num" if numeric else "cat"
    node = Map(fn, tuple(s.name for s in inputs), default)
    scope.add_sop(Binding(name, node, enc), SOp(name, out, maybe_none, enc))


def _add_and(scope: Scope, name: str) -> None:
    """``and`` of two selectors: narrow when either is."""
    left, right = scope.chooser.choice(scope.sels), scope.chooser.choice(scope.sels)
    node = SelectorAnd(left.name, right.name)
    scope.add_selector(Binding(name, node, None), left.narrow or right.narrow)


def _add_or(scope: Scope, name: str) -> None:
    """``or`` of two selectors."""
    left, right = scope.chooser.choice(scope.sels), scope.chooser.choice(scope.sels)
    scope.add_selector(Binding(name, SelectorOr(left.name, right.name), None), False)


def _add_not(scope: Scope, name: str) -> None:
    """``not`` of a selector."""
    operand = scope.chooser.choice(scope.sels)
    scope.add_selector(Binding(name, SelectorNot(operand.name), None), False)


def _add_width(scope: Scope, name: str) -> None:
    """``selector_width`` of a selector."""
    selector = scope.chooser.choice(scope.sels)
    enc: Encoding = scope.chooser.choice(["cat", "num"])
    scope.add_sop(Binding(name, SelectorWidth(selector.name), enc), SOp(name, "num", False, enc))


def _add_aggregate(scope: Scope, name: str) -> None:
    """An ``aggregate`` that is well defined: a mean only over numbers, narrow selectors or
    constants; ``sum``/``max``/``min`` only over defined numbers."""
    selector = scope.chooser.choice(scope.sels)
    # indices is always a defined number, so sum/max/min always have an operand
    numbers = [s for s in scope.sops if s.kind == "num" and not s.maybe_none]
    averageable = [s for s in scope.sops if s.encoding == "num" or selector.narrow or s.constant]
    reductions = (["mean", "mean"] if averageable else []) + ["sum", "max", "min"]
    reduce = scope.chooser.choice(reductions)
    sop = scope.chooser.choice(averageable if reduce == "mean" else numbers)
    default = _aggregate_default(scope, sop)
    out_kind: Kind = sop.kind if reduce == "mean" and sop.encoding == "cat" else "num"
    maybe_none = default is None or sop.maybe_none
    node = Aggregate(selector.name, sop.name, reduce, default)
    scope.add_sop(Binding(name, node, sop.encoding), SOp(name, out_kind, maybe_none, sop.encoding))


def _add_vote(scope: Scope, name: str) -> None:
    """A ``pooled_vote`` of 1-3 string labels over 1-2 defined s-ops, every score a number;
    ``none`` or a label on empty rows."""
    selector = scope.chooser.choice(scope.sels)
    defined = [s for s in scope.sops if not s.maybe_none]
    inputs = [scope.chooser.choice(defined) for _ in range(scope.chooser.integer(1, 2))]
    labels = tuple(distinct_choices(scope.chooser, scope.literals.strings, 1, 3))
    params = ("x", "y")[: len(inputs)]
    kinds = [s.kind for s in inputs]
    scores = tuple(scope.function("num", kinds, params) for _ in labels)
    default: Value = scope.chooser.choice([None, labels[0]])
    node = PooledVote(selector.name, scores, tuple(s.name for s in inputs), labels, default)
    scope.add_sop(Binding(name, node, "cat"), SOp(name, "str", default is None, "cat"))


def _aggregate_default(scope: Scope, sop: SOp) -> Value:
    """A default for an aggregate of ``sop``: a small number for ``num``, else often ``none``."""
    if sop.encoding == "num":
        return scope.chooser.choice([0, 0, 0, 1, 2])
    if sop.kind != "any" and scope.chooser.integer(0, 3) == 0:
        return scope.chooser.choice(scope.literals.pool(sop.kind))
    return None


# One rule per binding form; each draws its operands from the scope and binds the result.
_BINDING_FORMS: dict[str, Callable[[Scope, str], None]] = {
    "full": _add_full,
    "map": _add_map,
    "select": lambda scope, name: _add_select(scope, name, closest=False),
    "closest": lambda scope, name: _add_select(scope, name, closest=True),
    "and": _add_and,
    "or": _add_or,
    "not": _add_not,
    "width": _add_width,
    "aggregate": _add_aggregate,
}


def program_input(chooser: Chooser, head: Header) -> list[Value]:
    """One valid content-token list of length 0..max_len."""
    return [chooser.choice(head.vocab) for _ in range(chooser.integer(0, head.max_len))]
