"""``rasp run``'s output text: exactly ``json.dumps`` of every row, for ragged batches, BOS,
numbers, none, non-ASCII strings and JSON Lines, however many rows are gathered at once."""

from __future__ import annotations

import json

import pytest

from rasp_ir import text_rows
from rasp_ir.check import load_program
from rasp_ir.cli.json_output import output_text
from rasp_ir.interpreter import Evaluation, Executable
from rasp_ir.values import to_json

MIXED = """\
%vocab {"a", "é", "日本", "x y"}
%max_len 5
%bos "<s>"
same = select(tokens, tokens, ==);
count = selector_width(same);
share : num = map(fn(c, n) -> c / n, count, length);
first = aggregate(select(indices, tokens, ==), tokens);
output tokens, count, share, first;
"""
INPUTS = [["a", "é"], [], ["日本", "x y", "日本", "a", "é"], ["x y"], ["a", "a", "a", "a", "a"]]


def _evaluation() -> Evaluation:
    return Executable(load_program(text=MIXED).program)(INPUTS)


def _expected(evaluation: Evaluation, names: list[str], jsonl: bool) -> str:
    outputs = evaluation.outputs()
    rows = [{name: [to_json(v) for v in outputs[name][b]] for name in names} for b in range(5)]
    if jsonl:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return "".join(
        json.dumps(row[name], ensure_ascii=False) + "\n" for row in rows for name in names
    )


@pytest.mark.parametrize("jsonl", [False, True], ids=["arrays", "jsonl"])
@pytest.mark.parametrize("block_bytes", [1 << 25, 1], ids=["one-block", "row-by-row"])
def test_output_text_is_json_dumps_of_every_row(
    jsonl: bool, block_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_rows, "BLOCK_BYTES", block_bytes)
    evaluation = _evaluation()
    names = ["tokens", "count", "share", "first"]
    text = output_text(evaluation, names, jsonl=jsonl)
    assert text == _expected(evaluation, names, jsonl)
    first = (
        '{"tokens": ["<s>", "a", "é"], "count": [1, 1, 1], '
        if jsonl
        else ('["<s>", "a", "é"]\n[1, 1, 1]\n[0.3333333333333333, ')
    )
    assert text.startswith(first)


def test_no_inputs_or_no_outputs_print_nothing() -> None:
    evaluation = Executable(load_program(text=MIXED).program)([])
    assert output_text(evaluation, ["tokens"]) == ""
    assert output_text(_evaluation(), []) == ""
