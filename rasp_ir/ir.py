"""The IR: frozen, hashable program values (header, single-assignment bindings, outputs).

A program is flat: every operation is a named :class:`Binding` whose operands are names of
earlier bindings or of the primitives ``tokens``, ``indices`` and ``length``. Nested source
expressions get derived names (``x__select``) from the parser and are printed back inline.
Functions inside the IR (maps, predicates, tables) are :class:`Lambda` data in a small
expression language (the terms of :mod:`rasp_ir.terms`, re-exported here), never Python
callables. Source spans ride along but never take part in equality or hashing, so
``parse(print(p)) == p``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from rasp_ir.diagnostics import Span
from rasp_ir.term_eval import fold_constants
from rasp_ir.terms import Binary as Binary
from rasp_ir.terms import Call as Call
from rasp_ir.terms import Const as Const
from rasp_ir.terms import Expr as Expr
from rasp_ir.terms import IfElse as IfElse
from rasp_ir.terms import IRError as IRError
from rasp_ir.terms import Lookup as Lookup
from rasp_ir.terms import Member as Member
from rasp_ir.terms import Param as Param
from rasp_ir.terms import Unary as Unary
from rasp_ir.terms import map_children as map_children
from rasp_ir.values import Value

Encoding = Literal["cat", "num"]
PRIMITIVES: tuple[str, ...] = ("tokens", "indices", "length")
COMPARISONS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")
REDUCTIONS: tuple[str, ...] = ("mean", "sum", "max", "min")
EXPR_FUNCTIONS: tuple[str, ...] = ("min", "max", "abs", "round", "argmax")


# ---------------------------------------------------------------- functions


@dataclass(frozen=True)
class Lambda:
    """``fn(p1, ..., pn) -> body``: a function as data.

    The body is kept constant-folded (``abs(0)`` is stored as ``0``), so equal functions
    written differently compare equal and every body prints back to itself.
    """

    params: tuple[str, ...]
    body: Expr
    span: Span | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", fold_constants(self.body))


# ---------------------------------------------------------------- s-ops and selectors


@dataclass(frozen=True)
class Full:
    """A constant s-op: ``value`` at every position."""

    value: Value


@dataclass(frozen=True)
class Map:
    """Elementwise ``fn`` of one or more s-ops; ``default`` where any input is undefined."""

    fn: Lambda
    inputs: tuple[str, ...]
    default: Value = None


@dataclass(frozen=True)
class Comparison:
    """A predicate given by a bare operator or constant: ``==``, ``<``, ..., ``true``, ``false``.

    Read ``select(k, q, <)`` as "key < query".
    """

    op: str


Predicate = Comparison | Lambda


@dataclass(frozen=True)
class Select:
    """``select(keys, queries, predicate)``: ``S[i][j] = predicate(keys[j], queries[i])``."""

    keys: str
    queries: str
    predicate: Predicate


@dataclass(frozen=True)
class SelectClosest:
    """Transformer Programs' hard attention: the nearest matching key, left wins ties,
    the query's own position only when it is the sole match, BOS (position 0 when the
    program has a BOS token) when nothing matches."""

    keys: str
    queries: str
    predicate: Predicate


@dataclass(frozen=True)
class SelectorAnd:
    """Elementwise conjunction of two selectors."""

    left: str
    right: str


@dataclass(frozen=True)
class SelectorOr:
    """Elementwise disjunction of two selectors."""

    left: str
    right: str


@dataclass(frozen=True)
class SelectorNot:
    """Elementwise negation of a selector."""

    operand: str


@dataclass(frozen=True)
class Aggregate:
    """Reduce ``sop`` over the selected keys of each query; ``default`` on empty rows.

    ``mean`` follows RASP: one selected value is returned as is, several are averaged (a
    categorical mean is defined only when all selected values are equal). ``sum``, ``max`` and
    ``min`` reduce the selected values.
    """

    selector: str
    sop: str
    reduce: str = "mean"
    default: Value = None


@dataclass(frozen=True)
class SelectorWidth:
    """The number of selected keys of each query."""

    selector: str


@dataclass(frozen=True)
class PooledVote:
    """A pooled weighted vote (Transformer Programs' pooled classification readout): at each
    key position the ``scores`` functions, one per label, give a number from the ``inputs``
    there; each query takes the label whose mean score over its selected keys is largest, the
    first in ``labels`` on ties, and ``default`` when it selects no key.

    Means over one query's keys share their divisor, so they rank as the sums do: the vote is
    the first largest exact sum, computed without tabulating the means.
    """

    selector: str
    scores: tuple[Lambda, ...]
    inputs: tuple[str, ...]
    labels: tuple[Value, ...]
    default: Value = None

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.labels) or not self.labels:
            raise IRError("a vote needs one score function per label, and at least one label")
        if any(len(fn.params) != len(self.inputs) for fn in self.scores):
            raise IRError("every score function of a vote takes one parameter per input")


SOpNode = Full | Map | Aggregate | SelectorWidth | PooledVote
SelectorNode = Select | SelectClosest | SelectorAnd | SelectorOr | SelectorNot
Node = SOpNode | SelectorNode
SELECTOR_NODES = (Select, SelectClosest, SelectorAnd, SelectorOr, SelectorNot)


def is_selector(node: Node) -> bool:
    """True for selector nodes, false for s-op nodes."""
    return isinstance(node, SELECTOR_NODES)


def operands(node: Node) -> tuple[str, ...]:
    """The names a node reads, in source order (a name read twice appears twice)."""
    if isinstance(node, Full):
        return ()
    if isinstance(node, Map):
        return node.inputs
    if isinstance(node, (Select, SelectClosest)):
        return (node.keys, node.queries)
    if isinstance(node, (SelectorAnd, SelectorOr)):
        return (node.left, node.right)
    if isinstance(node, SelectorNot):
        return (node.operand,)
    if isinstance(node, Aggregate):
        return (node.selector, node.sop)
    if isinstance(node, PooledVote):
        return (node.selector, *node.inputs)
    return (node.selector,)


def kind_name(node: Node) -> str:
    """The name used for the node's kind in derived names and messages."""
    names: dict[type, str] = {
        Full: "const",
        Map: "map",
        Select: "select",
        SelectClosest: "select_closest",
        SelectorAnd: "and",
        SelectorOr: "or",
        SelectorNot: "not",
        Aggregate: "aggregate",
        SelectorWidth: "selector_width",
        PooledVote: "pooled_vote",
    }
    return names[type(node)]


# ---------------------------------------------------------------- programs


@dataclass(frozen=True)
class Annotation:
    """A declared encoding and optional value domain (an assertion the checker verifies)."""

    encoding: Encoding
    domain: tuple[Value, ...] | None = None


@dataclass(frozen=True)
class Binding:
    """``name [: annotation] = node``. ``encoding`` is None for selectors.

    ``comment`` is printed as ``#`` lines before the statement; like the span, it takes no
    part in equality (the parser does not recover it).
    """

    name: str
    node: Node
    encoding: Encoding | None
    domain: tuple[Value, ...] | None = None
    span: Span | None = field(default=None, compare=False, repr=False)
    comment: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Header:
    """Compile-time parameters.

    ``vocab``: the content tokens, in declared order. ``max_len``: the most content tokens an
    input may have. ``bos``: when set, every input carries this token at position 0 (a real
    position: ``indices`` start at 0 on BOS and ``length`` counts it). ``causal``: every
    selector is masked to keys at or before the query.
    """

    vocab: tuple[Value, ...]
    max_len: int
    bos: Value = None
    causal: bool = False

    @property
    def positions(self) -> int:
        """The most positions a sequence can have (``max_len``, plus one with BOS)."""
        return self.max_len + (1 if self.bos is not None else 0)


@dataclass(frozen=True)
class Program:
    """A whole program: header, bindings in dependency order, output names.

    ``comment`` is printed as ``#`` lines before the header; it takes no part in equality.
    """

    header: Header
    bindings: tuple[Binding, ...]
    outputs: tuple[str, ...]
    comment: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        seen: set[str] = set(PRIMITIVES)
        for binding in self.bindings:
            if binding.name in seen:
                raise IRError(f"name {binding.name!r} is bound twice")
            for name in operands(binding.node):
                if name not in seen:
                    raise IRError(f"{binding.name!r} reads {name!r} before it is bound")
            seen.add(binding.name)
        for name in self.outputs:
            if name not in seen:
                raise IRError(f"output {name!r} is not bound")

    @cached_property
    def by_name(self) -> dict[str, Binding]:
        """Bindings keyed by name."""
        return {b.name: b for b in self.bindings}

    def binding(self, name: str) -> Binding:
        """The binding called ``name`` (``KeyError`` if there is none)."""
        return self.by_name[name]

    def encoding_of(self, name: str) -> Encoding:
        """The encoding of an s-op name (primitives are categorical)."""
        if name in PRIMITIVES:
            return "cat"
        encoding = self.by_name[name].encoding
        if encoding is None:
            raise IRError(f"{name!r} is a selector, not an s-op")
        return encoding

    def is_selector_name(self, name: str) -> bool:
        """True when ``name`` is bound to a selector."""
        return name not in PRIMITIVES and is_selector(self.by_name[name].node)
