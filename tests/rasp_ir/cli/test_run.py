"""``rasp run``: exact JSON output lines, input typing, batches and every kind of input error."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rasp_ir.cli.conftest import HALVES, REVERSE, Result

Rasp = Callable[..., Result]
Write = Callable[..., Path]


def test_chars_input_prints_one_json_array(rasp: Rasp, program: Write) -> None:
    result = rasp("run", program(REVERSE), "--chars", "hello")
    assert (result.code, result.out, result.err) == (0, '["o", "l", "l", "e", "h"]\n', "")


def test_token_arguments_are_typed_by_the_vocabulary(rasp: Rasp, program: Write) -> None:
    result = rasp("run", program(HALVES), "1", "3", "1")
    assert result.code == 0
    # BOS is position 0 of every output; 1/2 and 3/2 print as floats.
    assert result.out == "[false, true, false, true]\n[0, 0.5, 1, 1.5]\n"


def test_undefined_values_print_as_null(rasp: Rasp, program: Write) -> None:
    text = REVERSE.replace("opp = length - indices - 1;", "opp = length - indices;")
    result = rasp("run", program(text), "a", "b")
    assert result.out == '[null, "b"]\n'


def test_non_ascii_tokens_are_printed_as_they_are(rasp: Rasp, program: Write) -> None:
    text = REVERSE.replace('chars "abcdefghijklmnopqrstuvwxyz"', 'chars "éa"')
    assert rasp("run", program(text), "--chars", "éa").out == '["a", "é"]\n'


def test_batch_runs_each_line_in_order(rasp: Rasp, program: Write) -> None:
    batch = program('[1, 2]\n\n["3"]\n[]\n', "inputs.jsonl")
    result = rasp("run", program(HALVES), "--batch", batch)
    assert result.code == 0
    assert result.out.splitlines() == [
        "[false, true, false]",
        "[0, 0.5, 1]",
        "[false, false]",
        "[0, 0.5]",
        "[false]",
        "[0]",
    ]


def test_vocab_and_max_len_override_the_header(rasp: Rasp, program: Write) -> None:
    result = rasp("run", program(REVERSE), "3", "1", "2", "--vocab", "1,2,3", "--max-len", "3")
    assert (result.code, result.out) == (0, "[2, 1, 3]\n")
    json_vocab = rasp("run", program(REVERSE), "x", "y", "--vocab", '["x", "y"]')
    assert json_vocab.out == '["y", "x"]\n'


def _first_error(result: Result) -> str:
    assert result.code == 1
    assert result.out == ""
    assert "Traceback" not in result.err
    return result.err.splitlines()[0]


def test_token_outside_the_vocabulary(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE)
    first = _first_error(rasp("run", path, "h", "E"))
    assert first == (
        f'error: token "E" at position 1 is not in the vocabulary of {path} '
        '("a", "b", "c", "d", "e", "f", "g", "h", … (26 tokens)) [input-token]'
    )


def test_input_longer_than_max_len(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE)
    first = _first_error(rasp("run", path, "--chars", "abcdefghi"))
    assert (
        first
        == f"error: the input has 9 tokens, more than the max_len of {path} (8) [input-length]"
    )


def test_bad_batch_line_points_at_the_line(rasp: Rasp, program: Write) -> None:
    batch = program("[1, 2]\n[1.5]\n", "inputs.jsonl")
    first = _first_error(rasp("run", program(HALVES), "--batch", batch))
    assert (
        first == f"{batch}:2:1: error: token 1.5 is not a string, an integer or a boolean [input]"
    )
    batch.write_text("[1]\n[4]\n")
    first = _first_error(rasp("run", program(HALVES), "--batch", batch))
    assert first.startswith(f"{batch}:2:1: error: token 4 at position 0 is not in the vocabulary")


def test_unreadable_files(rasp: Rasp, tmp_path: Path, program: Write) -> None:
    missing = tmp_path / "missing.rasp"
    first = _first_error(rasp("run", missing, "a"))
    assert first.startswith(f"error: cannot read {missing}: ")
    first = _first_error(rasp("run", program(REVERSE), "--batch", missing))
    assert first.startswith(f"error: cannot read {missing}: ")


def test_syntax_error_has_file_line_and_column(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE.replace("opp = length - indices - 1;", "opp = length - ;"))
    result = rasp("run", path, "a")
    assert _first_error(result) == f"{path}:3:16: error: unexpected ';' [syntax]"
    assert "    opp = length - ;\n                   ^" in result.err


def test_bad_option_values_are_errors_not_usage_crashes(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE)
    first = _first_error(rasp("run", path, "a", "--max-len", "zero"))
    assert first == "error: --max-len must be a positive integer, got 'zero' [option]"
    first = _first_error(rasp("run", path, "a", "--vocab", "[1, "))
    assert first.startswith("error: --vocab is not a valid JSON array")
    first = _first_error(rasp("run", path, "a", "--vocab", "a,a"))
    assert first == "error: --vocab lists a token more than once [option]"


def test_exactly_one_input_form(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE)
    message = (
        "error: give the input as TOKEN ..., as --chars STRING or as --batch FILE "
        "(exactly one) [usage]"
    )
    assert _first_error(rasp("run", path)) == message
    assert _first_error(rasp("run", path, "a", "--chars", "b")) == message


def test_warnings_go_to_stderr_and_do_not_fail(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE.replace("output reverse;", "spare = tokens;\noutput reverse;"))
    result = rasp("run", path, "a", "b")
    assert (result.code, result.out) == (0, '["b", "a"]\n')
    assert result.err.startswith(f"{path}:6:1: warning: spare does not contribute")


def test_runtime_errors_are_diagnostics(rasp: Rasp, program: Write) -> None:
    text = REVERSE.replace("select(indices, opp, ==)", "select(indices, indices, <=)")
    result = rasp("run", program(text), "a", "b")
    assert (result.code, result.out) == (1, "")
    assert "error: categorical aggregate 'reverse' averages distinct values" in result.err
    assert "Traceback" not in result.err


def test_jsonl_prints_one_object_per_input(rasp: Rasp, program: Write) -> None:
    batch = program('[1, 2]\n["3"]\n[]\n', "inputs.jsonl")
    result = rasp("run", program(HALVES), "--batch", batch, "--jsonl")
    assert result.code == 0
    assert result.out.splitlines() == [
        '{"one": [false, true, false], "half": [0, 0.5, 1]}',
        '{"one": [false, false], "half": [0, 0.5]}',
        '{"one": [false], "half": [0]}',
    ]
    single = rasp("run", program(REVERSE), "--chars", "ab", "--jsonl")
    assert single.out == '{"reverse": ["b", "a"]}\n'


def test_batch_dash_reads_standard_input(
    rasp: Rasp, program: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('["a", "b", "c"]\n\n["d"]\n'))
    result = rasp("run", program(REVERSE), "--batch", "-")
    assert (result.code, result.out) == (0, '["c", "b", "a"]\n["d"]\n')
    monkeypatch.setattr("sys.stdin", io.StringIO('["a"]\n["A"]\n'))
    first = _first_error(rasp("run", program(REVERSE), "--batch", "-"))
    assert first.startswith('<stdin>:2:1: error: token "A" at position 0 is not in the vocabulary')


def test_ragged_batch_output_matches_json_dumps(rasp: Rasp, program: Write) -> None:
    rows = [list("abc"), [], list("hello"), ["a"], list("zyxwvuts")]
    batch = program("\n".join(json.dumps(row) for row in rows), "inputs.jsonl")
    result = rasp("run", program(REVERSE), "--batch", batch)
    assert result.out.splitlines() == [json.dumps(row[::-1]) for row in rows]
