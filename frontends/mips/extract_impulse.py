"""Impulse-response extraction for RNNs that are linear end to end (hidden and output MLPs of
depth 1): such an RNN, its alphabet and a length L in; the integer shift-register
:class:`AffineMachine` whose outputs equal the RNN's rounded outputs on **every** input of
length at most L, with the bound that proves it, out (or a RaspError with the numbers).

From ``h_0 = 0``, ``h' = W h + U x + c`` and ``y = F h + f``, the output at position t
(0-based) is a convolution of the inputs::

    y_t = beta_t + sum_{k=0..t} g_k . x_{t-k},   g_k = F W^k U,   beta_t = f + sum_{j<=t} F W^j c

The Markov parameters ``g_k`` and the bias response ``beta_t`` are computed from the weights
(float64), not fitted to traces. With ``G_k`` the nearest integers to ``g_k`` and ``b`` to
``beta_0``, the error of the integer filter ``b + sum G_k . x_{t-k}`` at position t is at most
``e_t = |beta_t - b| + sum_{k<=t} max_x |(g_k - G_k) . x|`` over the alphabet's symbols. When
every ``e_t`` (t < L) is at most ``tolerance`` (below 1/2, leaving room for the RNN's float32
arithmetic), rounding the RNN gives the integer filter on every input of length <= L.

This reads RNNs the lattice method (:mod:`.extract_affine`) cannot: an update that is not
nilpotent (eigenvalues of modulus 0.8, say) leaves every state off any lattice, although the
readout cancels what older inputs leave behind to within the rounding margin over the trained
length. The machine is a shift register per input component, as long as that component's
last nonzero ``G_k``: ``z`` holds ``x_t, x_{t-1}, ...`` (inputs before the start are 0, as
``h_0 = 0`` gives) and the output is ``C z + d`` with ``C`` the ``G_k`` and ``d = b``. Beyond
L the machine continues the filter; the RNN, whose ``g_k`` for k >= L were never trained, may
not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rasp_ir.api import RaspError

from .affine import AffineMachine
from .extract import FloatArray, model_inputs
from .machine import Symbol
from .rnn import GeneralRNN

DEFAULT_TOLERANCE = 0.4


@dataclass(frozen=True)
class ImpulseExtraction:
    """A shift-register machine read off a linear RNN: the machine, the Markov parameters
    ``g`` ``(L, d)`` and bias response ``beta`` ``(L,)`` it rounds, the length L they cover
    and the largest error bound ``max_t e_t`` (at most ``tolerance``)."""

    machine: AffineMachine
    markov: FloatArray
    bias_response: FloatArray
    length: int
    tolerance: float
    max_error: float


def linear_weights(model: GeneralRNN) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``W`` ``(D, D)``, ``U`` ``(D, d)``, ``c`` ``(D,)`` of the update and ``[F | f]``
    ``(d_out, D + 1)`` of the readout of an RNN linear end to end, in float64; a RaspError
    for any other RNN."""
    config = model.config
    if config.hidden_depth != 1 or config.output_depth != 1:
        raise RaspError.single(
            "mips-extract",
            f"impulse-response extraction needs an RNN linear end to end (hidden and output "
            f"MLPs of depth 1), not depths {config.hidden_depth} and {config.output_depth}",
        )
    hidden, output = (
        next(m for m in mlp if isinstance(m, torch.nn.Linear))
        for mlp in (model.hidden, model.output)
    )
    update = hidden.weight.detach().to(torch.float64).cpu().numpy()
    bias = hidden.bias.detach().to(torch.float64).cpu().numpy()
    read = torch.cat([output.weight, output.bias[:, None]], dim=1)
    dim = config.hidden_dim
    return update[:, :dim], update[:, dim:], bias, read.detach().to(torch.float64).cpu().numpy()


def impulse_response(model: GeneralRNN, length: int) -> tuple[FloatArray, FloatArray]:
    """The Markov parameters ``g_k = F W^k U`` ``(length, d)`` and the bias response
    ``beta_t`` ``(length,)`` of a one-output RNN linear end to end (module docstring)."""
    w, u, c, read = linear_weights(model)
    if read.shape[0] != 1:
        raise RaspError.single(
            "mips-extract", f"the RNN has {read.shape[0]} outputs per step; a machine has one"
        )
    f, offset = read[0, :-1], read[0, -1]
    markov, bias = [], []
    for _ in range(length):
        markov.append(f @ u)
        offset = offset + f @ c
        bias.append(offset)
        f = f @ w
    return np.array(markov), np.array(bias)


def error_bounds(
    markov: FloatArray, bias: FloatArray, symbols: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The rounded Markov parameters ``G`` and the bound ``e_t`` of each position on the
    integer filter's error, over input vectors ``symbols`` ``(s, d)``."""
    rounded = np.rint(markov)
    per_lag = np.max(np.abs((markov - rounded) @ symbols.T), axis=1)
    bounds: FloatArray = np.abs(bias - np.rint(bias[0])) + np.cumsum(per_lag)
    return rounded, bounds


def shift_register(
    alphabet: Sequence[Symbol],
    taps: FloatArray,
    constant: int,
    names: tuple[str | None, str | None, int],
) -> AffineMachine:
    """The shift-register machine of the integer filter ``constant + sum_k taps[k] . x_{t-k}``
    (``taps`` ``(L, d)``): one register per input component, as long as its last nonzero tap
    (the first component keeps one cell when every tap is 0); ``names`` are the task, the
    source and max_len."""
    taps = taps.astype(np.int64)
    lengths = [1 + int(np.flatnonzero(column).max()) if column.any() else 0 for column in taps.T]
    if not any(lengths):
        lengths[0] = 1
    cells = [(i, k) for i, length in enumerate(lengths) for k in range(length)]
    n, width = len(cells), taps.shape[1]
    index = {cell: position for position, cell in enumerate(cells)}
    a = [[int(index.get((i, k - 1)) == j) if k else 0 for j in range(n)] for i, k in cells]
    b = [[int(k == 0 and i == component) for component in range(width)] for i, k in cells]
    return AffineMachine(
        alphabet=tuple(alphabet),
        A=tuple(tuple(row) for row in a),
        B=tuple(tuple(row) for row in b),
        c=(0,) * n,
        initial=(0,) * n,
        C=(tuple(int(taps[k, i]) for i, k in cells),),
        d=(constant,),
        max_len=names[2],
        task=names[0],
        source=names[1],
    )


def extract_impulse(
    model: GeneralRNN,
    alphabet: Sequence[Symbol],
    length: int,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    task: str | None = None,
    source: str | None = None,
) -> ImpulseExtraction:
    """The shift-register machine equal to ``model``'s rounded outputs on every input over
    ``alphabet`` of length at most ``length`` (module docstring); ``task`` and ``source`` name
    it in the machine file. A RaspError with the numbers when the RNN is not linear end to
    end, or its error bound exceeds ``tolerance`` at some position."""
    if not 0 < tolerance < 0.5:
        raise RaspError.single("mips-extract", f"tolerance must be in (0, 1/2), got {tolerance}")
    if length < 1:
        raise RaspError.single("mips-extract", "impulse-response extraction needs a length >= 1")
    markov, bias = impulse_response(model, length)
    symbols = model_inputs(np.arange(len(alphabet))[None, :], alphabet)[0].numpy()
    taps, bounds = error_bounds(markov, bias, symbols)
    over = np.flatnonzero(bounds > tolerance)
    if over.size:
        first = int(over[0])
        raise RaspError.single(
            "mips-extract",
            f"the RNN is not an integer filter within {tolerance}: at position {first} the "
            f"bound on its distance from the rounded one is {bounds[first]:.3g} (bias response "
            f"{bias[first]:.4g}, Markov parameters {np.round(markov[: first + 1], 4).tolist()})",
            hint="its outputs depend on old inputs by non-integer weights, or drift with t; "
            "the lattice (affine) method may still apply",
        )
    machine = shift_register(alphabet, taps, int(np.rint(bias[0])), (task, source, length))
    return ImpulseExtraction(machine, markov, bias, length, tolerance, float(bounds.max()))
