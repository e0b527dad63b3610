"""The digit and bit tasks of reference §13 (rows 1-15 and 42-51): addition in bases 2-7,
bitwise operations, parities, bit patterns, the dot product mod 2 and long division, each a
:class:`Task` with its reference function (inputs in, per-position outputs out)."""

from __future__ import annotations

import numpy as np

from .task_spec import (
    Alphabet,
    IntArray,
    Labeller,
    OutputRange,
    Task,
    as_ints,
    shifted,
    uniform_inputs,
    window_sum,
)

BITS = Alphabet(0, 1)
BIT_PAIRS = Alphabet(0, 1, width=2)
BIT_OUTPUT = OutputRange(0, 1)


def digit_addition(base: int) -> Labeller:
    """Add two numbers given least significant digit first, ``(a_t, b_t)`` per step: output
    ``(a_t + b_t + c_t) mod base`` with carry ``c_{t+1} = (a_t + b_t + c_t) // base``,
    ``c_0 = 0``; the final carry is dropped."""

    def add(x: IntArray) -> IntArray:
        y = np.zeros(x.shape[:2], dtype=np.int64)
        carry = np.zeros(len(x), dtype=np.int64)
        for t in range(x.shape[1]):
            total = x[:, t, 0] + x[:, t, 1] + carry
            y[:, t], carry = total % base, total // base
        return y

    return add


def bitwise_xor(x: IntArray) -> IntArray:
    """``[a_t + b_t = 1]``."""
    return as_ints(x.sum(axis=2) == 1)


def bitwise_or(x: IntArray) -> IntArray:
    """``[a_t + b_t > 0]``."""
    return as_ints(x.sum(axis=2) > 0)


def bitwise_and(x: IntArray) -> IntArray:
    """``a_t * b_t``: the two bits of the same step, not the previous element."""
    return x[:, :, 0] * x[:, :, 1]


def bitwise_not(x: IntArray) -> IntArray:
    """``1 - x_t``."""
    return 1 - x


def parity_last(k: int) -> Labeller:
    """``(x_{t-k+1} + ... + x_t) mod 2``, inputs before the start counting as 0."""

    def parity(x: IntArray) -> IntArray:
        return window_sum(x, k) % 2

    return parity


def parity_all(x: IntArray) -> IntArray:
    """``(x_0 + ... + x_t) mod 2`` (a running XOR, not an OR)."""
    return np.cumsum(x, axis=1) % 2


def parity_zeros(x: IntArray) -> IntArray:
    """The number of zeros among ``x_0..x_t``, mod 2."""
    return np.cumsum(x == 0, axis=1) % 2


def bit_palindrome(x: IntArray) -> IntArray:
    """``[x_0..x_t reads the same backwards]`` (so ``y_0 = 1``)."""
    y = np.zeros_like(x)
    for t in range(x.shape[1]):
        y[:, t] = np.all(x[:, : t + 1] == x[:, t::-1], axis=1)
    return y


def palindrome_prefixes(task: Task, n: int, rng: np.random.Generator) -> IntArray:
    """Bit_Palindrome's inputs: a uniformly random binary palindrome of length
    ``L ~ U{2..T}``, then ``T - L`` uniformly random bits."""
    x = uniform_inputs(task, n, rng)
    lengths = rng.integers(2, task.length + 1, size=n)
    for t in range(task.length):
        mirrored = t >= (lengths + 1) // 2
        inside = t < lengths
        take = mirrored & inside
        x[take, t] = x[take, lengths[take] - 1 - t]
    return x


def balanced_parenthesis(x: IntArray) -> IntArray:
    """With 0 = "(" and 1 = ")" and the balance ``b_t`` = opens - closes over ``x_0..x_t``:
    ``[b_t = 0 and b_j >= 0 for every j <= t]`` (0 for good after the first ``b < 0``)."""
    balance = np.cumsum(1 - 2 * x, axis=1)
    return as_ints((balance == 0) & (np.minimum.accumulate(balance, axis=1) >= 0))


def parity_of_index(x: IntArray) -> IntArray:
    """``t mod 2`` at position ``t``; the input bits are ignored."""
    return np.broadcast_to(np.arange(x.shape[1]) % 2, x.shape).astype(np.int64)


def alternating_last(k: int) -> Labeller:
    """``[x_{t-k+1}..x_t alternate]`` (0101... or 1010...), inputs before the start being 0."""

    def alternating(x: IntArray) -> IntArray:
        steps = [shifted(x, j) != shifted(x, j + 1) for j in range(k - 1)]
        return as_ints(np.logical_and.reduce(steps))

    return alternating


def bit_shift_right(x: IntArray) -> IntArray:
    """``x_{t-1}``, and 0 at ``t = 0``."""
    return shifted(x, 1)


def bit_dot_product_mod2(x: IntArray) -> IntArray:
    """``(a_0 b_0 + ... + a_t b_t) mod 2``."""
    return np.cumsum(x[:, :, 0] * x[:, :, 1], axis=1) % 2


def long_division(divisor: int) -> Labeller:
    """The quotient bits of a binary number given most significant bit first, divided by
    ``divisor``: ``r_{-1} = 0``, ``u_t = 2 r_{t-1} + x_t``, ``y_t = u_t // divisor``,
    ``r_t = u_t mod divisor``."""

    def divide(x: IntArray) -> IntArray:
        y = np.zeros_like(x)
        remainder = np.zeros(len(x), dtype=np.int64)
        for t in range(x.shape[1]):
            partial = 2 * remainder + x[:, t]
            y[:, t], remainder = partial // divisor, partial % divisor
        return y

    return divide


def _addition_task(number: int, base: int) -> Task:
    name = "Binary_Addition" if base == 2 else f"Base_{base}_Addition"
    steps = 10_000 if base == 2 else 20_000
    alphabet = Alphabet(0, base - 1, width=2)
    return Task(number, name, alphabet, 10, OutputRange(0, base - 1), steps, digit_addition(base))


def _bit_task(number: int, name: str, label: Labeller, steps: int = 10_000) -> Task:
    return Task(number, name, BITS, 10, BIT_OUTPUT, steps, label)


def _pair_task(number: int, name: str, label: Labeller, steps: int = 10_000) -> Task:
    return Task(number, name, BIT_PAIRS, 10, BIT_OUTPUT, steps, label)


def _division_task(number: int, divisor: int) -> Task:
    return Task(number, f"Div_{divisor}", BITS, 10, BIT_OUTPUT, 10_000, long_division(divisor), 80)


BIT_TASKS: tuple[Task, ...] = (
    *(_addition_task(number, base) for number, base in zip(range(1, 7), range(2, 8), strict=True)),
    _pair_task(7, "Bitwise_Xor", bitwise_xor),
    _pair_task(8, "Bitwise_Or", bitwise_or),
    _pair_task(9, "Bitwise_And", bitwise_and),
    _bit_task(10, "Bitwise_Not", bitwise_not),
    _bit_task(11, "Parity_Last2", parity_last(2)),
    _bit_task(12, "Parity_Last3", parity_last(3)),
    _bit_task(13, "Parity_Last4", parity_last(4)),
    _bit_task(14, "Parity_All", parity_all),
    _bit_task(15, "Parity_Zeros", parity_zeros, steps=20_000),
    Task(
        42,
        "Bit_Palindrome",
        BITS,
        10,
        BIT_OUTPUT,
        20_000,
        bit_palindrome,
        sample=palindrome_prefixes,
    ),
    _bit_task(43, "Balanced_Parenthesis", balanced_parenthesis, steps=20_000),
    _bit_task(44, "Parity_Bits_Mod2", parity_of_index, steps=20_000),
    _bit_task(45, "Alternating_Last3", alternating_last(3), steps=20_000),
    _bit_task(46, "Alternating_Last4", alternating_last(4), steps=20_000),
    _bit_task(47, "Bit_Shift_Right", bit_shift_right, steps=20_000),
    _pair_task(48, "Bit_Dot_Prod_Mod2", bit_dot_product_mod2, steps=20_000),
    _division_task(49, 3),
    _division_task(50, 5),
    _division_task(51, 7),
)
"""Rows 1-15 and 42-51 of reference §13."""
