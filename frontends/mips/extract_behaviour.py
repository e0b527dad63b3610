"""Behavioural Moore-machine extraction: a GeneralRNN, input sequences, their alphabet and a
depth ``k`` in; the minimal machine on the RNN's traced hidden states grouped by what the RNN
does from them, out (or a RaspError saying why not).

Trained RNNs drift: their hidden states move continuously while the rounded outputs stay
right, so the geometric clusters of :mod:`.extract` are not separated and are refused. Here
two traced states are merged when the RNN, started from each, rounds to the same output now
and after every continuation of length 1 to ``k`` over the alphabet (a Myhill-Nerode quotient
up to depth ``k``, computed with the model itself, batched over states x continuations).

1. **Trace every step** from ``h_0 = 0``, as the geometric method does; identical states are
   computed once.
2. **Signatures.** For every distinct traced state, the rounded readout at every node of the
   continuation tree of depth ``k``: ``(|A|^(k+1) - 1) / (|A| - 1)`` outputs. Refused when
   ``distinct states x |A|^k`` exceeds :data:`MAX_CONTINUATIONS` (the size of the last level).
3. **Classes** are the distinct signatures, numbered in trace order (class 0 holds ``h_0``);
   a class's output is its signature's first entry. ``h_0``'s own output is never emitted (a
   Moore machine outputs after each step), so unless its value recurs later in the traces it
   is compared by its continuations only: it joins the first class with the same
   continuations whose traced transitions agree with its own (:func:`initial_class`), and
   stays alone otherwise. At depth 0 this is what separates the initial state of a counter
   mod k from the state whose output its untrained readout happens to round to.
4. **Single-valued transitions**: a (class, symbol) observed going to two classes is refused
   (a larger depth may tell those states apart).
5. **Unobserved (class, symbol) pairs ask the RNN**: its next state from the class's first
   traced state goes to the class with that state's signature, when a class has it (rare
   states of a large alphabet, e.g. a small running maximum, meet few symbols in the traces).
   Pairs still open are completed as self-loops (don't-cares, as in the geometric method);
   then minimise.

The guarantee: the machine equals the RNN's rounded outputs on every traced sequence (each
traced state is in one class, the output is a function of the class, and the transitions are
single-valued on the traces). Nothing is claimed beyond the traces: two merged states may
still differ after ``k + 1`` steps, and an unobserved transition says nothing about the RNN.
Anything further is what the verification (test split, exhaustive comparison) shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch

from rasp_ir.api import RaspError

from .extract import (
    Extraction,
    FloatArray,
    completed_machine,
    model_inputs,
    symbol_indices,
    trace_states,
    transition_table,
)
from .machine import Symbol
from .rnn import GeneralRNN
from .task_spec import IntArray

DEFAULT_DEPTH = 4
MAX_CONTINUATIONS = 1 << 22
"""The most ``distinct states x |alphabet|^depth`` (the last level of the continuation tree)
computed in one extraction."""


def behaviour_signatures(
    model: GeneralRNN, states: FloatArray, alphabet: Sequence[Symbol], depth: int
) -> IntArray:
    """The rounded readout of ``model`` from each of ``states`` ``(N, D)`` now and after every
    continuation of length 1 to ``depth`` over ``alphabet`` (breadth first, symbols in
    alphabet order): ``(N, (|A|^(depth+1) - 1) / (|A| - 1))`` integers."""
    n, width = len(states), len(alphabet)
    if n * width**depth > MAX_CONTINUATIONS:
        raise RaspError.single(
            "mips-extract",
            f"{n} distinct hidden states x {width}^{depth} continuations = "
            f"{n * width**depth} exceeds the bound of {MAX_CONTINUATIONS}",
            hint="a smaller --depth or fewer --sequences keeps the behavioural comparison "
            "within the bound",
        )
    dtype = next(model.parameters()).dtype
    symbols = model_inputs(np.arange(width)[None, :], alphabet)[0].to(dtype)
    h = torch.from_numpy(states).to(dtype)
    levels = []
    with torch.no_grad():
        for level in range(depth + 1):
            if level:
                # Every state of the level before, followed by every symbol (symbol minor).
                x = symbols.repeat(h.shape[0], 1)
                h = model.step(h.repeat_interleave(width, dim=0), x)
            rounded = torch.round(model.readout(h)[:, 0]).long()
            levels.append(rounded.reshape(n, width**level))
    signatures: IntArray = torch.cat(levels, dim=1).numpy()
    return signatures


def behaviour_classes(signatures: IntArray) -> IntArray:
    """The class of each row of ``signatures`` ``(N, M)`` (equal rows, one class), classes
    numbered in order of their first row (row 0 is class 0)."""
    _, first, inverse = np.unique(signatures, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    classes: IntArray = rank[inverse.reshape(-1)]
    return classes


def initial_class(
    label: IntArray, indices: IntArray, candidates: tuple[IntArray, int], hint: str
) -> IntArray:
    """Labels ``(n, T+1)`` in which ``h_0`` (the first state of each row, alone in class 0)
    has joined the first of the candidate classes (``candidates``: those with its
    continuations, and the alphabet's size) whose observed transitions on ``indices``
    ``(n, T)`` agree with its own wherever both are observed, classes renumbered in trace
    order; ``label`` unchanged when none agrees. A RaspError (with ``hint``) when the
    transitions are not single-valued even with ``h_0`` alone."""
    alike, n_symbols = candidates
    table, _ = transition_table(label, indices, int(label.max()) + 1, n_symbols, hint)
    mine = table[0]
    for candidate in alike:
        theirs = table[candidate]
        if np.all((mine < 0) | (theirs < 0) | (mine == theirs)):
            joined = np.where(label == 0, candidate, label).reshape(-1)
            renumbered: IntArray = behaviour_classes(joined[:, None]).reshape(label.shape)
            return renumbered
    return label


def queried_transitions(
    model: GeneralRNN,
    table: IntArray,
    classes: tuple[FloatArray, IntArray],
    alphabet: Sequence[Symbol],
    depth: int,
) -> tuple[IntArray, int]:
    """``table`` ``(K, S)`` with each unobserved (-1) pair filled by the class whose signature
    ``model``'s next state has, from the class's first traced state (``classes``: those
    states ``(K, D)`` and the classes' signatures); pairs whose next state matches no class
    stay -1. The table and how many pairs were filled. Nothing is asked when the comparison
    would exceed :data:`MAX_CONTINUATIONS`."""
    missing = np.argwhere(table < 0)
    width = len(alphabet)
    if not len(missing) or len(missing) * width**depth > MAX_CONTINUATIONS:
        return table, 0
    representatives, class_signatures = classes
    dtype = next(model.parameters()).dtype
    symbols = model_inputs(np.arange(width)[None, :], alphabet)[0].to(dtype)
    with torch.no_grad():
        h = torch.from_numpy(representatives[missing[:, 0]]).to(dtype)
        after = model.step(h, symbols[missing[:, 1]]).to(torch.float64).numpy()
    found = behaviour_signatures(model, after, alphabet, depth)
    lookup = {row.tobytes(): index for index, row in enumerate(class_signatures)}
    filled = table.copy()
    for (state, symbol), row in zip(missing, found, strict=True):
        filled[state, symbol] = lookup.get(row.tobytes(), -1)
    return filled, int(np.sum(filled != table))


def extract_by_behaviour(
    model: GeneralRNN,
    inputs: npt.ArrayLike,
    alphabet: Sequence[Symbol],
    *,
    depth: int = DEFAULT_DEPTH,
    max_states: int,
    task: str | None = None,
    source: str | None = None,
) -> Extraction:
    """The minimal Moore machine on ``model``'s traced states grouped by behaviour up to
    ``depth`` (see the module docstring) and its data. A RaspError when the comparison exceeds
    its bound, more than ``max_states`` classes are found, or the transitions are not
    single-valued."""
    if depth < 0:
        raise RaspError.single("mips-extract", f"depth must be at least 0, got {depth}")
    if model.config.output_dim != 1:
        raise RaspError.single(
            "mips-extract",
            f"the RNN has {model.config.output_dim} outputs per step; a machine has one",
        )
    indices = symbol_indices(inputs, alphabet)
    if not len(indices):
        raise RaspError.single("mips-extract", "no input sequences to trace the RNN on")
    states = trace_states(model, model_inputs(indices, alphabet))
    n, steps, dim = states.shape
    flat = states.reshape(n * steps, dim)
    distinct, inverse = np.unique(flat, axis=0, return_inverse=True)
    signatures = behaviour_signatures(model, distinct, alphabet, depth)
    initial = int(inverse.reshape(-1)[0])
    alone = int(np.sum(inverse == initial)) == n  # h_0 starts each sequence, recurs nowhere
    compared = signatures.copy()
    if alone:  # h_0's own output is never emitted: a value no output takes sets it apart
        compared[initial, 0] = signatures[:, 0].min() - 1
    # Classes numbered in trace order: h_0 is the first traced state, so it is in class 0.
    label = behaviour_classes(compared[inverse.reshape(-1)])
    hint = (
        f"states that agree for {depth} steps behave differently later; a larger --depth may "
        "separate them"
    )
    if alone:
        _, firsts = np.unique(label, return_index=True)
        continuations = compared[inverse.reshape(-1)[firsts], 1:]
        alike = np.flatnonzero(np.all(continuations == compared[initial, 1:], axis=1))
        label = initial_class(
            label.reshape(n, steps), indices, (alike[alike > 0], len(alphabet)), hint
        ).reshape(-1)
    k = int(label.max()) + 1
    if k > max_states:
        raise RaspError.single(
            "mips-extract",
            f"the hidden states fall into {k} behaviour classes at depth {depth}, more than "
            f"{max_states}",
            hint="a smaller --depth merges more states; --max-states allows more",
        )
    leaders = np.array([int(np.flatnonzero(label == c)[0]) for c in range(k)])
    representatives = flat[leaders]
    # A class's output and signature come from a state whose output is emitted: h_0's is not.
    speakers = np.array([int(np.flatnonzero(label == c)[-1]) for c in range(k)])
    output = tuple(int(v) for v in signatures[inverse.reshape(-1)[speakers], 0])
    table, observed = transition_table(label.reshape(n, steps), indices, k, len(alphabet), hint)
    class_signatures = signatures[inverse.reshape(-1)[speakers]]
    table, queried = queried_transitions(
        model, table, (representatives, class_signatures), alphabet, depth
    )
    clustered, unobserved = completed_machine(table, output, alphabet, steps, task, source)
    gaps = np.max(np.abs(representatives[:, None, :] - representatives[None, :, :]), axis=2)
    gaps[np.diag_indices(k)] = np.inf
    return Extraction(
        machine=clustered.minimise(),
        clustered=clustered,
        representatives=representatives,
        sizes=tuple(int(c) for c in np.bincount(label, minlength=k)),
        tolerance=0.0,
        max_deviation=float(np.max(np.abs(flat - representatives[label]))),
        min_separation=float(gaps.min()),
        observed=observed,
        unobserved=unobserved,
        method="behaviour",
        depth=depth,
        queried=queried,
    )
