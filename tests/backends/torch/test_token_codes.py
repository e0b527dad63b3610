"""Token numbers: the single-character path gives what one dict lookup per token gives, and
every batch it cannot read exactly falls back to that lookup."""

from __future__ import annotations

import numpy as np
import pytest

from rasp_ir.backends.torch import compile_program
from rasp_ir.backends.torch.token_codes import MISSING, SEPARATOR, TokenNumbers
from rasp_ir.diagnostics import RaspError
from rasp_ir.values import Value, value_key
from tests.backends.torch.helpers import program


def _per_token(numbers: TokenNumbers, inputs: list[list[Value]]) -> list[int]:
    return [numbers.index.get(value_key(t), MISSING) for row in inputs for t in row]


def _numbers(numbers: TokenNumbers, inputs: list[list[Value]]) -> list[int]:
    found: list[int] = numbers.numbers(inputs, sum(map(len, inputs))).tolist()
    return found


CHARACTERS = ("a", "b", "c", "é", "😀")


def test_single_characters_use_a_code_point_table() -> None:
    assert TokenNumbers(CHARACTERS, None).by_code_point is not None


@pytest.mark.parametrize(
    "inputs",
    [
        [list("abc"), list("c"), list("😀éa")],
        ["abc", "ca"],  # rows given as strings are rows of characters
        [list("abc"), [], list("b")],  # an empty row
        [["ab", ""], list("c")],  # two tokens of the right total length
        [["a", "d", "b"]],  # a character outside the vocabulary
        [["a", SEPARATOR, "b"]],  # the separator as a token
        [["a", "b" + SEPARATOR, "c"]],
        [["a", 1, True, None]],  # not strings
        [["\ud800", "a"]],  # a lone surrogate
        [],
        [[]],
    ],
)
def test_every_batch_gets_the_numbers_of_one_lookup_per_token(inputs: list[list[Value]]) -> None:
    numbers = TokenNumbers(CHARACTERS, None)
    assert _numbers(numbers, inputs) == _per_token(numbers, inputs)


def test_bos_is_not_an_input_token() -> None:
    numbers = TokenNumbers(("S", "a", "b"), "S")
    assert _numbers(numbers, [list("abS")]) == [2, 3, MISSING]


@pytest.mark.parametrize(
    "vocab", [("a", "bc"), ("a", SEPARATOR), (1, 2, True), ("a", 1), ("a", "")]
)
def test_other_vocabularies_look_each_token_up(vocab: tuple[Value, ...]) -> None:
    numbers = TokenNumbers(vocab, None)
    assert numbers.by_code_point is None
    inputs: list[list[Value]] = [list(vocab), [*vocab[::-1], "z", 1, True]]
    assert _numbers(numbers, inputs) == _per_token(numbers, inputs)
    assert np.all(np.array(_numbers(numbers, [list(vocab)])) > 0)


@pytest.mark.parametrize("bad", ["d", "ab", "", SEPARATOR])
def test_a_compiled_model_names_the_token_outside_its_vocabulary(bad: str) -> None:
    model = compile_program(program('%vocab {"a", "b", "c"}\n%max_len 4\nw = tokens;\noutput w;\n'))
    assert model.run([list("abc"), list("ca")]).outputs == {"w": [list("abc"), list("ca")]}
    with pytest.raises(RaspError, match=r"at example 1 is not in the vocabulary") as error:
        model.run([list("abc"), ["c", bad, "a"]])
    assert error.value.diagnostics[0].code == "input-token"
