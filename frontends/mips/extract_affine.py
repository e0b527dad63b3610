"""Integer-affine extraction (reference §7.1, with the guarantees of §17): a GeneralRNN, input
sequences, their alphabet and a tolerance in; an :class:`AffineMachine` equal to the RNN's
rounded outputs on every traced sequence, with the lattice it was read from, out (or a
RaspError saying, with numbers, why the RNN is not such a machine).

1. **Trace** every hidden state from ``h_0 = 0`` over every step (:func:`.extract.trace_states`).
2. **Input directions.** Fit ``h' = W h + U x + c`` by least squares over every traced
   transition (exact for a linear RNN, and for any RNN whose states move affinely). The
   candidates ``W^k u`` (each input column ``u``, ``k = 0..D``), then ``W^k c``, are kept
   greedily when they add a direction longer than the tolerance: the rows of ``B'``.
3. **Lattice.** With ``Q = H B'^+`` the states' coordinates, the smallest ``m <= 16`` making
   every entry of ``m Q`` an integer within the tolerance is taken; the lattice the integer
   rows ``round(m Q)`` and the kept directions generate has a size-reduced Hermite basis
   ``K`` (:mod:`.lattice`), so
   ``M = K B' / m`` and every state's integer ``z`` satisfies ``round(m Q) = z K``. ``h_0 = 0``
   has ``z = 0``. For a linear RNN storing lagged inputs ``K`` is the identity and ``z`` holds
   them, newest first. ``M`` and an offset ``o`` are refitted by least squares and extraction
   is refused unless every ``|h - (z M + o)|`` and every ``|z_real - z|`` (``z_real`` the
   states' real coordinates in the refitted lattice) is within the tolerance.
4. **Integer machine.** Integer ``A, B, c`` and readout ``C, d`` (or mod ``k``) that reproduce
   every traced transition and every rounded RNN output exactly (:mod:`.affine_fit`).
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
from .affine_fit import Readout, Transition, fit_readout, fit_transition
from .extract import FloatArray, model_inputs, symbol_indices, trace_states
from .lattice import coordinates, lattice_basis
from .machine import Symbol
from .rnn import GeneralRNN
from .task_spec import IntArray

DEFAULT_TOLERANCE = 0.4
MAX_DENOMINATOR = 16


@dataclass(frozen=True)
class AffineExtraction:
    """An affine machine read off an RNN, and the lattice it was read from.

    ``basis`` (n x D, rows) and ``offset`` (D) are the refitted lattice: every traced hidden
    state is ``z basis + offset`` up to ``max_deviation`` (max-norm, hidden units), and its
    real coordinates are within ``max_fraction`` of the integer ``z`` (both at most
    ``tolerance``). ``denominator`` is the m of step 3 (1 when the input directions span the
    lattice). ``states`` and ``transitions`` count what was traced."""

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
    w: FloatArray, drives: FloatArray, tolerance: float
) -> tuple[FloatArray, FloatArray]:
    """``W^k u`` for each column ``u`` of ``drives`` (``k = 0..D``, column by column within each
    k; the constant's column last of all), split into those kept, ``(r, D)``, because their
    component orthogonal to the directions kept before is longer than ``tolerance``, and the
    others longer than ``tolerance``, ``(s, D)``."""
    dim = len(w)
    powers = [np.linalg.matrix_power(w, k) for k in range(dim + 1)]
    inputs, constant = drives[:, :-1], drives[:, -1]
    candidates = [p @ u for p in powers for u in inputs.T] + [p @ constant for p in powers]
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


def find_lattice(
    flat: FloatArray, directions: tuple[FloatArray, FloatArray], tolerance: float
) -> Lattice:
    """Step 3 of the module docstring on traced states ``(N, D)`` (the first ``h_0 = 0``),
    from the input directions kept and the others (:func:`input_directions`)."""
    kept, others = directions
    m = denominator(others, kept, tolerance)
    q = m * (flat @ np.linalg.pinv(kept))
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
    flat = states.reshape(-1, dim)
    w, drives = linear_update(states, x.numpy())
    lattice = find_lattice(flat, input_directions(w, drives, tolerance), tolerance)
    z = lattice.z.reshape(n, steps, -1)
    symbols = np.rint(x.numpy()).astype(np.int64).reshape(n * (steps - 1), -1)
    transition = fit_transition(
        z[:, :-1].reshape(len(symbols), -1), symbols, z[:, 1:].reshape(len(symbols), -1)
    )
    outputs = rounded_outputs(model, states[:, 1:].reshape(-1, dim))
    readout = fit_readout(z[:, 1:].reshape(len(outputs), -1), outputs)
    machine = affine_machine(alphabet, transition, readout, z[0, 0], steps - 1, (task, source))
    check_machine(machine, indices, outputs.reshape(n, steps - 1))
    return AffineExtraction(
        machine=machine,
        basis=lattice.basis,
        offset=lattice.offset,
        denominator=lattice.denominator,
        tolerance=tolerance,
        max_deviation=lattice.max_deviation,
        max_fraction=lattice.max_fraction,
        states=n * steps,
        transitions=len(symbols),
    )
