"""The batch reader: the one-parse fast path reads exactly what the line-by-line reader reads,
and anything it cannot read exactly goes to that reader, which reports the same errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

from rasp_ir.batch_inputs import read_batch, read_batch_text
from rasp_ir.diagnostics import RaspError
from rasp_ir.inputs import check_input, json_tokens
from rasp_ir.ir import Header
from rasp_ir.values import Value, value_key

LETTERS = Header(("a", "b", "c"), 4)
NUMBERS = Header((1, 2, 3), 4)
BOOLS = Header((False, True), 3)


def one_line_at_a_time(text: str, header: Header) -> list[list[Value]]:
    """What the single-line readers make of ``text`` (the reference)."""
    inputs = []
    for line in text.splitlines():
        if line.strip():
            tokens = json_tokens(line, header.vocab)
            check_input(tokens, header)
            inputs.append(tokens)
    return inputs


def tagged(inputs: list[list[Value]]) -> list[list[tuple[int, object]]]:
    return [[value_key(v) for v in row] for row in inputs]


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ('["a", "b"]\n["c"]\n\n[]\n["a","a","b","c"]', LETTERS),
        ('  ["a"]\t\r\n["b", "c"]\r\n', LETTERS),
        ('"abc"\n["a"]', LETTERS),
        ('[1, "2"]\n["3", 3]\n[]', NUMBERS),
        ('[1, " 2"]\n["+3"]', NUMBERS),
        ('[true, "false"]\n["true"]', BOOLS),
        ('["a,b"]\n["a"]', Header(("a", "a,b"), 2)),
        ("", LETTERS),
    ],
)
def test_fast_and_careful_readers_agree(text: str, header: Header) -> None:
    batch = read_batch_text(text, header, "in.jsonl", "prog.rasp")
    assert tagged(batch.tokens(header.vocab)) == tagged(one_line_at_a_time(text, header))
    assert batch.indices.shape == (len(batch), max(batch.lengths.tolist(), default=0))


def test_a_large_uniform_batch_is_laid_out_row_by_row() -> None:
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 3, size=(500, 4))
    text = "\n".join(str([LETTERS.vocab[i] for i in row]).replace("'", '"') for row in rows)
    batch = read_batch_text(text, LETTERS, "in.jsonl", "prog.rasp")
    assert np.array_equal(batch.indices, rows)
    assert batch.lengths.tolist() == [4] * 500


@pytest.mark.parametrize(
    ("text", "header", "error"),
    [
        # Two arrays on one line, balanced by two lines that make one array together.
        ('["a"], ["b"]\n["a", ["b"]\n["c"]]', LETTERS, "in.jsonl:1:1: error: not a JSON array"),
        ('["a"]\n["a"], ["b"]\n["c"', LETTERS, "in.jsonl:2:1: error: not a JSON array"),
        ('["a"]\n["d"]', LETTERS, 'in.jsonl:2:1: error: token "d" at position 0'),
        ('["a"]\n["a", "b", "c", "a", "b"]', LETTERS, "in.jsonl:2:1: error: the input has 5"),
        ("[1]\n[true]", NUMBERS, "in.jsonl:2:1: error: token true at position 0"),
        ("[1]\n[1.0]", NUMBERS, "in.jsonl:2:1: error: token 1.0 is not a string"),
        ("[true]\n[1]", BOOLS, "in.jsonl:2:1: error: token 1 at position 0"),
        ('["a"]\n\u00a0["b"]', LETTERS, "in.jsonl:2:1: error: not a JSON array"),
        ('["a"]\n[{"b": 1}]', LETTERS, 'in.jsonl:2:1: error: token {"b": 1} is not a string'),
    ],
)
def test_what_the_fast_path_refuses_is_reported_line_by_line(
    text: str, header: Header, error: str
) -> None:
    with pytest.raises(RaspError) as raised:
        read_batch_text(text, header, "in.jsonl", "prog.rasp")
    assert raised.value.diagnostics[0].render().startswith(error)


def test_a_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('["b"]\n["a", "c"]\n'))
    batch = read_batch("-", LETTERS, "prog.rasp")
    assert batch.tokens(LETTERS.vocab) == [["b"], ["a", "c"]]
    monkeypatch.setattr("sys.stdin", io.StringIO('["x"]\n'))
    with pytest.raises(RaspError, match=r"not in the vocabulary of prog\.rasp") as raised:
        read_batch("-", LETTERS, "prog.rasp")
    assert raised.value.diagnostics[0].render().startswith("<stdin>:1:1: error")
