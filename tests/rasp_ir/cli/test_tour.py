"""``rasp tour`` on a small example folder, and on the repository's examples when present."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rasp_ir.cli.conftest import HALVES, REVERSE, Result

Rasp = Callable[..., Result]
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _library(folder: Path, cases: dict[str, object], programs: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in programs.items():
        (folder / name).write_text(text)
    (folder / "cases.json").write_text(json.dumps(cases))
    return folder


def test_tour_prints_input_outputs_and_layers(rasp: Rasp, tmp_path: Path) -> None:
    folder = _library(
        tmp_path / "examples",
        {"reverse.rasp": {"tour": "hello", "cases": []}, "halves.rasp": {"tour": [1, 3]}},
        {"reverse.rasp": REVERSE, "halves.rasp": HALVES},
    )
    result = rasp("tour", "--examples", folder)
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "reverse.rasp   layers: 2   heads per layer: 1 / 1\n"
        "  input    h e l l o\n"
        "  reverse  o l l e h\n"
        "\n"
        "halves.rasp   layers: 0   heads per layer: -\n"
        "  input  BOS   1    3\n"
        "  one    false true false\n"
        "  half   0     0.5  1\n"
    )


def test_a_broken_example_is_reported_and_the_rest_still_run(rasp: Rasp, tmp_path: Path) -> None:
    folder = _library(
        tmp_path / "examples",
        {"bad.rasp": {"tour": "zz"}, "reverse.rasp": {"tour": "ab"}},
        {"bad.rasp": REVERSE.replace("%max_len 8", "%max_len 1"), "reverse.rasp": REVERSE},
    )
    result = rasp("tour", "--examples", folder)
    assert result.code == 1
    assert result.out.startswith("bad.rasp: failed (see stderr)\n\nreverse.rasp")
    assert result.out.endswith("\n1 of 2 examples failed\n")
    assert "[input-length]" in result.err


def test_missing_cases_file(rasp: Rasp, tmp_path: Path) -> None:
    result = rasp("tour", "--examples", tmp_path)
    assert result.code == 1
    assert result.err.startswith(f"error: cannot read {tmp_path / 'cases.json'}")


@pytest.mark.skipif(
    not (EXAMPLES / "cases.json").exists(), reason="examples/cases.json not written yet"
)
def test_tour_of_the_repository_examples(rasp: Rasp) -> None:
    result = rasp("tour", "--examples", EXAMPLES)
    assert (result.code, result.err) == (0, "")
    for name in json.loads((EXAMPLES / "cases.json").read_text()):
        assert f"{name}   layers: " in result.out
