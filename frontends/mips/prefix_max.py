"""Prefix max, the construction for machines whose state is the running maximum of a key of the
input (Max_Seen, Min_Seen, "has a 1 occurred"): a machine in, the bindings of one attention
layer that takes the largest key up to each position, and one table from it to the output (or
None when the machine is not of that kind).

Let ``S_a`` be the state the first symbol ``a`` leads to. The machine is a running maximum when
its states ``S_a`` are totally ordered and each step keeps the larger of the state and the
symbol's own state: ``delta(S_a, b)`` is ``S_a`` when ``S_a`` ranks at or above ``S_b`` and
``S_b`` otherwise. By induction the state after ``x_0..x_t`` is then ``S`` of the input of
highest rank so far, which ``aggregate(select(indices, indices, <=), key, reduce=max)`` reads
in one layer. When the ranks grow (or shrink) with the token itself the tokens are the key
(``max`` or ``min`` of the tokens); otherwise a map gives each token its rank.
"""

from __future__ import annotations

from itertools import pairwise

from rasp_ir.api import Value, ir

from .construction import OUTPUT, Construction, table_binding
from .machine import FiniteMachine

PREFIX_MAX = "prefix_max"
RANK = "rank"


def state_ranks(machine: FiniteMachine) -> dict[int, int] | None:
    """The rank of each state ``S_a`` (0 the lowest) when ``machine`` keeps a running maximum
    of them, else None."""
    first = [machine.delta[machine.initial][a] for a in range(len(machine.alphabet))]
    states = sorted(set(first))
    symbol_of = {s: first.index(s) for s in states}
    beats: dict[int, set[int]] = {s: set() for s in states}
    for u in states:
        for b, v in enumerate(first):
            after = machine.delta[u][b]
            if after not in (u, v):
                return None
            if u == v:
                continue
            if after == u:
                beats[u].add(v)
            if machine.delta[v][symbol_of[u]] != after:
                return None
    ranks = {s: len(won) for s, won in beats.items()}
    if sorted(ranks.values()) != list(range(len(states))):
        return None
    return ranks


def prefix_max(machine: FiniteMachine, max_len: int) -> Construction | None:
    """The prefix-max construction of ``machine`` (for every length, ``max_len`` unused), or
    None when the machine is not a running maximum."""
    del max_len  # one layer and one table at every length
    ranks = state_ranks(machine)
    if ranks is None:
        return None
    tokens = machine.tokens
    first = [machine.delta[machine.initial][a] for a in range(len(tokens))]
    rank_of = [ranks[s] for s in first]
    order = sorted(range(len(tokens)), key=lambda a: tokens[a])
    rising = all(rank_of[a] <= rank_of[b] for a, b in pairwise(order))
    falling = all(rank_of[a] >= rank_of[b] for a, b in pairwise(order))
    bindings: list[ir.Binding] = []
    if rising or falling:
        reduce, key, running = (
            ("max", "tokens", "running_max") if rising else ("min", "tokens", "running_min")
        )
        keys: list[Value] = list(tokens)
        described = f"the {reduce} of the tokens"
    else:
        reduce, key, running = "max", RANK, "running_rank"
        rank_table: dict[tuple[Value, ...], Value] = {
            (t,): r for t, r in zip(tokens, rank_of, strict=True)
        }
        rank, _ = table_binding(
            RANK,
            ("token",),
            ("tokens",),
            rank_table,
            f"{RANK}: the rank of the state each input leads to",
        )
        bindings.append(rank)
        keys = list(rank_of)
        described = "the largest rank"
    select = ir.Select("indices", "indices", ir.Comparison("<="))
    bindings += [
        ir.Binding(f"{running}__select", select, None),
        ir.Binding(
            running,
            ir.Aggregate(f"{running}__select", key, reduce=reduce),
            "cat",
            comment=f"{running}: {described} over the inputs up to here",
        ),
    ]
    outputs: dict[tuple[Value, ...], Value] = {
        (k,): machine.output[s] for k, s in zip(keys, first, strict=True)
    }
    comment = f"{OUTPUT}: the machine's output in the state of {running}"
    if all(key_ == (value,) for key_, value in outputs.items()):
        readout = ir.Binding(
            OUTPUT, ir.Map(ir.Lambda(("m",), ir.Param("m")), (running,)), "cat", comment=comment
        )
        entries = 0
    else:
        readout, entries = table_binding(OUTPUT, ("m",), (running,), outputs, comment)
    bindings.append(readout)
    return Construction(
        name=PREFIX_MAX,
        bindings=tuple(bindings),
        attention_layers=1,
        table_entries=entries,
        summary=(
            f"Construction: prefix max. The machine keeps a running maximum: its {len(ranks)} "
            "states after one input are totally ordered and each input moves the state to the "
            "larger of the two. One attention layer takes "
            f"{described} over the inputs so far, and one table maps it to the output."
        ),
        details={"ranked_states": len(ranks), "reduce": reduce, "key": key},
    )
