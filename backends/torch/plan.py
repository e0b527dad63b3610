"""A checked program in, a compile plan out: labelled residual dimensions, the heads of every
layer (attention scores and value copies) and the MLP tasks (a table over leaves, written as a
one-hot or a scalar), placed as early as their inputs allow (rasp-semantics §10-§12).

Placement: every channel has a ``ready`` sublayer (0 embedding, ``2L-1`` attention of layer L,
``2L`` MLP of layer L). A head goes to the first layer whose attention sees all its inputs; a
map is fused with the maps it reads into one table over leaves and materialised (as a one-hot
or a scalar) only where a head, an output or a later table needs it, by the first MLP that
sees its leaves, or by the embedding when it reads only ``tokens`` or only ``indices``. One MLP
can threshold only one fresh numeric channel at a time: older numeric leaves are replaced by
their class one-hots (computed by their own layer's MLP); when two fresh ones remain the map
moves one layer later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product
from typing import Literal

import numpy as np

from rasp_ir.api import (
    Diagnostic,
    ExprError,
    RaspError,
    Value,
    apply_lambda,
    canonical_values,
    code_of,
    distinct_inputs,
    format_value,
    ir,
    is_number,
    mean_mode,
    mean_values,
    never_empty,
    predicate_table,
    sum_values,
    value_key,
)
from rasp_ir.backends.torch.affine_maps import LinearForm, linear_table, materialize_linear
from rasp_ir.backends.torch.functions import (
    MAX_TABLE,
    Leaf,
    LeafKind,
    Table,
    align,
    behaviour_classes,
    constant,
    drop_constant_axes,
    identity,
    substitute,
    table_size,
    union_leaves,
)
from rasp_ir.backends.torch.mlp import Functional, Unit, is_affine

Rep = Literal["onehot", "scalar"]
MARGIN = 24.0  # logit margin between what must win and what must lose in a head


class Unsupported(Exception):
    """A construct this backend refuses; carries the binding and the reason."""

    def __init__(self, binding: ir.Binding | None, reason: str) -> None:
        super().__init__(reason)
        self.binding = binding
        self.reason = reason


@dataclass
class HeadPlan:
    """One attention head: ``scores[(query dim, key dim)]``, value moves ``(src, dst, w)``."""

    layer: int
    pattern: str
    selector: str
    scores: dict[tuple[int, int], float] = field(default_factory=dict)
    values: list[tuple[int, int, float]] = field(default_factory=list)
    computes: list[str] = field(default_factory=list)


@dataclass
class MlpTask:
    """Write ``table`` (as ``encoding``) into ``dims``: layer 0 is the embedding."""

    layer: int
    name: str
    table: Table
    rep: Rep
    dims: tuple[int, ...]
    values: tuple[Value, ...]
    # Hidden units written directly (a linear map, :mod:`.affine_maps`) instead of from the table.
    units: list[Unit] | None = None


@dataclass(frozen=True)
class Literal_:
    """One conjunct of a selector: a predicate table between key and query states."""

    keys: Leaf
    queries: Leaf
    table: np.ndarray


@dataclass
class OutputPlan:
    name: str
    rep: Rep
    leaf: Leaf


class Plan:
    """Everything the weight builder needs, filled by :func:`plan_program`."""

    def __init__(self, program: ir.Program, value_sets: dict[str, tuple[Value, ...]]) -> None:
        self.program = program
        self.sets = value_sets
        self.positions = program.header.positions
        self.labels: list[str] = []
        self.one = self.dim("one")
        self.bos = self.dim("bos")
        self.ratio_dims: set[int] = set()
        self.heads: list[HeadPlan] = []
        self.tasks: list[MlpTask] = []
        self.tables: dict[str, Table] = {}
        # Numerical maps affine in numerical inputs, kept as functionals (:mod:`.affine_maps`).
        self.linear: dict[str, LinearForm] = {}
        self.provided: dict[tuple[str, Rep], Leaf] = {}
        self.outputs: list[OutputPlan] = []
        # Categorical means that may average distinct values: (name, raw one-hot dims).
        self.mean_checks: list[tuple[str, tuple[int, ...]]] = []
        self.tokens = self._onehot_leaf("tokens", value_sets["tokens"], 0)
        self.indices = self._onehot_leaf("indices", value_sets["indices"], 0)
        self.tables["tokens"] = identity(self.tokens)
        self.tables["indices"] = identity(self.indices)
        self._class_count = 0
        self.c = 2.0 * (math.log(self.positions + 2) + 18.0)

    # ------------------------------------------------------------ residual layout

    def dim(self, label: str) -> int:
        self.labels.append(label)
        return len(self.labels) - 1

    def _onehot_leaf(self, name: str, states: tuple[Value, ...], ready: int) -> Leaf:
        defined = [v for v in states if v is not None]
        texts = [_value_label(v) for v in defined]
        if len(set(texts)) != len(texts):
            texts = [format_value(v) for v in defined]
        dims = tuple(self.dim(f"{name}:{t}") for t in texts)
        return Leaf(name, "onehot", states, ready, dims)

    def _leaf(self, name: str, kind: LeafKind, states: tuple[Value, ...], ready: int) -> Leaf:
        if kind == "onehot":
            return self._onehot_leaf(name, states, ready)
        if kind == "scalar":
            return Leaf(name, kind, states, ready, (self.dim(name),))
        if kind == "ratio":
            dim = self.dim(f"{name}:ratio")
            self.ratio_dims.add(dim)
            return Leaf(name, kind, states, ready, (dim,))
        a, b = self.dim(f"{name}:sum"), self.dim(f"{name}:ratio")
        self.ratio_dims.add(b)
        return Leaf(name, kind, states, ready, (a, b), max_count=self.positions)

    @property
    def n_layers(self) -> int:
        layers = [h.layer for h in self.heads] + [t.layer for t in self.tasks]
        return max(layers, default=0)

    # ------------------------------------------------------------ tables of s-ops

    def table(self, name: str) -> Table:
        if name not in self.tables and name in self.linear:
            self.tables[name] = linear_table(self, name)
        if name not in self.tables:
            if name != "length":
                raise KeyError(name)
            self.tables["length"] = identity(self._width_head("length", None, 1))
        return self.tables[name]

    def map_table(self, binding: ir.Binding) -> Table:
        node = binding.node
        assert isinstance(node, ir.Map)
        names = distinct_inputs(node)
        inputs = [self.table(n) for n in names]
        ready = max((leaf.ready for leaf in union_leaves(inputs)), default=0)
        inputs = [self._materialised(n, t, ready) for n, t in zip(names, inputs, strict=True)]
        leaves = union_leaves(inputs)
        if table_size(leaves) > MAX_TABLE:
            inputs = [self._compressed(n, t) for n, t in zip(names, inputs, strict=True)]
            leaves = union_leaves(inputs)
        if table_size(leaves) > MAX_TABLE:
            raise Unsupported(
                binding,
                f"its table over {len(leaves)} channels has more than {MAX_TABLE} entries",
            )
        fn, out = _tabulate(binding, [t.values for t in inputs], self.sets[binding.name])
        if not names:
            return constant(out[int(fn[()])])
        codes = fn[tuple(align(t, leaves) for t in inputs)]
        full = np.broadcast_to(codes, tuple(len(leaf.states) for leaf in leaves)).copy()
        return Table(leaves, full, out)

    def _materialised(self, name: str, table: Table, ready: int) -> Table:
        """``table``, or the identity of the one-hot channel already written for ``name`` when
        that is ready by ``ready`` (reading it delays nothing) and ``table`` spans more entries
        than ``name`` has values: a chain of maps a head materialises at every step (the blocks
        of a doubling construction) is then read one step back, not composed over every leaf
        of the chain."""
        leaf = self.provided.get((name, "onehot"))
        if leaf is None or leaf.ready > ready or table_size(table.leaves) <= len(table.values):
            return table
        return identity(leaf)

    def _compressed(self, name: str, table: Table) -> Table:
        """``table``, or, when it spans more entries than ``name`` has values (a map composed
        over the channels it reads), the identity of ``name`` materialised in its own MLP: what
        a map whose composed table would be too large reads instead."""
        if table_size(table.leaves) <= len(table.values):
            return table
        return identity(self.require(name, "onehot"))

    # ------------------------------------------------------------ materialisation

    def require(self, name: str, rep: Rep) -> Leaf:
        """A channel holding s-op ``name`` as a one-hot or a scalar."""
        key = (name, rep)
        if key not in self.provided and rep == "scalar" and name in self.linear:
            self.provided[key] = materialize_linear(self, name)
        if key not in self.provided:
            table = self.table(name)
            leaf = _identity_leaf(table, rep)
            if leaf is None:
                leaf = self.materialize(name, table, rep)
            self.provided[key] = leaf
        return self.provided[key]

    def materialize(self, name: str, table: Table, rep: Rep) -> Leaf:
        table = drop_constant_axes(table)
        ready = max((leaf.ready for leaf in table.leaves), default=0)
        embeddable = ready == 0 and len(table.leaves) <= 1
        # An MLP of layer L reads what is ready by sublayer 2L-1 (its own layer's attention).
        layer = 0 if embeddable else max(1, -(-(ready + 1) // 2))
        while True:
            resolved = self._resolve_numeric(table, layer, rep)
            if resolved is not None:
                break
            layer += 1
        if rep == "scalar":
            for value in resolved.values:
                if value is not None and not (is_number(value) or isinstance(value, bool)):
                    raise Unsupported(None, f"{name} takes the non-number {format_value(value)}")
        leaf = self._leaf(name, rep, resolved.values, 2 * layer)
        self.tasks.append(MlpTask(layer, name, resolved, rep, leaf.dims, resolved.values))
        return leaf

    def _resolve_numeric(self, table: Table, layer: int, rep: Rep) -> Table | None:
        """The table with older numeric leaves classified when one MLP needs it, or None."""
        numeric = [i for i, leaf in enumerate(table.leaves) if leaf.numeric]
        if len(numeric) <= 1 or (
            rep == "scalar" and is_affine(table, self._encoder(table, rep), self.one)
        ):
            return table
        for axis in numeric:
            leaf = table.leaves[axis]
            if leaf.ready >= 2 * layer - 1:
                continue
            classes = behaviour_classes(table, axis)
            self._class_count += 1
            class_table = Table(
                (leaf,), np.array(classes, dtype=np.int64), tuple(range(max(classes) + 1))
            )
            class_leaf = self.materialize(
                f"{leaf.name}#class{self._class_count}", class_table, "onehot"
            )
            table = substitute(table, axis, class_leaf, classes)
        numeric = [i for i, leaf in enumerate(table.leaves) if leaf.numeric]
        return table if len(numeric) <= 1 else None

    def _encoder(self, table: Table, rep: Rep) -> _Encoder:
        dims = tuple(range(len(table.values)))
        return _Encoder(rep, table.values, dims, 0)

    # ------------------------------------------------------------ heads

    def place(self, needs: list[Leaf]) -> int:
        """The first layer whose attention sees every channel of ``needs``: the next one after
        the layer that wrote the latest (a head's output is not seen by its own layer)."""
        ready = max((leaf.ready for leaf in needs), default=0)
        return (ready + 1) // 2 + 1

    def head(
        self, layer: int, pattern: str, selector: str, scores: dict[tuple[int, int], float]
    ) -> HeadPlan:
        for head in self.heads:
            if head.layer == layer and head.pattern == pattern and head.selector == selector:
                return head
        plan = HeadPlan(layer, pattern, selector, scores)
        self.heads.append(plan)
        return plan

    def _width_head(self, name: str, selector: str | None, min_layer: int) -> Leaf:
        if selector is None:
            literals = [
                Literal_(
                    self.tokens,
                    self.tokens,
                    np.ones((len(self.tokens.states),) * 2, dtype=np.bool_),
                )
            ]
            key = "length"
            states = self.sets["length"]
        else:
            literals = self.literals(selector)
            key = selector
            states = tuple(range(self.positions + 1))
        layer = max(min_layer, self.place([x for lit in literals for x in (lit.keys, lit.queries)]))
        scores = self._conj_scores(literals, bos=len(literals) * self.c)
        head = self.head(layer, "count", key, scores)
        leaf = self._leaf(name, "ratio", states, 2 * layer - 1)
        head.values.append((self.bos, leaf.dims[0], 1.0))
        head.computes.append(name)
        return leaf

    def _conj_scores(self, literals: list[Literal_], bos: float) -> dict[tuple[int, int], float]:
        scores: dict[tuple[int, int], float] = {}
        for lit in literals:
            for k, q in zip(*np.nonzero(lit.table), strict=True):
                kd, qd = lit.keys.state_dim(int(k)), lit.queries.state_dim(int(q))
                if kd is None or qd is None:
                    continue
                scores[(qd, kd)] = scores.get((qd, kd), 0.0) + self.c
        scores[(self.one, self.bos)] = bos
        return scores

    # ------------------------------------------------------------ selectors

    def literals(self, selector: str) -> list[Literal_]:
        """The selector as a conjunction of predicate tables between one-hot channels."""
        formula = _nnf(self.program, selector, False)
        conjuncts = _conjuncts(formula)
        if conjuncts is not None:
            return [self._literal(name, negated) for name, negated in conjuncts]
        return [self._tuple_literal(selector, formula)]

    def _atom(self, name: str) -> tuple[str, str, np.ndarray]:
        binding = self.program.binding(name)
        node = binding.node
        if not isinstance(node, ir.Select):
            raise Unsupported(binding, "select_closest cannot be combined with and/or/not")
        key_set, query_set = self.table(node.keys).values, self.table(node.queries).values
        table = predicate_table(node.predicate, key_set, query_set, span=binding.span)
        return node.keys, node.queries, table

    def _literal(self, name: str, negated: bool) -> Literal_:
        keys, queries, table = self._atom(name)
        if negated:
            table = ~table
        key_leaf, key_codes = self._side(keys)
        query_leaf, query_codes = self._side(queries)
        picked = table[np.ix_(key_codes, query_codes)]
        picked[[s is None for s in key_leaf.states], :] = False
        picked[:, [s is None for s in query_leaf.states]] = False
        return Literal_(key_leaf, query_leaf, picked)

    def _side(self, name: str) -> tuple[Leaf, list[int]]:
        """The one-hot channel a select reads for ``name`` and the code of each of its states.

        A map of a single one-hot channel (``indices - 1``) is folded into the predicate
        table instead of being materialised, unless the channel's undefined state (the zero
        vector, which no score can read) stands for a defined value, as a defaulted
        aggregate's raw channel does where the head found no key."""
        table = self.table(name)
        if len(table.leaves) == 1 and table.leaves[0].kind == "onehot":
            (leaf,) = table.leaves
            folded = [int(c) for c in table.codes]
            undefined = [
                table.values[c] for s, c in zip(leaf.states, folded, strict=True) if s is None
            ]
            if all(value is None for value in undefined):
                return leaf, folded
        leaf = self.require(name, "onehot")
        codes = code_of(table.values)
        return leaf, [codes.get(value_key(s), 0) for s in leaf.states]

    def _tuple_literal(self, selector: str, formula: _Formula) -> Literal_:
        atoms = sorted(_atoms(formula))
        parts = {name: self._atom(name) for name in atoms}
        key_names = list(dict.fromkeys(parts[a][0] for a in atoms))
        query_names = list(dict.fromkeys(parts[a][1] for a in atoms))
        key_table, key_states = self._tuple_table(key_names)
        query_table, query_states = self._tuple_table(query_names)
        truth: dict[str, np.ndarray] = {}
        for name in atoms:
            keys, queries, table = parts[name]
            k_axis, q_axis = key_names.index(keys), query_names.index(queries)
            truth[name] = table[np.ix_(key_states[:, k_axis], query_states[:, q_axis])]
        combined = _evaluate(formula, truth)
        key_leaf = self.materialize(f"{selector}#keys", key_table, "onehot")
        if query_names == key_names:
            query_leaf = key_leaf
        else:
            query_leaf = self.materialize(f"{selector}#queries", query_table, "onehot")
        return Literal_(key_leaf, query_leaf, combined)

    def _tuple_table(self, names: list[str]) -> tuple[Table, np.ndarray]:
        tables = [self.table(n) for n in names]
        leaves = union_leaves(tables)
        sizes = [len(t.values) for t in tables]
        aligned = [align(t, leaves) for t in tables]
        shape = tuple(len(leaf.states) for leaf in leaves)
        flat = np.ravel_multi_index(tuple(np.broadcast_to(a, shape) for a in aligned), sizes)
        reachable, codes = np.unique(flat, return_inverse=True)
        states = np.stack(np.unravel_index(reachable, sizes), axis=1)
        values = tuple(range(len(reachable)))
        return Table(leaves, codes.reshape(shape).astype(np.int64), values), states


# ---------------------------------------------------------------- helpers


def _tabulate(
    binding: ir.Binding, input_sets: list[tuple[Value, ...]], known: tuple[Value, ...]
) -> tuple[np.ndarray, tuple[Value, ...]]:
    """The map's output codes over the channels' states, which may include states the
    interpreter never reaches (those may fail or give new values; they are never read)."""
    node = binding.node
    assert isinstance(node, ir.Map)
    names = distinct_inputs(node)
    results: dict[tuple[int, ...], Value] = {}
    for index in product(*(range(len(s)) for s in input_sets)):
        by_name = {n: input_sets[a][i] for a, (n, i) in enumerate(zip(names, index, strict=True))}
        args = tuple(by_name[n] for n in node.inputs)
        if any(a is None for a in args):
            results[index] = node.default
            continue
        try:
            results[index] = apply_lambda(node.fn, args)
        except ExprError:
            results[index] = known[0] if known else None
    out = canonical_values((*known, *results.values()))
    codes = code_of(out)
    table = np.zeros(tuple(len(s) for s in input_sets), dtype=np.int64)
    for index, value in results.items():
        table[index] = codes[value_key(value)]
    return table, out


class _Encoder:
    """Codes of a table to functionals on its target dimensions."""

    def __init__(self, rep: Rep, values: tuple[Value, ...], dims: tuple[int, ...], _: int) -> None:
        self.rep = rep
        self.values = values
        self.dims = dims
        defined = [i for i, v in enumerate(values) if v is not None]
        self._places = {code: place for place, code in enumerate(defined)}

    def __call__(self, code: int) -> Functional:
        value = self.values[code]
        if self.rep == "scalar":
            number = float(value) if isinstance(value, (int, bool)) or is_number(value) else 0.0  # type: ignore[arg-type]
            return {self.dims[0]: number} if number else {}
        if value is None:
            return {}
        return {self.dims[self._places[code]]: 1.0}


def encoder(task: MlpTask) -> _Encoder:
    return _Encoder(task.rep, task.values, task.dims, 0)


def _value_label(value: Value) -> str:
    return value if isinstance(value, str) else format_value(value)


def _identity_leaf(table: Table, rep: Rep) -> Leaf | None:
    if len(table.leaves) != 1:
        return None
    (leaf,) = table.leaves
    if leaf.kind != rep:
        return None
    mapped = [value_key(table.values[int(c)]) for c in table.codes]
    if mapped != [value_key(s) for s in leaf.states]:
        return None
    return leaf


_Formula = tuple[object, ...]


def _nnf(program: ir.Program, name: str, negated: bool) -> _Formula:
    node = program.binding(name).node
    if isinstance(node, ir.SelectorNot):
        return _nnf(program, node.operand, not negated)
    if isinstance(node, (ir.SelectorAnd, ir.SelectorOr)):
        is_and = isinstance(node, ir.SelectorAnd) != negated
        left, right = _nnf(program, node.left, negated), _nnf(program, node.right, negated)
        return ("and" if is_and else "or", left, right)
    return ("atom", name, negated)


def _conjuncts(formula: _Formula) -> list[tuple[str, bool]] | None:
    if formula[0] == "atom":
        return [(str(formula[1]), bool(formula[2]))]
    if formula[0] == "and":
        left = _conjuncts(formula[1])  # type: ignore[arg-type]
        right = _conjuncts(formula[2])  # type: ignore[arg-type]
        return None if left is None or right is None else left + right
    return None


def _atoms(formula: _Formula) -> set[str]:
    if formula[0] == "atom":
        return {str(formula[1])}
    return _atoms(formula[1]) | _atoms(formula[2])  # type: ignore[arg-type]


def _evaluate(formula: _Formula, truth: dict[str, np.ndarray]) -> np.ndarray:
    if formula[0] == "atom":
        value = truth[str(formula[1])]
        return ~value if formula[2] else value
    left = _evaluate(formula[1], truth)  # type: ignore[arg-type]
    right = _evaluate(formula[2], truth)  # type: ignore[arg-type]
    combined: np.ndarray = left & right if formula[0] == "and" else left | right
    return combined


def unsupported_error(problems: list[Unsupported]) -> RaspError:
    return RaspError(
        Diagnostic(
            "unsupported",
            f"{p.binding.name + ': ' if p.binding else ''}{p.reason} (torch backend)",
            p.binding.span if p.binding else None,
            "rewrite the construct, or use the python backend",
        )
        for p in problems
    )


__all__ = ["Plan", "mean_mode", "mean_values", "never_empty", "sum_values"]
