"""Moore-machine extraction (reference §8, with the fixes of §16-§17): a GeneralRNN, input
sequences, their alphabet and a tolerance in; the minimal finite machine that the RNN's hidden
states trace, with the data it was read from, out (or a RaspError saying, with numbers, why the
RNN is not such a machine).

1. **Trace every step.** Each sequence is run from ``h_0 = 0``; every hidden state ``h_t`` and
   every transition ``(h_{t-1}, x_t) -> h_t`` is kept, not only the last one.
2. **Discretise with a guarantee.** Greedy leader clustering in the max-norm: the first state
   not yet in a cluster (``h_0`` first, then in trace order) leads a new cluster holding every
   unclustered state within ``tolerance`` of it. Every state is therefore within ``tolerance``
   of its cluster's representative (its leader). Extraction is refused unless representatives
   are more than ``2 * tolerance`` apart: then each state is within ``tolerance`` of exactly
   one representative, so the clusters do not depend on the order states were visited in.
3. **Single-valued tables.** ``delta[(cluster, symbol)]`` is the cluster the RNN went to, and
   ``output[cluster]`` is ``round(readout(representative))``. Extraction is refused when an
   observed (cluster, symbol) led to two clusters, or when a member of a cluster rounds to
   another output than its representative.
4. **Don't-cares.** A (cluster, symbol) that no sequence took says nothing about the RNN. It is
   completed as a self-loop (no state is added for it) and recorded in
   :attr:`Extraction.unobserved`; the completed machine agrees with the RNN on every traced
   sequence whatever the completion. Choosing the completion that minimises the state count is
   NP-hard in general; the self-loop is a cheap choice that never adds a state.
5. **Minimise** (:meth:`FiniteMachine.minimise`); the initial state is the cluster of ``h_0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from rasp_ir.api import RaspError

from .machine import FiniteMachine, Symbol
from .rnn import GeneralRNN
from .task_spec import Alphabet, IntArray

FloatArray = npt.NDArray[np.float64]
DEFAULT_TOLERANCE = 0.1
DEFAULT_MAX_STATES = 256
METHODS = ("geometric", "behaviour")


@dataclass(frozen=True)
class Extraction:
    """A machine read off an RNN, and what it was read from.

    ``machine`` is minimal; ``clustered`` is the machine on the clusters before minimisation
    (state ``k`` is cluster ``k``). ``representatives[k]`` is cluster ``k``'s hidden state and
    ``sizes[k]`` how many traced states fell in it. ``max_deviation`` is the largest max-norm
    distance of a state from its representative (at most the tolerance), ``min_separation``
    the smallest between two representatives (more than twice the tolerance; infinite for one
    cluster). ``observed`` counts traced transitions; ``unobserved`` lists the (cluster,
    symbol index) pairs no sequence took (and, by behaviour, the RNN did not settle),
    completed as self-loops. ``method`` is
    ``"geometric"`` or ``"behaviour"`` (:mod:`.extract_behaviour`, where the clusters are
    behaviour classes up to ``depth`` steps, the representative is a class's first traced
    state, and the deviation and separation are informative only: no bound holds for them;
    ``queried`` counts the unobserved pairs whose target the RNN itself gave).
    """

    machine: FiniteMachine
    clustered: FiniteMachine
    representatives: FloatArray
    sizes: tuple[int, ...]
    tolerance: float
    max_deviation: float
    min_separation: float
    observed: int
    unobserved: tuple[tuple[int, int], ...]
    method: str = "geometric"
    depth: int | None = None
    queried: int = 0


def alphabet_symbols(alphabet: Alphabet) -> tuple[Symbol, ...]:
    """A task's alphabet as machine symbols: its integers, or every pair of them (first element
    major)."""
    values = range(alphabet.low, alphabet.high + 1)
    if alphabet.width == 1:
        return tuple(values)
    return tuple((a, b) for a in values for b in values)


def symbol_indices(inputs: npt.ArrayLike, alphabet: Sequence[Symbol]) -> IntArray:
    """Input sequences ``(n, T)`` (integer symbols) or ``(n, T, 2)`` (pairs) as the indices of
    their symbols in ``alphabet``, ``(n, T)``; a RaspError names a symbol outside it."""
    x = np.asarray(inputs, dtype=np.int64)
    pairs = isinstance(alphabet[0], tuple)
    if x.ndim != (3 if pairs else 2) or (pairs and x.shape[2] != 2):
        shape = "(n, T, 2)" if pairs else "(n, T)"
        raise RaspError.single(
            "mips-extract", f"inputs of shape {x.shape} do not fit the alphabet: expected {shape}"
        )
    keys = [tuple(row) for row in x.reshape(-1, 2 if pairs else 1).tolist()]
    index: dict[tuple[int, ...], int] = {
        (s if isinstance(s, tuple) else (s,)): a for a, s in enumerate(alphabet)
    }
    missing = sorted({k for k in keys if k not in index})
    if missing:
        shown = list(missing[0]) if pairs else missing[0][0]
        raise RaspError.single(
            "mips-extract",
            f"input symbol {shown} is not in the alphabet ({len(missing)} unknown symbol(s))",
        )
    return np.array([index[k] for k in keys], dtype=np.int64).reshape(x.shape[0], x.shape[1])


def model_inputs(indices: IntArray, alphabet: Sequence[Symbol]) -> torch.Tensor:
    """Symbol indices ``(n, T)`` as the RNN's real-valued inputs ``(n, T, d_in)``."""
    table = np.array([s if isinstance(s, tuple) else (s,) for s in alphabet], dtype=np.float64)
    return torch.from_numpy(table[indices])


def trace_states(model: GeneralRNN, x: torch.Tensor) -> FloatArray:
    """Every hidden state of ``model`` on inputs ``x`` ``(n, T, d_in)``, ``h_0 = 0`` included:
    ``(n, T + 1, D)``."""
    with torch.no_grad():
        _, hidden = model(x)
        start = model.initial_state(x.shape[0]).unsqueeze(1)
        states: FloatArray = torch.cat([start, hidden], dim=1).double().cpu().numpy()
    return states


def leader_clusters(
    points: FloatArray, tolerance: float, max_states: int
) -> tuple[IntArray, FloatArray]:
    """Greedy leader clustering of ``points`` ``(N, D)`` in the max-norm: the cluster of each
    point and the representatives ``(K, D)`` (see the module docstring). A RaspError when more
    than ``max_states`` clusters are needed."""
    label = np.full(len(points), -1, dtype=np.int64)
    leaders: list[FloatArray] = []
    while (free := np.flatnonzero(label < 0)).size:
        if len(leaders) == max_states:
            raise RaspError.single(
                "mips-extract",
                f"the hidden states need more than {max_states} clusters of radius {tolerance} "
                f"({free.size} of {len(points)} states left unclustered)",
                hint="the RNN's states do not settle on finitely many points; a larger "
                "tolerance or --max-states may help",
            )
        leader = points[free[0]]
        near = np.max(np.abs(points[free] - leader), axis=1) <= tolerance
        label[free[near]] = len(leaders)
        leaders.append(leader)
    return label, np.stack(leaders)


def check_separation(representatives: FloatArray, tolerance: float) -> float:
    """The smallest max-norm distance between two representatives; a RaspError unless it is
    more than ``2 * tolerance``."""
    k = len(representatives)
    if k < 2:
        return float("inf")
    gaps = np.max(np.abs(representatives[:, None, :] - representatives[None, :, :]), axis=2)
    gaps[np.diag_indices(k)] = np.inf
    i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
    closest = float(gaps[i, j])
    if closest <= 2 * tolerance:
        raise RaspError.single(
            "mips-extract",
            f"hidden-state clusters {i} and {j} are {closest:.4g} apart (max-norm), not more "
            f"than 2 x tolerance = {2 * tolerance:.4g}: the states are not well separated",
            hint="the RNN is not (yet) a finite machine at this tolerance; a smaller tolerance "
            "may separate them, a larger one merge them",
        )
    return closest


def output_table(
    model: GeneralRNN, states: FloatArray, label: IntArray, representatives: FloatArray
) -> tuple[int, ...]:
    """``round(readout(representative))`` per cluster; a RaspError when a cluster's member
    rounds to another output or the RNN has more than one output."""
    if model.config.output_dim != 1:
        raise RaspError.single(
            "mips-extract",
            f"the RNN has {model.config.output_dim} outputs per step; a machine has one",
        )
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        members = model.readout(torch.from_numpy(states).to(dtype))[:, 0]
        leaders = model.readout(torch.from_numpy(representatives).to(dtype))[:, 0]
    rounded, wanted = torch.round(members).long().numpy(), torch.round(leaders).long().numpy()
    wrong = np.flatnonzero(rounded != wanted[label])
    if wrong.size:
        at = int(wrong[0])
        raise RaspError.single(
            "mips-extract",
            f"cluster {label[at]} is not single-valued in its output: its representative "
            f"outputs {float(leaders[label[at]]):.4g} (rounds to {wanted[label[at]]}) but a "
            f"member outputs {float(members[at]):.4g} (rounds to {rounded[at]}); "
            f"{wrong.size} member(s) disagree",
            hint="a smaller tolerance splits such clusters",
        )
    return tuple(int(v) for v in wanted)


def transition_table(
    label: IntArray,
    indices: IntArray,
    n_clusters: int,
    n_symbols: int,
    hint: str = "a smaller tolerance separates the states that behave differently",
) -> tuple[IntArray, int]:
    """The observed transitions ``(K, S)`` (-1 where unobserved) of cluster labels ``(n, T+1)``
    on symbol indices ``(n, T)``, and how many transitions were traced; a RaspError when an
    observed (cluster, symbol) goes to two clusters."""
    before, symbol, after = label[:, :-1].ravel(), indices.ravel(), label[:, 1:].ravel()
    table = np.full((n_clusters, n_symbols), -1, dtype=np.int64)
    table[before, symbol] = after
    clash = np.flatnonzero(table[before, symbol] != after)
    if clash.size:
        at = int(clash[0])
        raise RaspError.single(
            "mips-extract",
            f"transitions are not single-valued: cluster {before[at]} on symbol index "
            f"{symbol[at]} goes to cluster {after[at]} and to cluster "
            f"{table[before[at], symbol[at]]} ({clash.size} traced transition(s) disagree)",
            hint=hint,
        )
    return table, before.size


def completed_machine(
    table: IntArray,
    output: tuple[int, ...],
    alphabet: Sequence[Symbol],
    steps: int,
    task: str | None,
    source: str | None,
) -> tuple[FiniteMachine, tuple[tuple[int, int], ...]]:
    """The machine on clusters ``0..K-1`` (cluster 0 initial) of an observed transition table
    ``(K, S)`` (-1 where unobserved, completed as self-loops) and its outputs, for traces of
    ``steps`` states; and the unobserved (cluster, symbol index) pairs."""
    k = len(table)
    unobserved = tuple((int(s), int(a)) for s, a in np.argwhere(table < 0))
    completed = np.where(table < 0, np.arange(k)[:, None], table)
    machine = FiniteMachine(
        alphabet=tuple(alphabet),
        state_names=tuple(f"c{s}" for s in range(k)),
        initial=0,
        delta=tuple(tuple(int(t) for t in row) for row in completed),
        output=output,
        max_len=steps - 1 if steps > 1 else None,
        task=task,
        source=source,
    )
    return machine, unobserved


def extract_machine(
    model: GeneralRNN,
    inputs: npt.ArrayLike,
    alphabet: Sequence[Symbol],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    max_states: int = DEFAULT_MAX_STATES,
    task: str | None = None,
    source: str | None = None,
    method: str = "geometric",
    depth: int | None = None,
) -> Extraction:
    """The minimal Moore machine that ``model`` traces on ``inputs`` (``(n, T)`` integer
    symbols or ``(n, T, 2)`` pairs, all in ``alphabet``), discretised at ``tolerance``
    (max-norm), and its data; ``task`` and ``source`` name it in the machine file. A RaspError
    with the numbers when the states are not well separated, the tables not single-valued, or
    more than ``max_states`` clusters are needed.

    ``method="behaviour"`` groups states by behaviour up to ``depth`` steps instead
    (:func:`.extract_behaviour.extract_by_behaviour`; ``tolerance`` is then unused)."""
    if method not in METHODS:
        raise RaspError.single(
            "mips-extract", f"unknown extraction method {method!r}: expected one of {METHODS}"
        )
    if method == "behaviour":
        from .extract_behaviour import DEFAULT_DEPTH, extract_by_behaviour

        return extract_by_behaviour(
            model,
            inputs,
            alphabet,
            depth=DEFAULT_DEPTH if depth is None else depth,
            max_states=max_states,
            task=task,
            source=source,
        )
    if not tolerance > 0:
        raise RaspError.single("mips-extract", f"tolerance must be positive, got {tolerance}")
    indices = symbol_indices(inputs, alphabet)
    if not len(indices):
        raise RaspError.single("mips-extract", "no input sequences to trace the RNN on")
    states = trace_states(model, model_inputs(indices, alphabet))
    n, steps, dim = states.shape
    flat = states.reshape(n * steps, dim)
    # h_0 is every row's first state, so it is the first leader: cluster 0 is the initial state.
    flat_label, representatives = leader_clusters(flat, tolerance, max_states)
    deviation = float(np.max(np.abs(flat - representatives[flat_label])))
    separation = check_separation(representatives, tolerance)
    output = output_table(model, flat, flat_label, representatives)
    k = len(representatives)
    table, observed = transition_table(flat_label.reshape(n, steps), indices, k, len(alphabet))
    clustered, unobserved = completed_machine(table, output, alphabet, steps, task, source)
    return Extraction(
        machine=clustered.minimise(),
        clustered=clustered,
        representatives=representatives,
        sizes=tuple(int(c) for c in np.bincount(flat_label, minlength=k)),
        tolerance=tolerance,
        max_deviation=deviation,
        min_separation=separation,
        observed=observed,
        unobserved=unobserved,
    )
