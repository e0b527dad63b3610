"""Sums the torch backend holds as a (sum, count) ratio channel: compiled only where float32
decodes them exactly (:func:`~rasp_ir.backends.torch.affine_maps.ratio_decoding_error`), and
then equal to the interpreter on random and extreme inputs; refused with a located message
otherwise. A suffix sum (keys at or after the query) cannot use the exact scalar form of a
prefix sum, so it is the ratio channel's test case."""

from __future__ import annotations

import random

import pytest

from rasp_ir.api import Value, canonical_values, sum_values
from rasp_ir.backends.torch import compile_program
from rasp_ir.backends.torch.affine_maps import ratio_decoding_error
from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax import parse_program
from tests.backends.torch.helpers import check


def suffix_sum(largest: int, max_len: int) -> str:
    """The sum of the values from each position to the end, over tokens 0..``largest``."""
    digits = ", ".join(map(str, range(largest + 1)))
    return (
        f"%vocab {{{digits}}}\n%max_len {max_len}\n"
        "x : num = map(fn(t) -> t, tokens);\n"
        "s : num = aggregate(select(indices, indices, >=), x, reduce=sum);\n"
        "output s;\n"
    )


def extreme_inputs(largest: int, max_len: int, count: int) -> list[list[Value]]:
    """All-largest, alternating and random rows of the extremes, and random rows."""
    rng = random.Random(0)
    extremes = (0, 1, largest - 1, largest)
    rows: list[list[Value]] = [[largest] * max_len, [largest, 0] * (max_len // 2)]
    rows += [[rng.choice(extremes) for _ in range(max_len)] for _ in range(count)]
    rows += [
        [rng.randint(0, largest) for _ in range(rng.randint(1, max_len))] for _ in range(count)
    ]
    return rows


def bound(largest: int, max_len: int) -> float:
    sums = canonical_values((*sum_values(range(largest + 1), max_len), 0))
    return ratio_decoding_error(sums, float(largest), max_len)


@pytest.mark.parametrize(("largest", "max_len"), [(5, 100), (24, 20)])
def test_the_bound_admits_exactly_the_values_up_to(largest: int, max_len: int) -> None:
    assert bound(largest, max_len) < 0.25 <= bound(largest + 1, max_len)


@pytest.mark.parametrize(("largest", "max_len"), [(5, 100), (24, 20)])
def test_a_suffix_sum_just_inside_the_bound_is_exact(largest: int, max_len: int) -> None:
    prog = parse_program(suffix_sum(largest, max_len), "suffix.rasp")
    model = check(prog, extreme_inputs(largest, max_len, 150))
    assert {"s:sum", "s:ratio"} <= set(model.info.residual_labels)


@pytest.mark.parametrize(("largest", "max_len"), [(6, 100), (56, 100), (25, 20)])
def test_a_suffix_sum_outside_the_bound_is_refused_at_its_line(largest: int, max_len: int) -> None:
    # At 0..56 (and 0..99) over 100 positions the ratio channel was compiled and off by one
    # at some positions.
    with pytest.raises(RaspError) as caught:
        compile_program(parse_program(suffix_sum(largest, max_len), "suffix.rasp"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "unsupported"
    assert "float32 cannot decode exactly" in diagnostic.message
    assert "lower %max_len" in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == 4
