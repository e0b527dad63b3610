"""Every MIPS task's reference function against sequences worked out by hand from reference
§13, first positions included (inputs before position 0 count as 0)."""

from __future__ import annotations

import numpy as np
import pytest

from rasp_ir.frontends.mips.tasks import TASKS, get_task

Pairs = list[tuple[int, int]]


def pairs(a: list[int], b: list[int]) -> Pairs:
    """Two digit rows as one row of ``(a_t, b_t)`` steps."""
    return list(zip(a, b, strict=True))


RAMP = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0, 99, 99, 99, 99, 99]
DELAYS = [7, 0, 99, 13, 42, 5, 5, 61, 88, 1]
WINDOWS = [10, 20, 5, 0, 99, 99, 1, 2, 3, 50]
SIGNED = [-100, 99, 0, -5, -5, 50, -50, 3, 4, -1]
DIVIDEND = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1]  # 727, most significant bit first
XY_A = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0]
XY_B = [0, 1, 0, 1, 1, 1, 0, 0, 1, 0]

# (task, x, y): the hand-computed outputs of one input sequence.
EXAMPLES: list[tuple[str, list[int] | Pairs, list[int] | Pairs]] = [
    # 459 + 941 = 1400 = 376 + 1024, least significant bit first; the final carry is dropped
    (
        "Binary_Addition",
        pairs([1, 1, 0, 1, 0, 0, 1, 1, 1, 0], [1, 0, 1, 1, 0, 1, 0, 1, 1, 1]),
        [0, 0, 0, 1, 1, 1, 1, 0, 1, 0],
    ),
    (
        "Base_3_Addition",
        pairs([2, 2, 1, 0, 2, 0, 0, 1, 2, 2], [1, 2, 2, 0, 0, 1, 2, 1, 0, 2]),
        [0, 2, 1, 1, 2, 1, 2, 2, 2, 1],
    ),
    (
        "Base_4_Addition",
        pairs([3, 3, 3, 0, 1, 2, 0, 0, 0, 3], [1, 0, 3, 0, 2, 2, 3, 0, 0, 3]),
        [0, 0, 3, 1, 3, 0, 0, 1, 0, 2],
    ),
    (
        "Base_5_Addition",
        pairs([4, 4, 4, 4, 0, 1, 2, 3, 4, 0], [1, 0, 0, 0, 0, 1, 2, 1, 1, 4]),
        [0, 0, 0, 0, 1, 2, 4, 4, 0, 0],
    ),
    (
        "Base_6_Addition",
        pairs([5, 0, 3, 5, 2, 1, 0, 4, 5, 5], [5, 5, 2, 0, 3, 4, 0, 1, 0, 5]),
        [4, 0, 0, 0, 0, 0, 1, 5, 5, 4],
    ),
    (
        "Base_7_Addition",
        pairs([6, 6, 0, 1, 2, 3, 4, 5, 6, 0], [6, 0, 6, 5, 4, 3, 2, 1, 0, 0]),
        [5, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ),
    ("Bitwise_Xor", pairs(XY_A, XY_B), [0, 1, 1, 0, 1, 0, 0, 1, 0, 0]),
    ("Bitwise_Or", pairs(XY_A, XY_B), [0, 1, 1, 1, 1, 1, 0, 1, 1, 0]),
    # the bits of the same step: at t = 2, a_2 = 1 and b_1 = 1 but b_2 = 0
    ("Bitwise_And", pairs(XY_A, XY_B), [0, 0, 0, 1, 0, 1, 0, 0, 1, 0]),
    ("Bitwise_Not", [1, 0, 0, 1, 1, 1, 0, 1, 0, 0], [0, 1, 1, 0, 0, 0, 1, 0, 1, 1]),
    ("Parity_Last2", [1, 1, 0, 1, 0, 0, 1, 1, 1, 0], [1, 0, 1, 1, 1, 0, 1, 0, 0, 1]),
    ("Parity_Last3", [1, 1, 0, 1, 0, 0, 1, 1, 1, 0], [1, 0, 0, 0, 1, 1, 1, 0, 1, 0]),
    # a parity, not an OR: y_2 = (1 + 0 + 1) mod 2 = 0
    ("Parity_Last4", [1, 0, 1, 1, 1, 0, 0, 0, 1, 1], [1, 1, 0, 1, 1, 1, 0, 1, 1, 0]),
    ("Parity_All", [1, 0, 1, 1, 0, 0, 1, 0, 1, 1], [1, 1, 0, 1, 1, 1, 0, 0, 1, 0]),
    ("Parity_Zeros", [0, 1, 0, 0, 1, 1, 0, 1, 1, 1], [1, 1, 0, 1, 1, 1, 0, 0, 0, 0]),
    ("Evens_Counter", [3, 4, 0, 7, 8, 9, 2, 1, 6, 5], [0, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    ("Evens_Counter", [0, 2, 4, 6, 8, 0, 2, 4, 6, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    (
        "Sum_All",
        [5, 99, 0, 12, 40, 3, 77, 1, 60, 8],
        [5, 104, 104, 116, 156, 159, 236, 237, 297, 305],
    ),
    ("Sum_Last2", WINDOWS, [10, 30, 25, 5, 99, 198, 100, 3, 5, 53]),
    ("Sum_Last3", WINDOWS, [10, 30, 35, 25, 104, 198, 199, 102, 6, 55]),
    ("Sum_Last4", WINDOWS, [10, 30, 35, 35, 124, 203, 199, 201, 105, 56]),
    (
        "Sum_Last5",
        RAMP,
        [1, 3, 6, 10, 15, 20, 25, 30, 35, 40, 34, 27, 19, 10, 0, 99, 198, 297, 396, 495],
    ),
    (
        "Sum_Last6",
        RAMP,
        [1, 3, 6, 10, 15, 21, 27, 33, 39, 45, 40, 34, 27, 19, 10, 99, 198, 297, 396, 495],
    ),
    (
        "Sum_Last7",
        RAMP,
        [1, 3, 6, 10, 15, 21, 28, 35, 42, 49, 45, 40, 34, 27, 19, 109, 198, 297, 396, 495],
    ),
    ("Current_Number", DELAYS, DELAYS),
    ("Prev1", DELAYS, [0, 7, 0, 99, 13, 42, 5, 5, 61, 88]),
    ("Prev2", DELAYS, [0, 0, 7, 0, 99, 13, 42, 5, 5, 61]),
    ("Prev3", DELAYS, [0, 0, 0, 7, 0, 99, 13, 42, 5, 5]),
    ("Prev4", DELAYS, [0, 0, 0, 0, 7, 0, 99, 13, 42, 5]),
    (
        "Prev5",
        [*DELAYS, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        [0, 0, 0, 0, 0, *DELAYS, 11, 12, 13, 14, 15],
    ),
    # x_{-1} = 0, so y_0 = [x_0 = 0]
    ("Previous_Equals_Current", [0, 0, 3, 3, 3, 7, 0, 7, 7, 1], [1, 1, 0, 1, 1, 0, 0, 0, 1, 0]),
    ("Previous_Equals_Current", [5, 5, 0, 1, 2, 2, 2, 3, 4, 4], [0, 1, 0, 0, 0, 1, 1, 0, 0, 1]),
    ("Diff_Last2", SIGNED, [-100, 199, -99, -5, 0, 55, -100, 53, 1, -5]),
    ("Abs_Diff", SIGNED, [100, 199, 99, 5, 0, 55, 100, 53, 1, 5]),
    ("Abs_Current", SIGNED, [100, 99, 0, 5, 5, 50, 50, 3, 4, 1]),
    ("Diff_Abs_Values", SIGNED, [100, -1, -99, 5, 0, 45, 0, -47, 1, -3]),
    ("Min_Seen", [5, 7, 3, 9, 3, 0, 4, 1, 0, 8], [5, 5, 3, 3, 3, 0, 0, 0, 0, 0]),
    # a running maximum, not a sum
    ("Max_Seen", [12, 5, 40, 40, 3, 99, 0, 98, 1, 2], [12, 12, 40, 40, 40, 99, 99, 99, 99, 99]),
    # ties go to the smallest value
    ("Majority_0_1", [1, 0, 1, 1, 0, 0, 0, 1, 1, 1], [1, 0, 1, 1, 1, 0, 0, 0, 1, 1]),
    ("Majority_0_2", [2, 1, 1, 2, 0, 0, 0, 2, 2, 1], [2, 1, 1, 1, 1, 0, 0, 0, 2, 2]),
    ("Majority_0_3", [3, 2, 3, 2, 1, 1, 1, 0, 0, 0], [3, 2, 3, 2, 2, 1, 1, 1, 1, 0]),
    ("Evens_Detector", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
    (
        "Perfect_Square_Detector",
        [0, 1, 2, 3, 4, 9, 15, 16, 19, 8],
        [1, 1, 0, 0, 1, 1, 0, 1, 0, 0],
    ),
    ("Bit_Palindrome", [1, 0, 1, 1, 0, 1, 0, 0, 1, 1], [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]),
    # 0 = "(", 1 = ")": balanced after 2 and 6 symbols; nothing after the balance goes negative
    ("Balanced_Parenthesis", [0, 1, 0, 0, 1, 1, 1, 0, 1, 0], [0, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
    ("Balanced_Parenthesis", [1, 0, 0, 1, 0, 1, 0, 1, 0, 1], [0] * 10),
    ("Parity_Bits_Mod2", [1, 1, 0, 1, 0, 0, 1, 0, 1, 1], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
    # with x_{-1} = 0, the window at t = 1 is (0, 1, 0)
    ("Alternating_Last3", [1, 0, 1, 1, 0, 1, 0, 0, 1, 0], [0, 1, 1, 0, 0, 1, 1, 0, 0, 1]),
    ("Alternating_Last4", [1, 0, 1, 0, 0, 1, 0, 1, 1, 0], [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]),
    ("Bit_Shift_Right", [1, 1, 0, 1, 0, 0, 1, 0, 1, 1], [0, 1, 1, 0, 1, 0, 0, 1, 0, 1]),
    (
        "Bit_Dot_Prod_Mod2",
        pairs([1, 1, 0, 1, 1, 0, 1, 1, 1, 0], [1, 1, 1, 0, 1, 1, 1, 0, 1, 1]),
        [1, 0, 0, 0, 1, 1, 0, 0, 1, 1],
    ),
    # long division, most significant bit first: 727 // 3 = 242, 727 // 5 = 145, 727 // 7 = 103
    ("Div_3", DIVIDEND, [0, 0, 1, 1, 1, 1, 0, 0, 1, 0]),
    ("Div_5", DIVIDEND, [0, 0, 1, 0, 0, 1, 0, 0, 0, 1]),
    ("Div_7", DIVIDEND, [0, 0, 0, 1, 1, 0, 0, 1, 1, 1]),
    ("Add_Mod_3", [2, 2, 1, 0, 2, 1, 1, 0, 2, 2], [2, 1, 2, 2, 1, 2, 0, 0, 2, 1]),
    ("Add_Mod_4", [3, 3, 1, 0, 2, 2, 1, 3, 0, 3], [3, 2, 3, 3, 1, 3, 0, 3, 3, 2]),
    ("Add_Mod_5", [4, 4, 4, 0, 1, 2, 3, 4, 0, 3], [4, 3, 2, 2, 3, 0, 3, 2, 2, 0]),
    ("Add_Mod_6", [5, 5, 5, 1, 0, 2, 3, 4, 5, 0], [5, 4, 3, 4, 4, 0, 3, 1, 0, 0]),
    ("Add_Mod_7", [6, 6, 6, 6, 1, 2, 3, 0, 5, 4], [6, 5, 4, 3, 4, 6, 2, 2, 0, 4]),
    ("Add_Mod_8", [7, 7, 7, 1, 0, 2, 6, 5, 4, 3], [7, 6, 5, 6, 6, 0, 6, 3, 7, 2]),
    # running sums 8 16 31 31 45 46 61 76 83 90: a 1 each time a multiple of 15 is passed
    ("Dithering", [8, 8, 15, 0, 14, 1, 15, 15, 7, 7], [0, 1, 1, 0, 1, 0, 1, 1, 0, 1]),
    # velocities 1 3 3 2 -8 2 2 2 5 2
    ("Newton_Freebody", [1, 2, 0, -1, -10, 10, 0, 0, 3, -3], [1, 4, 7, 9, 1, 3, 5, 7, 12, 14]),
    # accelerations 0 1 -1 -2 -11 9 -1 -1 2 -4, velocities 0 1 0 -2 -13 -4 -5 -6 -4 -8
    (
        "Newton_Gravity",
        [1, 2, 0, -1, -10, 10, 0, 0, 3, -3],
        [0, 1, 1, -1, -14, -18, -23, -29, -33, -41],
    ),
    # accelerations 1 -1 -1 0 1 1 0 -1 1 -3
    ("Newton_Spring", [1, 0, 0, 0, 0, 0, 0, 0, 2, -1], [1, 1, 0, -1, -1, 0, 1, 1, 2, 0]),
    # velocities (1,0) (1,1) (0,2) (-2,4) (-7,2) (-9,-5) (-4,-14) (10,-18) (28,-8) (36,20)
    (
        "Newton_Magnetic",
        [(1, 0), (0, 0), (0, 0), (0, 2), (-1, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)],
        [
            (1, 0),
            (2, 1),
            (2, 3),
            (0, 7),
            (-7, 9),
            (-16, 4),
            (-20, -10),
            (-10, -28),
            (18, -36),
            (54, -16),
        ],
    ),
]


@pytest.mark.parametrize(("name", "x", "y"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_reference_function_on_a_hand_computed_sequence(
    name: str, x: list[int] | Pairs, y: list[int] | Pairs
) -> None:
    task = get_task(name)
    inputs = np.array([x], dtype=np.int64)
    assert inputs.shape == task.alphabet.shape(1, task.length)
    np.testing.assert_array_equal(task.label(inputs), np.array([y], dtype=np.int64))


def test_every_task_has_a_hand_computed_example() -> None:
    assert {name for name, _, _ in EXAMPLES} == set(TASKS)
