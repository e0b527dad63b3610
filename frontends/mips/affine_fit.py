"""Exact integer-affine fits: integer lattice coordinates of traced states, inputs and rounded
outputs in; the integer transition ``z' = A z + B x + c`` and readout ``y = C z + d`` (or
``y = (C z + d) mod k``, or ``y = C z + d + sum e_i |a_i . z|``) that reproduce every one of
them exactly, out (or a RaspError saying how many do not fit).

Each fit is least squares, rounded to integers, then checked exactly in integer arithmetic:
the check decides, the least squares only proposes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rasp_ir.api import RaspError

from .task_spec import IntArray

# Mod readouts are searched by brute force over C in 0..k-1 per state coordinate.
MAX_MOD_CANDIDATES = 1 << 16
MOD_SAMPLE = 256
# Abs readouts try every form with entries in {-1, 0, 1} (up to sign): states of dimension at
# most this many.
MAX_ABS_DIM = 5


@dataclass(frozen=True)
class Transition:
    """``z' = A z + B x + c`` as integer lists of rows (``A`` n x n, ``B`` n x d) and ``c``."""

    A: list[list[int]]
    B: list[list[int]]
    c: list[int]


@dataclass(frozen=True)
class Readout:
    """``y = C z + d`` (``C`` one row), reduced mod ``modulus`` when there is one, plus
    ``e |a . z|`` for each ``(e, a)`` of ``kinks``."""

    C: list[int]
    d: int
    modulus: int | None = None
    kinks: tuple[tuple[int, tuple[int, ...]], ...] = ()


def rounded_fit(design: IntArray, target: IntArray) -> IntArray:
    """The least-squares solution ``theta`` of ``design @ theta = target``, rounded to
    integers (``design`` gets a column of ones last for the constant)."""
    ones = np.ones((len(design), 1), dtype=np.float64)
    features = np.hstack([design.astype(np.float64), ones])
    theta, *_ = np.linalg.lstsq(features, target.astype(np.float64), rcond=None)
    return np.rint(theta).astype(np.int64)


def with_constant(design: IntArray) -> IntArray:
    """``design`` with a column of ones appended."""
    return np.hstack([design, np.ones((len(design), 1), dtype=np.int64)])


def fit_transition(before: IntArray, inputs: IntArray, after: IntArray) -> Transition:
    """The integer ``A, B, c`` with ``after = before A^T + inputs B^T + c`` on every row
    (states ``(N, n)``, inputs ``(N, d)``); a RaspError when no rounding of the least-squares
    fit reproduces them all."""
    design = np.hstack([before, inputs])
    theta = rounded_fit(design, after)
    wrong = np.flatnonzero(np.any(with_constant(design) @ theta != after, axis=1))
    if wrong.size:
        at = int(wrong[0])
        raise RaspError.single(
            "mips-extract",
            f"the lattice states do not move by an integer-affine map: {wrong.size} of "
            f"{len(after)} traced transitions differ from the best integer fit (first: state "
            f"{before[at].tolist()} on input {inputs[at].tolist()} goes to {after[at].tolist()}, "
            f"the fit says {(with_constant(design)[at] @ theta).tolist()})",
            hint="the RNN's hidden states lie on a lattice but its update is not affine on "
            "them; the finite-machine methods (geometric, behaviour) may apply",
        )
    n = before.shape[1]
    return Transition(theta[:n].T.tolist(), theta[n:-1].T.tolist(), theta[-1].tolist())


def initial_state(transition: Transition, inputs: IntArray, states: IntArray) -> IntArray:
    """The integer ``z_0`` from which ``transition`` takes each first input ``(n, d)`` to its
    first state ``(n, r)``: ``A z_0`` must be the same for every sequence and solvable in
    integers (``z_0 = 0`` when it is 0); a RaspError otherwise."""
    a, b = np.array(transition.A, dtype=np.int64), np.array(transition.B, dtype=np.int64)
    needed = states - inputs @ b.T - np.array(transition.c, dtype=np.int64)
    other = np.flatnonzero(np.any(needed != needed[0], axis=1))
    if other.size:
        raise RaspError.single(
            "mips-extract",
            "the first step is not the fitted transition from one initial state: it needs "
            f"A z_0 = {needed[0].tolist()} for one sequence and {needed[other[0]].tolist()} for "
            "another",
        )
    solution, *_ = np.linalg.lstsq(a.astype(np.float64), needed[0].astype(np.float64), rcond=None)
    z0: IntArray = np.rint(solution).astype(np.int64)
    if np.any(a @ z0 != needed[0]):
        raise RaspError.single(
            "mips-extract",
            f"h_0 = 0 has no integer state: the first step needs A z_0 = {needed[0].tolist()}, "
            f"which A = {transition.A} does not solve in integers",
        )
    return z0


def fit_readout(states: IntArray, outputs: IntArray) -> Readout:
    """The integer readout ``outputs = C z + d`` exact on every state ``(N, n)``, or else one
    mod ``k = max(outputs) + 1``, or else one with abs terms (:func:`fit_abs_readout`); a
    RaspError when none fits."""
    theta = rounded_fit(states, outputs)
    wrong = np.flatnonzero(with_constant(states) @ theta != outputs)
    if not wrong.size:
        return Readout(theta[:-1].tolist(), int(theta[-1]))
    other = fit_mod_readout(states, outputs) or fit_abs_readout(states, outputs)
    if other is not None:
        return other
    at = int(wrong[0])
    raise RaspError.single(
        "mips-extract",
        f"the readout is not affine in the lattice state: {wrong.size} of {len(outputs)} traced "
        f"outputs differ from the best integer fit y = C z + d (first: state "
        f"{states[at].tolist()} outputs {outputs[at]}, the fit says "
        f"{int(with_constant(states)[at] @ theta)}), and no readout mod "
        f"{int(outputs.max()) + 1} nor one with terms e |a . z| (a in {{-1, 0, 1}}^n) fits either",
        hint="the RNN reads its state through a function that is neither affine nor a sum of "
        "absolute values of small forms",
    )


def fit_mod_readout(states: IntArray, outputs: IntArray) -> Readout | None:
    """A readout ``(C z + d) mod k`` with ``k = max(outputs) + 1`` and ``C`` in ``0..k-1``
    exact on every state, found by brute force (None when outputs are negative, constant, or
    the search has more than ``MAX_MOD_CANDIDATES`` candidates, or nothing fits)."""
    modulus, n = int(outputs.max()) + 1, states.shape[1]
    if outputs.min() < 0 or modulus < 2 or modulus**n > MAX_MOD_CANDIDATES:
        return None
    grid = np.indices((modulus,) * n).reshape(n, -1).T
    # d is fixed by the first state; a sample prunes the candidates, all states decide.
    offset = (outputs[0] - grid @ states[0]) % modulus
    for rows in (slice(0, MOD_SAMPLE), slice(None)):
        fits = np.all((grid @ states[rows].T + offset[:, None]) % modulus == outputs[rows], axis=1)
        grid, offset = grid[fits], offset[fits]
    if not len(grid):
        return None
    return Readout(grid[0].tolist(), int(offset[0]), modulus)


def kink_forms(states: IntArray) -> IntArray:
    """Every form ``a`` in ``{-1, 0, 1}^n`` (first nonzero entry 1) on which ``states``
    ``(N, n)`` take both signs: only there is ``|a . z|`` not affine on the states.
    ``(forms, n)``; none when n exceeds :data:`MAX_ABS_DIM`."""
    n = states.shape[1]
    if n > MAX_ABS_DIM:
        return np.zeros((0, n), dtype=np.int64)
    grid = np.indices((3,) * n).reshape(n, -1).T - 1
    leading = grid[np.arange(len(grid)), np.argmax(grid != 0, axis=1)]
    forms = grid[leading == 1]
    values = states @ forms.T
    kept: IntArray = forms[np.any(values > 0, axis=0) & np.any(values < 0, axis=0)]
    return kept


def fit_abs_readout(states: IntArray, outputs: IntArray) -> Readout | None:
    """The readout ``C z + d + sum e_i |a_i . z|`` over the forms of :func:`kink_forms`, with
    integer ``C``, ``d`` and nonzero ``e_i``, exact on every state ``(N, n)``: a least-squares
    fit, rounded, then checked exactly (None when nothing fits). The kinks pass through
    ``z = 0``."""
    forms = kink_forms(states)
    if not len(forms):
        return None
    design = np.hstack([states, np.abs(states @ forms.T)])
    theta = rounded_fit(design, outputs)
    if np.any(with_constant(design) @ theta != outputs):
        return None
    n = states.shape[1]
    kinks = tuple(
        (int(e), tuple(int(v) for v in form))
        for e, form in zip(theta[n:-1], forms, strict=True)
        if e
    )
    return Readout(theta[:n].tolist(), int(theta[-1]), kinks=kinks)
