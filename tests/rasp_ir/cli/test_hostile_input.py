"""Hostile input on the hub's entry points: random bytes, truncated and mutated programs, unicode,
10 MB files, huge numbers, inputs outside the vocabulary or longer than max_len, and every kind
of bad ``--batch`` line. Each gets exit code 0 (when what is left is still a program) or 1 with
rendered diagnostics; never an exception (``main`` lets only bugs escape)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rasp_ir.cli.conftest import Result

Rasp = Callable[..., Result]
Program = Callable[..., Path]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SOURCES = ["sort.rasp", "dyck2.rasp", "count_less_freq.rasp"]
OK = '%vocab {"a", "b"}\n%max_len 3\nx = tokens == "a";\noutput x;\n'


def _refused_cleanly(rasp: Rasp, *args: str | Path) -> str:
    """Run ``rasp ARGS``: exit code 1 with an error on stderr and nothing on stdout; stderr."""
    result = rasp(*args)
    assert (result.code, result.out) == (1, ""), result.err
    assert "error:" in result.err and "Traceback" not in result.err
    return result.err


def _accepted_or_refused(rasp: Rasp, *args: str | Path) -> None:
    result = rasp(*args)
    assert result.code in (0, 1), result.err
    if result.code == 1:
        assert "error:" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes(rasp: Rasp, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
    if seed % 2:  # random text that is valid UTF-8, so that it reaches the parser
        data = "".join(chr(rng.randrange(32, 0x3000)) for _ in range(300)).encode("utf-8")
    path = tmp_path / "random.rasp"
    path.write_bytes(data)
    _refused_cleanly(rasp, "check", path)


@pytest.mark.parametrize("name", SOURCES)
def test_every_truncation_of_an_example(rasp: Rasp, tmp_path: Path, name: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    path = tmp_path / name
    for cut in range(0, len(text), max(1, len(text) // 8)):
        path.write_text(text[:cut], encoding="utf-8")
        _accepted_or_refused(rasp, "check", path)
        _accepted_or_refused(rasp, "run", path, "--chars", "ab")


@pytest.mark.parametrize("seed", range(6))
def test_mutated_examples(rasp: Rasp, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    text = (EXAMPLES / SOURCES[seed % len(SOURCES)]).read_text(encoding="utf-8")
    alphabet = "(){}[];:,=<>+-*/%#\"'. \n0123456789abcdefxyz_é\\"
    path = tmp_path / "mutated.rasp"
    for _ in range(4):
        chars = list(text)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(chars))
            action = rng.choice(("replace", "insert", "delete"))
            if action == "delete":
                del chars[at]
            elif action == "insert":
                chars.insert(at, rng.choice(alphabet))
            else:
                chars[at] = rng.choice(alphabet)
        path.write_text("".join(chars), encoding="utf-8")
        _accepted_or_refused(rasp, "check", path)
        _accepted_or_refused(rasp, "fmt", path)


@pytest.mark.parametrize(
    ("source", "location"),
    [
        ('%vocab {"a"}\n%max_len 2\nnäme = tokens;\noutput näme;\n', "3:2"),
        ('%vocab {"a"}\n%max_len 2\n名前 = tokens;\noutput 名前;\n', "3:1"),
        ('%vocab {"a"}\n%max_len 2\nx = tokens == "🙂";\n🙂\n', "4:1"),
    ],
)
def test_unicode_names_are_refused_at_their_place(
    rasp: Rasp, program: Program, source: str, location: str
) -> None:
    path = program(source)
    assert _refused_cleanly(rasp, "check", path).startswith(f"{path}:{location}: error:")


def test_unicode_tokens_run(rasp: Rasp, program: Program) -> None:
    path = program('%vocab {"é", "名", "🙂"}\n%max_len 4\nx = tokens == "名";\noutput x;\n')
    result = rasp("run", path, "名", "🙂", "é")
    assert (result.code, result.out) == (0, "[true, false, false]\n")


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000_000,  # one 10 MB name without an end
        ("# " + "c" * 98 + "\n") * 100_000,  # 10 MB of comments
        '%vocab {"a"}\n%max_len 2\nx = "' + "s" * 10_000_000 + '";\noutput x;\n',  # a 10 MB string
    ],
    ids=["one-name", "comments", "one-string"],
)
def test_ten_megabyte_files(rasp: Rasp, program: Program, text: str) -> None:
    _accepted_or_refused(rasp, "check", program(text))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" + "0" * 5000, "a number with 5001 digits is too large"),
        ("1e99999999", "the number 1e99999999 is too large or too precise"),
        ("0." + "0" * 2000 + "1", "is too large or too precise"),
    ],
)
def test_huge_numbers(rasp: Rasp, program: Program, value: str, message: str) -> None:
    path = program(f"%vocab {{1, 2}}\n%max_len 4\nx = tokens * {value};\noutput x;\n")
    assert message in _refused_cleanly(rasp, "check", path)


def test_huge_max_len_and_domains(rasp: Rasp, program: Program) -> None:
    path = program('%vocab {"a"}\n%max_len 10000000000000000000000\nx = tokens;\noutput x;\n')
    assert "%max_len must be between 1 and 100,000" in _refused_cleanly(rasp, "check", path)
    path = program('%vocab {"a"}\n%max_len 4\nx : cat[99999999999] = tokens;\noutput x;\n')
    assert "at most 1,000,000 values" in _refused_cleanly(rasp, "check", path)
    assert "--max-len must be a positive integer" in _refused_cleanly(
        rasp, "run", program(OK), "a", "--max-len", "1e9"
    )


def test_tokens_outside_the_vocabulary_and_inputs_too_long(rasp: Rasp, program: Program) -> None:
    path = program(OK)
    assert 'token "z" at position 1' in _refused_cleanly(rasp, "run", path, "a", "z")
    assert "4 tokens, more than the max_len" in _refused_cleanly(rasp, "run", path, *"aaaa")
    assert "more than the max_len" in _refused_cleanly(rasp, "run", path, "--chars", "a" * 10_000)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON array of tokens"),
        ('["a", ', "not a JSON array of tokens"),
        ('{"a": 1}', "expected a JSON array of tokens"),
        ("3", "expected a JSON array of tokens"),
        ('[["a"]]', "is not a string, an integer or a boolean"),
        ("[1.5]", "is not a string, an integer or a boolean"),
        ("[null]", "is not a string, an integer or a boolean"),
        ('["z"]', 'token "z" at position 0 is not in the vocabulary'),
        ('["a", "a", "a", "a"]', "more than the max_len"),
        ('"abcz"', "more than the max_len"),
    ],
)
def test_every_batch_line_error_names_its_line(
    rasp: Rasp, program: Program, line: str, message: str
) -> None:
    batch = program(f'["a"]\n{line}\n["b"]\n', "inputs.jsonl")
    err = _refused_cleanly(rasp, "run", program(OK), "--batch", batch)
    assert err.startswith(f"{batch}:2:")
    assert message in err


@pytest.mark.parametrize(
    ("data", "message"),
    [(b'["a"]\n["\xff"]\n', "cannot read"), (b"\x00\x01\x02", "")],
)
def test_batch_files_that_are_not_text(
    rasp: Rasp, tmp_path: Path, program: Program, data: bytes, message: str
) -> None:
    batch = tmp_path / "inputs.jsonl"
    batch.write_bytes(data)
    assert message in _refused_cleanly(rasp, "run", program(OK), "--batch", batch)


def test_missing_files_and_folders(rasp: Rasp, tmp_path: Path, program: Program) -> None:
    assert "cannot read" in _refused_cleanly(rasp, "check", tmp_path / "nothing.rasp")
    assert "cannot read" in _refused_cleanly(rasp, "check", tmp_path)
    path = program(OK)
    assert "cannot read" in _refused_cleanly(rasp, "run", path, "--batch", tmp_path / "no.jsonl")
    assert "cannot" in _refused_cleanly(rasp, "graph", path, "-o", tmp_path / "no" / "g.dot")
