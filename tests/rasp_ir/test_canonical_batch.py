"""Reading batch text from its bytes: exactly the tokens a JSON parse gives when the text is
what ``json.dumps`` writes, and None (the JSON reader's turn) for any other text."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir.canonical_batch import read_canonical

VOCAB = ("a", "b", "ab", "", "long_tok", "x y", "[", "]", ",")
MAX_LEN = 6


def _reference(text: str) -> tuple[list[int], list[int]]:
    """Vocabulary positions and lengths by a JSON parse of each line."""
    rows = [json.loads(line) for line in text.splitlines()]
    return [VOCAB.index(t) for row in rows for t in row], [len(row) for row in rows]


def _read(text: str) -> tuple[list[int], list[int]] | None:
    found = read_canonical(text, VOCAB, MAX_LEN)
    return None if found is None else (found[0].tolist(), found[1].tolist())


batches = st.lists(st.lists(st.sampled_from(VOCAB), max_size=MAX_LEN), max_size=20)


@settings(max_examples=200, deadline=None)
@given(batches.filter(bool))
def test_json_dumps_text_is_read_as_the_json_parse_reads_it(batch: list[list[str]]) -> None:
    text = "".join(json.dumps(row) + "\n" for row in batch)
    assert _read(text) == _reference(text)


EDITS = [
    lambda t: t.replace(", ", ","),
    lambda t: t.replace("[", "[ ", 1),
    lambda t: t.rstrip("\n"),
    lambda t: t + "\n",
    lambda t: "\n" + t,
    lambda t: t.replace('"a"', '"c"'),
    lambda t: t.replace('"a"', '"\\u0061"'),
    lambda t: t.replace('"b"', "1"),
    lambda t: t.replace("\n", "\r\n"),
    lambda t: t.replace("]\n", "]]\n", 1),
    lambda t: t.replace('"ab"', '"a"b"'),
]


@settings(max_examples=300, deadline=None)
@given(batches, st.sampled_from(range(len(EDITS))))
def test_other_text_is_left_to_the_json_reader(batch: list[list[str]], edit: int) -> None:
    canonical = "".join(json.dumps(row) + "\n" for row in batch)
    text = EDITS[edit](canonical)
    found = _read(text)
    assert found is None or (text == canonical and found == _reference(text))


def test_lines_over_max_len_are_left_to_the_json_reader() -> None:
    assert _read(json.dumps(["a"] * (MAX_LEN + 1)) + "\n") is None
    assert _read(json.dumps(["a"] * MAX_LEN) + "\n") == ([0] * MAX_LEN, [MAX_LEN])


def test_only_vocabularies_of_short_plain_strings_are_read_from_bytes() -> None:
    assert read_canonical("[1, 2]\n", (1, 2), 4) is None
    assert read_canonical('["é"]\n', ("é",), 4) is None  # json.dumps writes "\u00e9"
    assert read_canonical('["ninebytes"]\n', ("ninebytes",), 4) is None
    found = read_canonical('["\\u00e9"]\n', ("é", "e"), 4)
    assert found is None
    lengths = read_canonical("[]\n[]\n", ("a",), 4)
    assert lengths is not None and np.array_equal(lengths[1], [0, 0])
