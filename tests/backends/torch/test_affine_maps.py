"""Numerical affine maps and sums over positions compile linearly: a sum over
``select(indices, indices - j, ==)`` or ``select(indices, indices, <=)`` is one scalar dimension
written by its head, a map affine in such sums is two ReLU units, and a categorical readout is
the only MLP that tabulates; the models agree with the interpreter, with the widths asserted."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rasp_ir.api import affine_coefficients, ir
from rasp_ir.backends.torch import compile_program
from rasp_ir.diagnostics import RaspError
from tests.backends.torch.helpers import check, program, random_inputs

DIGITS = "{" + ", ".join(map(str, range(100))) + "}"


def sum_last(k: int, max_len: int, readout: str = "") -> str:
    """Sum_Last-k over 0..99 in numerical form: one sum per lookback, one affine map."""
    lines = [f"%vocab {DIGITS}", f"%max_len {max_len}", "x : num = map(fn(t) -> t, tokens);"]
    terms = ["x"]
    for j in range(1, k):
        lines.append(
            f"back_{j} : num = aggregate(select(indices, indices - {j}, ==), x, reduce=sum, "
            "default=0);"
        )
        terms.append(f"back_{j}")
    params = ", ".join(f"v{i}" for i in range(k))
    total = " + ".join(f"v{i}" for i in range(k))
    lines.append(f"total : num = map(fn({params}) -> {total}, {', '.join(terms)});")
    if readout:
        lines.append(f"shown = map(fn(s) -> {readout}, total);")
    lines.append("output shown;" if readout else "output total;")
    return "\n".join(lines)


def labels(model: object) -> list[str]:
    """The residual labels other than the tokens' and positions' one-hots."""
    found = model.info.residual_labels  # type: ignore[attr-defined]
    return [x for x in found if not x.startswith(("tokens:", "indices:"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b", ({"a": 1, "b": 1}, 0)),
        ("a - 2 * b + 3", ({"a": 1, "b": -2}, 3)),
        ("-(a - b) * 4", ({"a": -4, "b": 4}, 0)),
        ("a + b - a", ({"b": 1}, 0)),
        ("(a + 1) * (2 - 1)", ({"a": 1}, 1)),
    ],
)
def test_affine_bodies_are_read_as_coefficients(
    text: str, expected: tuple[dict[str, int], int]
) -> None:
    body = program(
        f"%vocab {{1}}\n%max_len 1\ny : num = map(fn(a, b) -> {text}, tokens, tokens);\noutput y;"
    )
    node = body.binding("y").node
    assert isinstance(node, ir.Map)
    terms, constant = expected
    assert affine_coefficients(node.fn.body) == (
        {n: Fraction(c) for n, c in terms.items()},
        Fraction(constant),
    )


@pytest.mark.parametrize("text", ["a * b", "a / 2", "a % 3", "a if a > b else b", "abs(a)"])
def test_other_bodies_are_not_affine(text: str) -> None:
    body = program(
        f"%vocab {{1}}\n%max_len 1\ny : num = map(fn(a, b) -> {text}, tokens, tokens);\noutput y;"
    )
    node = body.binding("y").node
    assert isinstance(node, ir.Map)
    assert affine_coefficients(node.fn.body) is None


@pytest.mark.parametrize("k", [2, 3, 5])
def test_sum_last_k_is_one_scalar_per_term_and_two_units(k: int) -> None:
    prog = program(sum_last(k, 10))
    model = check(prog, random_inputs(prog, 300))
    assert labels(model) == ["one", "bos", *(f"back_{j}" for j in range(1, k)), "total"]
    assert model.config.d_model == 100 + 10 + 2 + k  # tokens, positions, one, bos, sums, total
    assert (model.config.n_layers, model.config.d_mlp) == (1, 2)


def test_a_categorical_readout_is_the_only_tabulating_mlp() -> None:
    prog = program(sum_last(3, 10, readout="s % 7"))
    model = check(prog, random_inputs(prog, 300))
    assert model.config.n_layers == 2
    # the sum is 0..297: one step pair at each of its 297 thresholds, plus the base
    assert model.config.d_mlp <= 2 * 297 + 1


@pytest.mark.parametrize("max_len", [10, 100])
def test_a_prefix_sum_is_held_exactly_in_one_dimension(max_len: int) -> None:
    text = (
        f"%vocab {DIGITS}\n%max_len {max_len}\n"
        "x : num = map(fn(t) -> t, tokens);\n"
        "total : num = aggregate(select(indices, indices, <=), x, reduce=sum, default=0);\n"
        "shown : num = map(fn(s) -> s + 5, total);\n"
        "output shown;"
    )
    prog = program(text)
    largest = [[99] * max_len, [0] * (max_len - 1) + [99]]
    model = check(prog, [*random_inputs(prog, 300), *largest])
    assert labels(model) == ["one", "bos", "total", "shown"]
    assert (model.config.n_layers, model.config.d_mlp) == (1, 2)


def test_a_prefix_sum_too_large_to_scale_exactly_is_refused() -> None:
    # Sums up to 20 * 4,000 with a gap of 1: 4 * 2^-24 * |score| * max |S| is about 1, far
    # over 1/4, and the ratio channel cannot be decoded exactly either (it was compiled, and
    # wrong on 280 of 600 random inputs).
    text = (
        f"%vocab {DIGITS}\n%max_len 20\n"
        "x : num = map(fn(t) -> 4000 if t == 0 else t, tokens);\n"
        "total : num = aggregate(select(indices, indices, <=), x, reduce=sum, default=0);\n"
        "output total;"
    )
    with pytest.raises(RaspError, match="float32 cannot decode exactly"):
        compile_program(program(text))


@pytest.mark.parametrize("body", ["abs(v)", "abs(v - 3)", "abs(2 * v - t + 1)", "abs(-v)"])
def test_abs_of_an_affine_body_is_two_units(body: str) -> None:
    # |x_t - x_{t-1}| and relatives: ReLU(z) + ReLU(-z) of the form z, exact.
    text = (
        f"%vocab {DIGITS}\n%max_len 10\n"
        "x : num = map(fn(t) -> t, tokens);\n"
        "back : num = aggregate(select(indices, indices - 1, ==), x, reduce=sum, default=0);\n"
        "v : num = map(fn(a, b) -> a - b, x, back);\n"
        f"y : num = map(fn(v, t) -> {body}, v, x);\n"
        "output y;"
    )
    prog = program(text)
    model = check(prog, random_inputs(prog, 300))
    assert (model.config.n_layers, model.config.d_mlp) == (1, 2)
