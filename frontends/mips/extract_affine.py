"""Integer-affine extraction (reference §7.1, with the guarantees of §17): a GeneralRNN, input
sequences, their alphabet and a tolerance in; an :class:`AffineMachine` equal to the RNN's
rounded outputs on every traced sequence, with the lattice it was read from, out (or a
RaspError saying, with numbers, why the RNN is not such a machine).

1. **Trace** every hidden state from ``h_0 = 0`` over every step (:func:`.extract.trace_states`).
   **Keep what the readout can see:** with ``W`` fitted as in step 2 and ``F`` the first
   weight of the output MLP, the states are projected on the row space of ``F W^k``
   (``k < D``, singular values above :data:`OBSERVABLE` of the largest). A direction outside
   it never reaches an output, at any later step: a leaky unit that an RNN larger than its
   task needs is dropped, not fitted. Steps 2-4 work on the projected states.
2. **Input directions.** Fit ``h' = W h + U x + c`` by least squares over every traced
   transition (exact for a linear RNN, and for any RNN whose states move affinely). The
   candidates ``W^k u`` (each input column ``u``, ``k = 0..D``) are kept greedily when they
   add a direction longer than the tolerance: the rows of ``B'``. The others must have
   coordinates in ``B'`` that are fractions of denominator at most 16; ``m`` is their lcm.
3. **Lattice.** With ``Q = m H B'^+`` the coordinates of the states after the first step,
   less their common fractional part (a bias shifts the lattice off ``h_0``), every entry
   must be an integer within the tolerance. The lattice those integer rows and the kept
   directions generate has a size-reduced Hermite basis ``K`` (:mod:`.lattice`), so ``M = K
   B' / m`` and each state has an integer ``z``. For a linear RNN storing lagged inputs ``K``
   is the identity and ``z`` holds them, newest first. ``M`` and an offset ``o`` are refitted
   by least squares and extraction is refused unless every ``|h - (z M + o)|`` and every
   ``|z_real - z|`` (``z_real`` a state's real coordinates in the refitted lattice) is within
   the tolerance. When no shift fits (a bias that grows with t), the lattice through
   ``h_0 = 0`` with the bias's directions ``W^k c`` among the candidates is tried instead.
4. **Integer machine.** Integer ``A, B, c`` reproducing every traced transition after the
   first exactly, the integer initial state ``z_0`` from which they give every first state,
   and a readout ``C, d`` (or mod ``k``, or with terms ``e |a . z|``) reproducing every
   rounded RNN output exactly (:mod:`.affine_fit`).
5. **Check.** The machine is run on the traced inputs and must equal the RNN's rounded outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from rasp_ir.api import RaspError

from .affine import AffineMachine
from .affine_fit import Readout, Transition, fit_readout, fit_transition, initial_state
from .extract import FloatArray, model_inputs, symbol_indices, trace_states
from .lattice import coordinates, lattice_basis
from .machine import Symbol
from .rnn import GeneralRNN
from .task_spec import IntArray

DEFAULT_TOLERANCE = 0.4
MAX_DENOMINATOR = 16
OBSERVABLE = 1e-4
"""Directions whose readout singular value is below this share of the largest are unseen."""


@dataclass(frozen=True)
class AffineExtraction:
    """An affine machine read off an RNN, and the lattice it was read from.

    ``basis`` (n x D, rows) and ``offset`` (D) are the refitted lattice: the part of every
    traced hidden state after the first step that the readout can see (step 1) is ``z basis +
    offset`` up to ``max_deviation`` (max-norm, hidden units), and its real coordinates are
    within ``max_fraction`` of the integer ``z``
    (both at most ``tolerance``). ``denominator`` is the m of step 3 (1 when the kept input
    directions generate the others). ``states`` counts the traced hidden states (``h_0``
    included) and ``transitions`` the traced steps."""

    machine: AffineMachine
    basis: FloatArray
    offset: FloatArray
    denominator: int
    tolerance: float
    max_deviation: float
    max_fraction: float
    states: int
    transitions: int


@dataclass(frozen=True)
class Lattice:
    """Step 3's result: the integer state of each traced hidden state ``(N, n)``, the
    refitted basis and offset, ``m`` and the two residuals."""

    z: IntArray
    basis: FloatArray
    offset: FloatArray
    denominator: int
    max_deviation: float
    max_fraction: float


def observable_basis(model: GeneralRNN, w: FloatArray) -> FloatArray:
    """An orthonormal basis ``(D, r)`` of the hidden directions the readout can ever see: the
    row space of ``F W^k`` for ``k < D``, ``F`` the first weight of ``model``'s output MLP and
    ``W`` ``(D, D)`` the fitted update (step 1 of the module docstring)."""
    first = next(m for m in model.output if isinstance(m, torch.nn.Linear))
    weight = first.weight.detach().to(torch.float64).numpy()
    rows = np.vstack([weight @ np.linalg.matrix_power(w, k) for k in range(len(w))])
    _, values, right = np.linalg.svd(rows)
    rank = int(np.sum(values > OBSERVABLE * values[0])) if values.size and values[0] > 0 else 0
    basis: FloatArray = right[: max(rank, 1)].T
    return basis


def linear_update(states: FloatArray, inputs: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The least-squares ``h' = W h + U x + c`` of traced states ``(n, T+1, D)`` on inputs
    ``(n, T, d)``: ``W`` ``(D, D)`` and ``[U | c]`` ``(D, d + 1)``."""
    dim = states.shape[2]
    before = states[:, :-1].reshape(-1, dim)
    x = inputs.reshape(before.shape[0], -1)
    design = np.hstack([before, x, np.ones((len(x), 1))])
    theta = np.asarray(
        np.linalg.lstsq(design, states[:, 1:].reshape(-1, dim), rcond=None)[0], np.float64
    )
    return theta[:dim].T, theta[dim:].T


def input_directions(
    w: FloatArray, drives: FloatArray, tolerance: float, constant: bool
) -> tuple[FloatArray, FloatArray]:
    """``W^k u`` for each column ``u`` of ``drives`` (``U``, ``(D, d)``, or with ``constant``
    ``[U | c]``, whose ``W^k c`` come after every ``W^k u``), ``k = 0..D``, split into those
    kept, ``(r, D)``, because their component orthogonal to the directions kept before is
    longer than ``tolerance``, and the others longer than ``tolerance``, ``(s, D)``."""
    dim = len(w)
    powers = [np.linalg.matrix_power(w, k) for k in range(dim + 1)]
    inputs = drives[:, :-1] if constant else drives
    candidates = [p @ u for p in powers for u in inputs.T]
    candidates += [p @ drives[:, -1] for p in powers] if constant else []
    kept: list[FloatArray] = []
    others: list[FloatArray] = []
    orthonormal: list[FloatArray] = []
    for v in candidates:
        rest = v - sum((e @ v) * e for e in orthonormal)
        if np.linalg.norm(rest) > tolerance:
            kept.append(v)
            orthonormal.append(rest / np.linalg.norm(rest))
        elif np.linalg.norm(v) > tolerance:
            others.append(v)
    return np.array(kept).reshape(len(kept), dim), np.array(others).reshape(len(others), dim)


def denominator(others: FloatArray, directions: FloatArray, tolerance: float) -> int:
    """The least common multiple ``m`` of the denominators (each at most ``MAX_DENOMINATOR``)
    of the coordinates of the directions not kept in those kept: the kept directions over
    ``m`` generate every direction. A RaspError when some coordinate is not such a fraction
    within ``tolerance``, or the lcm exceeds ``MAX_DENOMINATOR``."""
    m = 1
    for q in (others @ np.linalg.pinv(directions)).ravel():
        fit = next((k for k in range(1, MAX_DENOMINATOR + 1) if _integral(k * q, tolerance)), 0)
        m = int(np.lcm(m, fit)) if fit else 0
        if not 0 < m <= MAX_DENOMINATOR:
            raise RaspError.single(
                "mips-extract",
                f"the input directions W^k u are not on one lattice: a direction has the "
                f"coordinate {q:.4g} in the directions kept, not a fraction of denominator at "
                f"most {MAX_DENOMINATOR} (common with the others) within {tolerance}",
                hint="a linear RNN whose update shrinks or mixes its inputs (e.g. h' = h/2 + x) "
                "has states dense in space",
            )
    return m


def _integral(values: FloatArray | float, tolerance: float) -> bool:
    """Whether every entry of ``values`` is within ``tolerance`` of an integer."""
    return bool(np.max(np.abs(values - np.rint(values)), initial=0.0) <= tolerance)


def phase(q: FloatArray) -> FloatArray:
    """The common fractional part of each column of ``q`` ``(N, r)``, in [-1/2, 1/2): the
    circular mean of the fractional parts."""
    mean = np.mean(np.exp(2j * np.pi * q), axis=0)
    return np.asarray(np.angle(mean) / (2 * np.pi), dtype=np.float64)


def find_lattice(
    flat: FloatArray,
    directions: tuple[FloatArray, FloatArray],
    tolerance: float,
    shifted: bool,
) -> Lattice:
    """Step 3 of the module docstring on the traced states after the first step ``(N, D)``,
    from the input directions kept and the others (:func:`input_directions`); ``shifted``:
    the lattice may be shifted by a common fraction of the directions (a bias), otherwise it
    holds ``h_0 = 0``."""
    kept, others = directions
    m = denominator(others, kept, tolerance)
    q = m * (flat @ np.linalg.pinv(kept))
    q = q - phase(q) if shifted else q
    if not _integral(q, tolerance):
        worst = float(np.max(np.abs(q - np.rint(q))))
        raise RaspError.single(
            "mips-extract",
            f"the hidden states are not on the lattice of the input directions W^k u (over "
            f"{m}): the largest fractional part of a coordinate is {worst:.3g}, more than the "
            f"tolerance {tolerance}",
            hint="the RNN may be too imprecise for this tolerance (a larger one may help), or "
            "its states lie off the lattice its update generates",
        )
    points = np.rint(q).astype(np.int64)
    # The kept directions are lattice vectors too (the input moves the state by them), even
    # where the traced states generate less: inputs 0, 2, 4 still need z' = z + x.
    integer_basis = lattice_basis(np.vstack([m * np.eye(len(kept), dtype=np.int64), points]))
    z = coordinates(points, integer_basis)
    if z is None or not integer_basis:
        raise RaspError.single(
            "mips-extract", "the hidden states do not move from h_0 = 0 on the lattice found"
        )
    design = np.hstack([z, np.ones((len(z), 1))])
    fitted = np.asarray(np.linalg.lstsq(design, flat, rcond=None)[0], np.float64)
    basis, offset = fitted[:-1], fitted[-1]
    deviation = float(np.max(np.abs(flat - design @ fitted)))
    fraction = float(np.max(np.abs((flat - offset) @ np.linalg.pinv(basis) - z)))
    if deviation > tolerance or fraction > tolerance:
        raise RaspError.single(
            "mips-extract",
            f"the hidden states are not within {tolerance} of a lattice: the largest deviation "
            f"|h - (z M + o)| is {deviation:.3g} and the largest fractional part of a lattice "
            f"coordinate {fraction:.3g}",
            hint="the states lie off the span of the input directions W^k u, or the RNN is "
            "too imprecise for this tolerance",
        )
    return Lattice(z, basis, offset, m, deviation, fraction)


def lattice_of(
    after: FloatArray, update: tuple[FloatArray, FloatArray], tolerance: float
) -> Lattice:
    """The lattice of the states after the first step ``(N, D)`` under the fitted update
    ``(W, [U | c])``: first shifted by a bias and spanned by the input directions ``W^k u``;
    when that fails, through ``h_0 = 0`` with the bias's directions ``W^k c`` too. The
    second refusal when both fail."""
    w, drives = update
    try:
        return find_lattice(
            after, input_directions(w, drives[:, :-1], tolerance, False), tolerance, True
        )
    except RaspError:  # a bias that grows with t is no shift; its directions may still fit
        return find_lattice(after, input_directions(w, drives, tolerance, True), tolerance, False)


def rounded_outputs(model: GeneralRNN, flat: FloatArray) -> IntArray:
    """The RNN's rounded output of each hidden state ``(N, D)``; a RaspError unless the RNN
    has one output."""
    if model.config.output_dim != 1:
        raise RaspError.single(
            "mips-extract",
            f"the RNN has {model.config.output_dim} outputs per step; a machine has one",
        )
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        values = model.readout(torch.from_numpy(flat).to(dtype))[:, 0]
    rounded: IntArray = torch.round(values).long().numpy()
    return rounded


def affine_machine(
    alphabet: Sequence[Symbol],
    transition: Transition,
    readout: Readout,
    initial: IntArray,
    max_len: int,
    names: tuple[str | None, str | None],
) -> AffineMachine:
    """The machine of the fitted ``transition`` and ``readout`` from state ``initial``;
    ``names`` are its task and source."""
    return AffineMachine(
        alphabet=tuple(alphabet),
        A=tuple(tuple(row) for row in transition.A),
        B=tuple(tuple(row) for row in transition.B),
        c=tuple(transition.c),
        initial=tuple(int(v) for v in initial),
        C=(tuple(readout.C),),
        d=(readout.d,),
        modulus=readout.modulus,
        kinks=readout.kinks,
        max_len=max_len,
        task=names[0],
        source=names[1],
    )


def check_machine(machine: AffineMachine, indices: IntArray, expected: IntArray) -> None:
    """A RaspError unless ``machine`` outputs ``expected`` ``(n, T)`` on ``indices``."""
    found = machine.run(indices).astype(np.int64)
    wrong = np.argwhere(found != expected)
    if len(wrong):
        row, at = (int(v) for v in wrong[0])
        raise RaspError.single(
            "mips-extract",
            f"the extracted affine machine differs from the RNN on a traced sequence (symbol "
            f"indices {indices[row].tolist()}, position {at}: RNN {expected[row, at]}, machine "
            f"{found[row, at]}; {len(wrong)} position(s) in all)",
        )


def extract_affine(
    model: GeneralRNN,
    inputs: npt.ArrayLike,
    alphabet: Sequence[Symbol],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    task: str | None = None,
    source: str | None = None,
) -> AffineExtraction:
    """The integer-affine machine that ``model`` traces on ``inputs`` (``(n, T)`` integer
    symbols or ``(n, T, 2)`` pairs, all in ``alphabet``), with its lattice; ``task`` and
    ``source`` name it in the machine file. A RaspError with the numbers when the states are
    not on a lattice within ``tolerance``, or the transitions or readout are not integer-affine
    on it."""
    if not tolerance > 0:
        raise RaspError.single("mips-extract", f"tolerance must be positive, got {tolerance}")
    indices = symbol_indices(inputs, alphabet)
    if not indices.size:
        raise RaspError.single("mips-extract", "no input sequences to trace the RNN on")
    x = model_inputs(indices, alphabet)
    states = trace_states(model, x)
    n, steps, dim = states.shape
    if steps < 3:
        raise RaspError.single("mips-extract", "affine extraction needs inputs of 2 steps or more")
    seen_basis = observable_basis(model, linear_update(states, x.numpy())[0])
    seen = states @ seen_basis
    after = seen[:, 1:].reshape(-1, seen_basis.shape[1])
    lattice = lattice_of(after, linear_update(seen, x.numpy()), tolerance)
    z = lattice.z.reshape(n, steps - 1, -1)
    symbols = np.rint(x.numpy()).astype(np.int64)
    transition = fit_transition(
        z[:, :-1].reshape(-1, z.shape[2]),
        symbols[:, 1:].reshape(-1, symbols.shape[2]),
        z[:, 1:].reshape(-1, z.shape[2]),
    )
    initial = initial_state(transition, symbols[:, 0], z[:, 0])
    outputs = rounded_outputs(model, states[:, 1:].reshape(-1, dim))
    readout = fit_readout(lattice.z, outputs)
    machine = affine_machine(alphabet, transition, readout, initial, steps - 1, (task, source))
    check_machine(machine, indices, outputs.reshape(n, steps - 1))
    return AffineExtraction(
        machine=machine,
        basis=lattice.basis @ seen_basis.T,
        offset=lattice.offset @ seen_basis.T,
        denominator=lattice.denominator,
        tolerance=tolerance,
        max_deviation=lattice.max_deviation,
        max_fraction=lattice.max_fraction,
        states=n * steps,
        transitions=n * (steps - 1),
    )
