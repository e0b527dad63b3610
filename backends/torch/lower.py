"""The per-construct rules: a checked program in, a filled :class:`~.plan.Plan` out.

One rule per node kind (``Full``, ``Map``, ``Aggregate`` by reduction, ``SelectorWidth``);
selectors are compiled into the heads that use them. A construct the backend cannot compile
exactly raises :class:`~.plan.Unsupported` with its reason; every such construct is collected
before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rasp_ir.api import (
    TooLarge,
    Value,
    at_most_one_key,
    canonical_values,
    code_of,
    ir,
    is_number,
    mean_mode,
    mean_values,
    never_empty,
    normalize_number,
    predicate_table,
    rule_for,
    sum_values,
    value_key,
)
from rasp_ir.backends.torch.affine_maps import (
    absolute_leaf,
    linear_form,
    ratio_decoding_error,
    scaled_sum_leaf,
)
from rasp_ir.backends.torch.functions import (
    MAX_TABLE,
    Leaf,
    Table,
    align,
    constant,
    identity,
    table_size,
    union_leaves,
)
from rasp_ir.backends.torch.plan import (
    MARGIN,
    HeadPlan,
    Literal_,
    OutputPlan,
    Plan,
    Rep,
    Unsupported,
)


def plan_program(program: ir.Program, value_sets: dict[str, tuple[Value, ...]]) -> Plan:
    """Plan every live binding and output; raise :class:`Unsupported` list via ``problems``."""
    plan = Plan(program, value_sets)
    problems: list[Unsupported] = []
    failed: set[str] = set()
    for binding in program.bindings:
        if any(name in failed for name in ir.operands(binding.node)):
            failed.add(binding.name)
            continue
        try:
            rule_for(_RULES, binding, "the torch backend")(plan, binding)
        except Unsupported as problem:
            problems.append(problem if problem.binding else Unsupported(binding, problem.reason))
            failed.add(binding.name)
    for name in program.outputs:
        if name in failed or program.is_selector_name(name):
            continue
        rep: Rep = "onehot" if program.encoding_of(name) == "cat" else "scalar"
        try:
            plan.outputs.append(OutputPlan(name, rep, plan.require(name, rep)))
        except Unsupported as problem:
            problems.append(Unsupported(program.by_name.get(name), problem.reason))
    if problems:
        raise _Problems(problems)
    return plan


class _Problems(Exception):
    def __init__(self, problems: list[Unsupported]) -> None:
        super().__init__(f"{len(problems)} unsupported constructs")
        self.problems = problems


def _full(plan: Plan, binding: ir.Binding) -> None:
    assert isinstance(binding.node, ir.Full)
    plan.tables[binding.name] = constant(binding.node.value)


def _map(plan: Plan, binding: ir.Binding) -> None:
    form = linear_form(plan, binding)
    if form is not None:
        plan.linear[binding.name] = form
        return
    absolute = absolute_leaf(plan, binding)
    if absolute is not None:
        plan.tables[binding.name] = identity(absolute)
        return
    plan.tables[binding.name] = plan.map_table(binding)


def _selector(plan: Plan, binding: ir.Binding) -> None:
    """Selectors are compiled into the heads that use them; a select that may compare an
    undefined key or query is refused here (rasp-semantics §2.2)."""
    node = binding.node
    if not isinstance(node, (ir.Select, ir.SelectClosest)):
        return
    for role, name in (("key", node.keys), ("query", node.queries)):
        # The interpreter raises on an input where it is undefined; a transformer cannot
        # raise, and would read the undefined value as a no-match.
        if None in plan.sets[name]:
            raise Unsupported(
                binding,
                f"its {role} {name!r} can be undefined (none), an error the model cannot "
                f"raise; give {name!r} a default so that it is defined everywhere",
            )


def _width(plan: Plan, binding: ir.Binding) -> None:
    node = binding.node
    assert isinstance(node, ir.SelectorWidth)
    if isinstance(plan.program.binding(node.selector).node, ir.SelectClosest):
        raise Unsupported(binding, "selector_width of select_closest is not compiled")
    leaf = plan._width_head(binding.name, node.selector, 1)
    plan.tables[binding.name] = identity(leaf, plan.sets[binding.name])


def _aggregate(plan: Plan, binding: ir.Binding) -> None:
    if not _scaled_sum(plan, binding):
        _aggregate_by_head(plan, binding)


def _aggregate_by_head(plan: Plan, binding: ir.Binding) -> None:
    node = binding.node
    assert isinstance(node, ir.Aggregate)
    program = plan.program
    numeric = node.reduce == "sum" or (node.reduce == "mean" and mean_mode(program, node) == "num")
    value, source = _value_channel(plan, node.sop, numeric)
    may_be_empty = not never_empty(program, node.selector)
    selector = program.binding(node.selector)
    # Over a selector that picks at most one key a sum or a mean is that key's value.
    count = 1 if at_most_one_key(program, node.selector) else plan.positions
    reduce = node.reduce
    if isinstance(selector.node, ir.SelectClosest):
        # The closest head attends its one key (or BOS, or the sink) with all its weight, so
        # it moves the value itself, not the (sum, count) pair a sum's counting head reads:
        # a sum here is compiled as the mean of one key.
        reduce = "mean" if reduce == "sum" else reduce
        layer, head = _closest_head(plan, selector, value)
    else:
        literals = plan.literals(node.selector)
        layer = plan.place([value, *(x for lit in literals for x in (lit.keys, lit.queries))])
        head = _reduction_head(plan, node, layer, literals, value)
    head.computes.append(binding.name)
    fresh = 2 * layer - 1
    fix = may_be_empty and not _zero_default(node.default, numeric)
    raw_name = f"{binding.name}#raw" if fix else binding.name
    if reduce == "sum":
        numbers = _numbers(plan, node.sop, value)
        states = _sums(binding, numbers, count, sum_values)
        _check_ratio_decoding(binding, canonical_values((*states, 0)), numbers, count)
        raw = plan._leaf(raw_name, "sumratio", canonical_values((*states, 0)), fresh)
        head.values += [(src, raw.dims[0], w) for src, w in source] + [(plan.bos, raw.dims[1], 1.0)]
        out = canonical_values((*raw.states, *plan.sets[binding.name]))
        if not fix:
            plan.tables[binding.name] = identity(raw, out)
            return
        plan.tables[binding.name] = _sum_default(raw, count, node.default, out)
        return
    if numeric:
        states = _sums(binding, _numbers(plan, node.sop, value), count, mean_values)
        raw = plan._leaf(raw_name, "scalar", canonical_values((*states, 0)), fresh)
        head.values += [(src, raw.dims[0], w) for src, w in source]
        if not fix:
            plan.tables[binding.name] = identity(raw, canonical_values((*raw.states, 0)))
            return
        flag = plan._leaf(f"{binding.name}#bos", "scalar", (0, 1), fresh)
        head.values.append((plan.bos, flag.dims[0], 1.0))
        plan.tables[binding.name] = _numeric_default(raw, flag, node.default)
        return
    raw = plan._leaf(raw_name, "onehot", canonical_values((*value.states, None)), fresh)
    head.values += [(src, dst, 1.0) for src, dst in zip(value.dims, raw.dims, strict=True)]
    if node.reduce == "mean" and count > 1 and len(value.states) > 1:
        # The interpreter raises where the selected values differ; the model checks its
        # raw one-hot for a mixture when it runs.
        plan.mean_checks.append((binding.name, raw.dims))
    out = canonical_values((*raw.states, node.default))
    if fix and None not in value.states:
        out = canonical_values((*(s for s in raw.states if s is not None), node.default))
    if not fix:
        plan.tables[binding.name] = identity(raw, out)
        return
    codes = code_of(out)
    default = codes[value_key(node.default)]
    if None not in value.states:
        fixed = [default if s is None else codes[value_key(s)] for s in raw.states]
        plan.tables[binding.name] = Table((raw,), np.array(fixed, dtype=np.int64), out)
        return
    flag = plan._leaf(f"{binding.name}#bos", "scalar", (0, 1), fresh)
    head.values.append((plan.bos, flag.dims[0], 1.0))
    grid = [[codes[value_key(s)], default] for s in raw.states]
    plan.tables[binding.name] = Table((raw, flag), np.array(grid, dtype=np.int64), out)


def _scaled_sum(plan: Plan, binding: ir.Binding) -> bool:
    """Whether the sum ``binding`` went into a scalar channel holding it exactly (a selector
    of positions only, :func:`~.affine_maps.scaled_sum_leaf`); its default must be what the
    head gives on an empty row, 0."""
    node = binding.node
    assert isinstance(node, ir.Aggregate)
    if node.reduce != "sum" or isinstance(
        plan.program.binding(node.selector).node, ir.SelectClosest
    ):
        return False
    may_be_empty = not never_empty(plan.program, node.selector)
    if may_be_empty and not _zero_default(node.default, True):
        return False
    value, source = _value_channel(plan, node.sop, True)
    scaled = scaled_sum_leaf(plan, binding, value, source)
    if scaled is None:
        return False
    plan.tables[binding.name] = identity(scaled)
    return True


def _check_ratio_decoding(
    binding: ir.Binding, states: tuple[Value, ...], numbers: tuple[Value, ...], count: int
) -> None:
    """Refuse a sum whose ratio channel float32 cannot decode exactly
    (:func:`~.affine_maps.ratio_decoding_error`)."""
    summed = max((abs(float(v)) for v in numbers if v is not None), default=0.0)
    error = ratio_decoding_error(states, summed, count)
    if error >= 0.25:
        raise Unsupported(
            binding,
            f"its sum (up to {count} values of size up to {summed:g}, {len(states)} possible "
            f"sums) is held as a (sum, count) ratio that float32 cannot decode exactly (error "
            f"bound {error:.2g} steps, at most 0.25 allowed); narrow the summed values or "
            "lower %max_len (a sum over positions at or before the query, "
            "select(indices, indices, <=) or select(indices, indices - j, ==), is held "
            "exactly up to larger values)",
        )


def _reduction_head(
    plan: Plan, node: ir.Aggregate, layer: int, literals: list[Literal_], value: Leaf
) -> HeadPlan:
    n = len(literals)
    if node.reduce == "sum":
        return plan.head(layer, "count", node.selector, _scores(plan, literals, plan.c, n * plan.c))
    if node.reduce == "mean":
        return plan.head(
            layer, "mean", node.selector, _scores(plan, literals, plan.c, (n - 0.5) * plan.c)
        )
    defined = [i for i, s in enumerate(value.states) if s is not None]
    k = len(defined)
    c = MARGIN * (k - 1) + 2 * MARGIN + plan.c
    scores = _scores(plan, literals, c, (n - 1) * c + MARGIN * (k - 1) + MARGIN)
    for rank, state in enumerate(defined):
        weight = rank if node.reduce == "max" else k - 1 - rank
        dim = value.state_dim(state)
        assert dim is not None
        if weight:
            scores[(plan.one, dim)] = scores.get((plan.one, dim), 0.0) + MARGIN * weight
    return plan.head(layer, f"{node.reduce}:{node.sop}", node.selector, scores)


def _scores(
    plan: Plan, literals: list[Literal_], c: float, bos: float
) -> dict[tuple[int, int], float]:
    scores: dict[tuple[int, int], float] = {}
    for lit in literals:
        for k, q in zip(*np.nonzero(lit.table), strict=True):
            kd, qd = lit.keys.state_dim(int(k)), lit.queries.state_dim(int(q))
            if kd is not None and qd is not None:
                scores[(qd, kd)] = scores.get((qd, kd), 0.0) + c
    scores[(plan.one, plan.bos)] = bos
    return scores


def _closest_literal(plan: Plan, binding: ir.Binding) -> Literal_:
    node = binding.node
    assert isinstance(node, ir.SelectClosest)
    keys, queries = plan.require(node.keys, "onehot"), plan.require(node.queries, "onehot")
    table = predicate_table(node.predicate, keys.states, queries.states, span=binding.span)
    return Literal_(keys, queries, table)


def _closest_head(plan: Plan, selector: ir.Binding, value: Leaf) -> tuple[int, HeadPlan]:
    """The layer and head of an aggregate over ``select_closest`` moving ``value``."""
    literal = _closest_literal(plan, selector)
    needs = [value, literal.keys, literal.queries, plan.indices]
    key_at_bos: _KeyAtBos | None = None
    if plan.program.header.bos is not None:
        key_at_bos = _key_at_bos(plan, selector, literal)
        needs.append(key_at_bos.leaf)
    layer = plan.place(needs)
    scores = _closest_scores(plan, literal, key_at_bos)
    return layer, plan.head(layer, "closest", selector.name, scores)


@dataclass(frozen=True)
class _KeyAtBos:
    """The key BOS (position 0) holds, as dimensions of ``leaf``: ``dims[s]`` is 1 at a key
    position exactly when it is BOS and holds state ``s`` of the key channel."""

    leaf: Leaf
    dims: dict[int, int]


def _key_at_bos(plan: Plan, selector: ir.Binding, literal: Literal_) -> _KeyAtBos:
    """The key state at BOS, as a key-side feature a bilinear score can read.

    When the key is a function of ``tokens`` and ``indices`` alone, BOS's key is a constant
    and ``indices == 0`` marks it; otherwise an MLP writes the key again, at BOS only."""
    node = selector.node
    assert isinstance(node, ir.SelectClosest)
    table = plan.table(node.keys)
    states = {value_key(s): i for i, s in enumerate(literal.keys.states)}
    if all(leaf is plan.tokens or leaf is plan.indices for leaf in table.leaves):
        at = {id(plan.tokens): plan.program.header.bos, id(plan.indices): 0}
        index = tuple(_state_of(leaf, at[id(leaf)]) for leaf in table.leaves)
        key = table.values[int(table.codes[index])]
        first = plan.indices.state_dim(_state_of(plan.indices, 0))
        assert first is not None
        return _KeyAtBos(plan.indices, {} if key is None else {states[value_key(key)]: first})
    name = f"{node.keys}#at_bos"
    if name not in plan.tables:
        plan.tables[name] = _only_at_bos(plan, table)
    leaf = plan.require(name, "onehot")
    dims = {}
    for state, key in enumerate(leaf.states):
        dim = leaf.state_dim(state)
        # A value the key channel lacks is one the key never takes (a table lists them all).
        if dim is not None and value_key(key) in states:
            dims[states[value_key(key)]] = dim
    return _KeyAtBos(leaf, dims)


def _only_at_bos(plan: Plan, table: Table) -> Table:
    """``table`` at position 0 and none elsewhere, over its leaves and ``indices``."""
    indices = plan.table("indices")
    leaves = union_leaves([table, indices])
    if table_size(leaves) > MAX_TABLE:
        raise Unsupported(None, f"its key at BOS has a table of more than {MAX_TABLE} entries")
    shape = tuple(len(leaf.states) for leaf in leaves)
    values = canonical_values((*table.values, None))
    recode = np.array([code_of(values)[value_key(v)] for v in table.values], dtype=np.int64)
    codes = np.broadcast_to(recode[align(table, leaves)], shape)
    first = np.broadcast_to(align(indices, leaves) == _state_of(plan.indices, 0), shape)
    none = code_of(values)[value_key(None)]
    return Table(leaves, np.where(first, codes, none).astype(np.int64), values)


def _state_of(leaf: Leaf, value: Value) -> int:
    return [value_key(s) for s in leaf.states].index(value_key(value))


def _closest_scores(
    plan: Plan, literal: Literal_, key_at_bos: _KeyAtBos | None
) -> dict[tuple[int, int], float]:
    """Nearest match first (left wins ties), the query itself last; with %bos, BOS when
    nothing matches.

    Tiers (for ``P`` positions, ``spread = 2 P MARGIN``): a matched key scores at least
    ``spread + 3 MARGIN``, an unmatched BOS between ``MARGIN`` and ``spread - MARGIN``, the sink
    ``-MARGIN`` and any other unmatched key at most ``-2 MARGIN``; keys of one tier differ by
    ``MARGIN`` per step of distance rank. BOS's no-match bonus is taken back where BOS matches:
    there it is an ordinary key, and the bonus (larger than any difference in rank) would beat
    a nearer match."""
    positions = plan.positions
    spread = MARGIN * 2 * positions
    fallback = spread + MARGIN if key_at_bos is not None else 0.0
    c = spread + fallback + 2 * MARGIN
    scores = _scores(plan, [literal], c, MARGIN if key_at_bos is None else -MARGIN)
    index = plan.indices
    for i in range(positions):
        for j in range(positions):
            rank = 2 * positions if i == j else 2 * abs(j - i) + (1 if j > i else 0)
            qd, kd = index.state_dim(i), index.state_dim(j)
            assert qd is not None and kd is not None
            scores[(qd, kd)] = scores.get((qd, kd), 0.0) - MARGIN * rank
    if key_at_bos is None:
        return scores
    first = index.state_dim(_state_of(index, 0))
    assert first is not None
    scores[(plan.one, first)] = scores.get((plan.one, first), 0.0) + fallback
    for k, q in zip(*np.nonzero(literal.table), strict=True):
        kd, qd = key_at_bos.dims.get(int(k)), literal.queries.state_dim(int(q))
        if kd is not None and qd is not None:
            scores[(qd, kd)] = scores.get((qd, kd), 0.0) - fallback
    return scores


def _value_channel(plan: Plan, sop: str, numeric: bool) -> tuple[Leaf, list[tuple[int, float]]]:
    """The channel a head moves, and how it reads it: a number stored in a one-hot channel
    (``1 if t == "x" else 0`` of tokens) is read straight from the one-hot by the value map,
    unless the channel's undefined state (the zero vector, which moves 0) stands for another
    number, as a defaulted aggregate's raw channel does where its head found no key."""
    table = plan.table(sop)
    if numeric and len(table.leaves) == 1 and table.leaves[0].kind == "onehot":
        (leaf,) = table.leaves
        numbers = [table.values[int(c)] for c in table.codes]
        readable = all(
            number == 0 for state, number in zip(leaf.states, numbers, strict=True) if state is None
        )
        if readable and all(isinstance(v, (int, bool)) or is_number(v) for v in numbers):
            source = []
            for state, number in enumerate(numbers):
                dim = leaf.state_dim(state)
                if dim is not None and number:
                    source.append((dim, float(number)))
            return leaf, source
    if not numeric:
        # A one-hot is moved dimension by dimension (none of them for the constant none).
        return plan.require(sop, "onehot"), []
    leaf = plan.require(sop, "scalar")
    return leaf, [(leaf.dims[0], 1.0)]


def _numbers(plan: Plan, sop: str, value: Leaf) -> tuple[Value, ...]:
    if value.kind == "scalar":
        return value.states
    table = plan.table(sop)
    return canonical_values(table.values[int(c)] for c in np.unique(table.codes))


def _zero_default(default: Value, numeric: bool) -> bool:
    if numeric:
        return value_key(default) == value_key(0)
    return default is None


def _sums(
    binding: ir.Binding,
    states: tuple[Value, ...],
    positions: int,
    fn: Callable[[Sequence[Value], int], tuple[Value, ...]],
) -> tuple[Value, ...]:
    try:
        result: tuple[Value, ...] = fn([s for s in states if s is not None], positions)
    except TooLarge as error:
        raise Unsupported(binding, f"too many possible values ({error})") from error
    return result


def _sum_default(raw: Leaf, count: int, default: Value, out: tuple[Value, ...]) -> Table:
    """The sum, or ``default`` where the head found no key: the counting head's ratio
    dimension ``1/(w+1)``, read as the width ``w`` of the row, is 1 exactly there."""
    width = Leaf(f"{raw.name}#width", "ratio", tuple(range(count + 1)), raw.ready, raw.dims[1:])
    codes = code_of(out)
    grid = [[codes[value_key(default if w == 0 else s)] for w in width.states] for s in raw.states]
    return Table((raw, width), np.array(grid, dtype=np.int64), out)


def _numeric_default(raw: Leaf, flag: Leaf, default: Value) -> Table:
    """``raw + default * flag``: the raw mean is 0 exactly where the head attended BOS; the
    default ``none`` (a sum of a cat s-op, or over select_closest, may be undefined) where the
    flag is set."""
    if default is None:
        shifted: list[Value] = [None] * len(raw.states)
    else:
        shift = _as_fraction(default)
        shifted = [normalize_number(_as_fraction(s) + shift) for s in raw.states]
    out = canonical_values((*raw.states, *shifted))
    codes = code_of(out)
    grid = [
        [codes[value_key(s)], codes[value_key(t)]] for s, t in zip(raw.states, shifted, strict=True)
    ]
    return Table((raw, flag), np.array(grid, dtype=np.int64), out)


def _as_fraction(value: Value) -> Fraction:
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    raise Unsupported(None, f"the numerical default {value!r} is not a number")


_RULES = {
    ir.Full: _full,
    ir.Map: _map,
    ir.Select: _selector,
    ir.SelectClosest: _selector,
    ir.SelectorAnd: _selector,
    ir.SelectorOr: _selector,
    ir.SelectorNot: _selector,
    ir.SelectorWidth: _width,
    ir.Aggregate: _aggregate,
}
