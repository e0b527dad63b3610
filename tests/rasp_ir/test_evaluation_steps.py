"""The interpreter's steps on both sides of their size switch (a plain sum on small selectors,
einsum on large ones): a large batch, and each of its inputs alone, equal the naive evaluator
on every reduction, with empty rows and defaults."""

from __future__ import annotations

import numpy as np

from rasp_ir.check import load_program
from rasp_ir.evaluation_steps import SMALL_SELECTOR
from rasp_ir.interpreter import Executable
from rasp_ir.naive import naive_outputs

REDUCTIONS = """\
%vocab {0, 1, 2, 3, 4}
%max_len 8
earlier = select(tokens, tokens, <);
same = select(tokens, tokens, ==);
first = select(indices, tokens, ==);
smaller = selector_width(earlier);
largest_below = aggregate(earlier, tokens, reduce=max, default=9);
smallest_below = aggregate(earlier, tokens, reduce=min);
copy = aggregate(first, tokens, default=-1);
here = aggregate(same, tokens);
value : num = map(fn(t) -> t, tokens);
mean_below : num = aggregate(earlier, value);
sum_below : num = aggregate(earlier, value, reduce=sum, default=0);
output smaller, largest_below, smallest_below, copy, here, mean_below, sum_below;
"""


def test_a_large_batch_and_its_inputs_alone_equal_the_naive_evaluator() -> None:
    program = load_program(text=REDUCTIONS).program
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 5, int(rng.integers(0, 9))).tolist() for _ in range(200)]
    inputs += [[4] * 8, [0] * 8, []]
    assert len(inputs) * 8 * 8 > SMALL_SELECTOR
    executable = Executable(program)
    batch = executable(inputs).outputs()
    for b, tokens in enumerate(inputs):
        expected = naive_outputs(program, tokens)
        assert {name: values[b] for name, values in batch.items()} == expected
        assert {name: values[0] for name, values in executable([tokens]).outputs().items()} == (
            expected
        )
