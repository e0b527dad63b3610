"""Linear-recurrence identification of an RNN's input-output map: a GeneralRNN (any shape),
traced input sequences and their alphabet in; the smallest integer-affine machine in
companion form that equals the RNN's rounded outputs on every traced sequence, out (or a
RaspError saying which step failed).

The hidden states are not read: an RNN with ReLU layers may compute a linear task (Newton's
spring: ``p' = v + x``, ``v' = v + x - p``) through states that are no affine image of the
task's, so the lattice (:mod:`.extract_affine`) refuses it. What it computes is still read off
its rounded outputs, in three exact steps:

1. **Convolution.** The rounded outputs ``y_t`` of every traced sequence (positions ``0..T-1``)
   are fitted by ``y_t = beta_t + sum_{k<=t} G_k . x_{t-k}`` (least squares, rounded to
   integers, then checked exactly on every traced position): the RNN, on the traces, is an
   integer time-invariant filter with Markov parameters ``G_k`` and a bias response ``beta``.
2. **Recurrence.** The bias response is split into a readout constant ``d`` (``beta_0``, or
   else 0, whichever needs the shorter recurrence) and increments ``h_k = beta_k -
   beta_{k-1}`` (``beta_{-1} = d``). The smallest order r with integer ``a_1..a_r`` such that
   every channel s (each input component of ``G``, and ``h``) satisfies ``s_{k+r} = sum_i a_i
   s_{k+r-i}`` for every k the T terms allow is found by exact least squares, refused unless
   the equations determine the ``a_i`` (rank r): a recurrence the data do not pin down is
   a guess.
3. **Realization.** The state holds what past inputs add to the output now and in the next
   r - 1 steps: ``z_{t+1} = A z_t + B x_t + c`` with ``A`` the companion matrix of the
   recurrence, row j of ``B`` ``G_j``, ``c_j = h_j``, from ``z_0 = 0``; the output is
   ``z[0] + d``. The machine is run on the traces and must equal the RNN's rounded outputs.

Beyond the traced length the machine continues the recurrence, which the verifier checks
against the task at 2T and 4T; the RNN itself was only trained up to T.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rasp_ir.api import RaspError

from .affine import AffineMachine
from .extract import model_inputs, symbol_indices
from .extract_affine import check_machine
from .machine import Symbol
from .rnn import GeneralRNN
from .task_spec import IntArray


@dataclass(frozen=True)
class RecurrenceExtraction:
    """A companion-form machine identified from an RNN's outputs: the machine, the Markov
    parameters ``markov`` ``(T, d)`` and bias response ``bias`` ``(T,)`` it realizes, the
    recurrence ``coefficients`` ``a_1..a_r`` and the traced ``positions``."""

    machine: AffineMachine
    markov: IntArray
    bias: IntArray
    coefficients: tuple[int, ...]
    positions: int


def lagged_design(x: IntArray) -> IntArray:
    """The design of step 1 for input vectors ``x`` ``(n, T, d)``: one row per sequence and
    position t, ``[x_t, x_{t-1}, ..., x_{t-T+1}]`` (0 before the start, ``T * d`` entries)
    then the one-hot of t (``T`` entries): ``(n * T, T * d + T)``."""
    n, length, width = x.shape
    padded = np.concatenate([np.zeros((n, length - 1, width), dtype=np.int64), x], axis=1)
    lags = [padded[:, length - 1 - k : 2 * length - 1 - k] for k in range(length)]
    lagged = np.stack(lags, axis=2).reshape(n * length, length * width)
    positions = np.tile(np.eye(length, dtype=np.int64), (n, 1))
    design: IntArray = np.hstack([lagged, positions])
    return design


def fit_convolution(x: IntArray, outputs: IntArray) -> tuple[IntArray, IntArray]:
    """Step 1: the integer ``G`` ``(T, d)`` and ``beta`` ``(T,)`` with ``outputs`` ``(n, T)``
    equal to the filter of ``x`` ``(n, T, d)`` at every position; a RaspError otherwise."""
    n, length, width = x.shape
    design = lagged_design(x)
    theta, *_ = np.linalg.lstsq(
        design.astype(np.float64), outputs.reshape(-1).astype(np.float64), rcond=None
    )
    rounded = np.rint(theta).astype(np.int64)
    wrong = np.flatnonzero(design @ rounded != outputs.reshape(-1))
    if wrong.size:
        raise RaspError.single(
            "mips-extract",
            f"the RNN's rounded outputs are not an integer time-invariant filter of its inputs: "
            f"{wrong.size} of {n * length} traced positions differ from the best one",
            hint="the RNN computes something nonlinear in its inputs",
        )
    return rounded[: length * width].reshape(length, width), rounded[length * width :]


def channels(markov: IntArray, bias: IntArray, constant: int) -> IntArray:
    """The sequences a recurrence must satisfy: each column of ``markov`` ``(T, d)`` and the
    bias increments for the readout ``constant``, ``(d + 1, T)``."""
    increments = np.diff(bias, prepend=constant)
    found: IntArray = np.vstack([markov.T, increments[None, :]])
    return found


def recurrence(sequences: IntArray, order: int) -> IntArray | None:
    """Integer ``a_1..a_order`` with ``s_{k+order} = sum_i a_i s_{k+order-i}`` for every row
    ``s`` of ``sequences`` ``(m, T)`` and every k the T terms allow, determined by those
    equations (rank ``order``; zero coefficients when every sequence is 0); None otherwise."""
    length = sequences.shape[1]
    rows = [
        (s[k : k + order][::-1], s[k + order]) for s in sequences for k in range(length - order)
    ]
    if not rows:
        return None
    lhs = np.array([r[0] for r in rows], dtype=np.int64)
    rhs = np.array([r[1] for r in rows], dtype=np.int64)
    if not lhs.any() and not rhs.any():
        return np.zeros(order, dtype=np.int64)
    if np.linalg.matrix_rank(lhs.astype(np.float64)) < order:
        return None
    solution, *_ = np.linalg.lstsq(lhs.astype(np.float64), rhs.astype(np.float64), rcond=None)
    coefficients: IntArray = np.rint(solution).astype(np.int64)
    return coefficients if np.array_equal(lhs @ coefficients, rhs) else None


def companion_machine(
    alphabet: Sequence[Symbol],
    sequences: IntArray,
    coefficients: IntArray,
    constant: int,
    names: tuple[str | None, str | None, int],
) -> AffineMachine:
    """Step 3's machine for the channels ``sequences`` (inputs' rows first, the bias
    increments last) and the recurrence ``coefficients``; ``names``: task, source, max_len."""
    order = len(coefficients)
    last = tuple(int(coefficients[order - 1 - j]) for j in range(order))
    shifts = (tuple(int(j == i + 1) for j in range(order)) for i in range(order - 1))
    a = (*shifts, last)
    return AffineMachine(
        alphabet=tuple(alphabet),
        A=a,
        B=tuple(tuple(int(v) for v in sequences[:-1, j]) for j in range(order)),
        c=tuple(int(v) for v in sequences[-1, :order]),
        initial=(0,) * order,
        C=(tuple(int(j == 0) for j in range(order)),),
        d=(constant,),
        max_len=names[2],
        task=names[0],
        source=names[1],
    )


def extract_recurrence(
    model: GeneralRNN,
    inputs: npt.ArrayLike,
    alphabet: Sequence[Symbol],
    *,
    task: str | None = None,
    source: str | None = None,
) -> RecurrenceExtraction:
    """The smallest companion-form machine equal to ``model``'s rounded outputs on ``inputs``
    (``(n, T)`` symbols or ``(n, T, 2)`` pairs in ``alphabet``), as the module docstring
    says; a RaspError when the outputs are no integer filter or no recurrence determined by
    T terms realizes it."""
    indices = symbol_indices(inputs, alphabet)
    if not indices.size:
        raise RaspError.single("mips-extract", "no input sequences to trace the RNN on")
    if model.config.output_dim != 1:
        raise RaspError.single(
            "mips-extract",
            f"the RNN has {model.config.output_dim} outputs per step; a machine has one",
        )
    x = model_inputs(indices, alphabet)
    outputs = model.predict(x)[..., 0].numpy()
    markov, bias = fit_convolution(np.rint(x.numpy()).astype(np.int64), outputs)
    length = indices.shape[1]
    for order in range(1, length):
        for constant in dict.fromkeys((int(bias[0]), 0)):
            sequences = channels(markov, bias, constant)
            coefficients = recurrence(sequences, order)
            if coefficients is None:
                continue
            names = (task, source, length)
            machine = companion_machine(alphabet, sequences, coefficients, constant, names)
            check_machine(machine, indices, outputs)
            coefficient_tuple = tuple(int(v) for v in coefficients)
            return RecurrenceExtraction(machine, markov, bias, coefficient_tuple, outputs.size)
    raise RaspError.single(
        "mips-extract",
        f"no linear recurrence of order below {length} determined by the {length} traced "
        f"steps realizes the RNN's filter (Markov parameters {markov.tolist()}, bias response "
        f"{bias.tolist()})",
        hint="longer traced sequences pin down longer recurrences",
    )
