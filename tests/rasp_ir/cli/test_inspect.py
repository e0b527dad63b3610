"""``rasp check`` and ``rasp graph`` on small programs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.rasp_ir.cli.conftest import HALVES, REVERSE, Result

Rasp = Callable[..., Result]
Write = Callable[..., Path]


def test_check_prints_value_sets_then_layers(rasp: Rasp, program: Write) -> None:
    result = rasp("check", program(REVERSE))
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "value sets:\n"
        "  opp      cat  {-7, -6, -5, -4, -3, -2, -1, 0, …} (15 values)\n"
        '  reverse  cat  {none, "a", "b", "c", "d", "e", "f", "g", …} (27 values)\n'
        "layers: 2   heads per layer: 1 / 1\n"
        "layer  unit    pattern                                       computes\n"
        "1      head 1  selector_width(select(tokens, tokens, true))  length\n"
        "1      mlp                                                   opp\n"
        "2      head 1  aggregate(flip)                               reverse\n"
    )


def test_check_short_sets_in_full_and_header_overrides(rasp: Rasp, program: Write) -> None:
    result = rasp("check", program(HALVES), "--max-len", "2")
    assert result.code == 0
    assert "  one   cat  {false, true}\n" in result.out
    assert "  half  num  {0, 0.5, 1}\n" in result.out


def test_check_reports_errors_and_exits_1(rasp: Rasp, program: Write) -> None:
    path = program(HALVES.replace("one = tokens == 1;", "one = tokens + 1;"))
    result = rasp("check", path)
    assert result.code == 1
    assert "value sets:" in result.out
    assert result.err.splitlines()[0] == (
        f"{path}:4:7: error: map 'one' fails on input (\"BOS\"): '+' needs numbers, "
        'got "BOS" [map-error]'
    )


def test_check_warnings_do_not_fail(rasp: Rasp, program: Write) -> None:
    path = program(REVERSE.replace("output reverse;", "spare = tokens;\noutput reverse;"))
    result = rasp("check", path)
    assert result.code == 0
    assert result.err.startswith(f"{path}:6:1: warning: spare does not contribute")


def test_graph_to_stdout_and_to_a_file(rasp: Rasp, program: Write, tmp_path: Path) -> None:
    path = program(REVERSE)
    result = rasp("graph", path)
    assert result.code == 0
    assert result.out.startswith("digraph")
    assert "L2 attention" in result.out
    target = tmp_path / "out.dot"
    assert rasp("graph", path, "-o", target) == Result(0, "", "")
    assert target.read_text() == result.out
