"""Program-to-program rewrites: a :class:`~rasp_ir.ir.Program` in, a smaller equivalent one out.

Also the two analyses the rewrites (and layer allocation) are built on: which names the
outputs depend on (:func:`live_names`) and which bindings compute the same thing
(:func:`structural_representatives`, hash-consing bottom-up).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from rasp_ir.ir import (
    Aggregate,
    Binding,
    Encoding,
    Full,
    Map,
    Node,
    PooledVote,
    Program,
    Select,
    SelectClosest,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    operands,
)
from rasp_ir.values import Value


def rename_operands(node: Node, mapping: Mapping[str, str]) -> Node:
    """``node`` reading ``mapping[name]`` instead of each operand ``name`` found in ``mapping``."""

    def rename(name: str) -> str:
        return mapping.get(name, name)

    if isinstance(node, Full):
        return node
    if isinstance(node, Map):
        return dataclasses.replace(node, inputs=tuple(rename(n) for n in node.inputs))
    if isinstance(node, (Select, SelectClosest)):
        return dataclasses.replace(node, keys=rename(node.keys), queries=rename(node.queries))
    if isinstance(node, (SelectorAnd, SelectorOr)):
        return dataclasses.replace(node, left=rename(node.left), right=rename(node.right))
    if isinstance(node, SelectorNot):
        return dataclasses.replace(node, operand=rename(node.operand))
    if isinstance(node, Aggregate):
        return dataclasses.replace(node, selector=rename(node.selector), sop=rename(node.sop))
    if isinstance(node, PooledVote):
        inputs = tuple(rename(n) for n in node.inputs)
        return dataclasses.replace(node, selector=rename(node.selector), inputs=inputs)
    return dataclasses.replace(node, selector=rename(node.selector))


def structural_key(
    node: Node, encoding: Encoding | None = None, domain: tuple[Value, ...] | None = None
) -> object:
    """A hashable key equal for two (node, encoding, domain) triples exactly when they compute
    the same thing. Unlike ``==`` on the IR it keeps ``True`` and ``1`` apart (``Full(True)``
    and ``Full(1)`` are different s-ops) and ignores source spans."""
    return (_freeze(node), encoding, _freeze(domain))


def _freeze(obj: object) -> object:
    """A type-tagged, hashable form of an IR value: dataclasses by their compared fields,
    tuples item by item, scalars tagged with their type."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        compared = (f.name for f in dataclasses.fields(obj) if f.compare)
        return (type(obj).__name__, *((name, _freeze(getattr(obj, name))) for name in compared))
    if isinstance(obj, tuple):
        return ("tuple", *(_freeze(item) for item in obj))
    if obj is None or isinstance(obj, (bool, int, Fraction, str)):
        return (type(obj).__name__, obj)
    raise TypeError(f"unexpected {type(obj).__name__} in an IR node")


def structural_representatives(program: Program) -> dict[str, str]:
    """Every binding name mapped to the first binding, in program order, that computes the same
    thing: same node once operands are replaced by their representatives, same encoding and
    same domain. Primitives are not in the table (each is its own representative)."""
    return structural_identity(program).representative


class _HashedKey:
    """A structural key with its hash computed once: keys are deep tuples, and rehashing every
    one at every lookup costs more than the rest of the analysis."""

    __slots__ = ("hash", "key")

    def __init__(self, key: object) -> None:
        self.key = key
        self.hash = hash(key)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, _HashedKey) and self.hash == other.hash and self.key == other.key


@dataclass(frozen=True)
class StructuralIdentity:
    """:func:`structural_representatives`, and which binding is the first with a given
    :func:`structural_key` (operands replaced by their representatives)."""

    representative: dict[str, str]
    _first_with_key: dict[_HashedKey, str]

    def first_with(self, key: object) -> str | None:
        """The first binding whose key is ``key``, if any."""
        return self._first_with_key.get(_HashedKey(key))


class StructureMemo:
    """Each binding's key from the last :func:`structural_identity` over a program's versions,
    reused while the binding is the same object and its operands' representatives the same."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[Binding, tuple[str, ...], _HashedKey]] = {}


def structural_identity(program: Program, memo: StructureMemo | None = None) -> StructuralIdentity:
    """The representatives of every binding of ``program``, bottom-up in program order;
    ``memo`` reuses the keys of unchanged bindings (same result)."""
    representative: dict[str, str] = {}
    first_with_key: dict[_HashedKey, str] = {}
    kept: dict[str, tuple[Binding, tuple[str, ...], _HashedKey]] = {}
    for binding in program.bindings:
        if memo is None:
            key = _HashedKey(_binding_key(binding, representative))
        else:
            read = tuple(representative.get(n, n) for n in operands(binding.node))
            last = memo.keys.get(binding.name)
            if last is not None and last[0] is binding and last[1] == read:
                key = last[2]
            else:
                key = _HashedKey(_binding_key(binding, representative))
            kept[binding.name] = (binding, read, key)
        representative[binding.name] = first_with_key.setdefault(key, binding.name)
    if memo is not None:
        memo.keys = kept
    return StructuralIdentity(representative, first_with_key)


def _binding_key(binding: Binding, representative: Mapping[str, str]) -> object:
    node = rename_operands(binding.node, representative)
    return structural_key(node, binding.encoding, binding.domain)


def live_names(program: Program) -> frozenset[str]:
    """The outputs and every name (binding or primitive) they depend on."""
    live = set(program.outputs)
    for binding in reversed(program.bindings):
        if binding.name in live:
            live.update(operands(binding.node))
    return frozenset(live)


def eliminate_dead_code(program: Program) -> Program:
    """``program`` without the bindings its outputs do not depend on (order preserved)."""
    live = live_names(program)
    kept = tuple(b for b in program.bindings if b.name in live)
    return dataclasses.replace(program, bindings=kept)


def merge_common_subexpressions(program: Program) -> Program:
    """``program`` with structurally identical bindings merged.

    Two bindings are merged when their nodes are equal after renaming operands to their
    representatives and their encodings and domains are equal (a ``cat`` and a ``num``
    re-annotation of one value are never merged, rasp-semantics §16.2). The first binding in
    program order is the representative; every later duplicate is removed and its users read
    the representative instead.

    Rule for outputs: a binding whose name is an output is never removed, so every output name
    survives. Such a duplicate stays in place, rewritten to read the representatives'
    operands; nothing else reads it (its users read the representative). The rewrite is
    idempotent: merging the result again changes nothing. Spans are kept.
    """
    representative = structural_representatives(program)
    outputs = set(program.outputs)
    kept: list[Binding] = []
    for binding in program.bindings:
        if representative[binding.name] != binding.name and binding.name not in outputs:
            continue
        node = rename_operands(binding.node, representative)
        kept.append(dataclasses.replace(binding, node=node))
    return dataclasses.replace(program, bindings=tuple(kept))


def optimize(program: Program) -> Program:
    """Common-subexpression merging, then dead-code elimination."""
    return eliminate_dead_code(merge_common_subexpressions(program))
