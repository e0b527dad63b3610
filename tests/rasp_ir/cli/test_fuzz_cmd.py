"""``rasp fuzz``: a seeded short run finds nothing on the backends that agree; a planted bug
in a backend is found, shrunk to a few bindings and written as a file that reproduces it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir import ir
from rasp_ir.backends.python import emit
from rasp_ir.check import load_program
from rasp_ir.fuzz.cases import Finding
from rasp_ir.fuzz.checks import load_check
from rasp_ir.fuzz.runner import Budget, fuzz
from tests.rasp_ir.cli.conftest import Result

Rasp = Callable[..., Result]


@pytest.fixture
def max_reads_as_min(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: the python backend lowers every ``reduce=max`` as ``min``."""
    lower = emit.RULES[ir.Aggregate]

    def flipped(module: emit.Module, binding: ir.Binding) -> str:
        node = binding.node
        assert isinstance(node, ir.Aggregate)
        if node.reduce == "max":
            binding = dataclasses.replace(binding, node=dataclasses.replace(node, reduce="min"))
        return lower(module, binding)

    monkeypatch.setitem(emit.RULES, ir.Aggregate, flipped)


def test_a_seeded_short_run_finds_nothing(rasp: Rasp, tmp_path: Path) -> None:
    result = rasp(
        "fuzz", "--seed", "3", "--cases", "40", "--seconds", "60",
        "--backends", "python,naive,macros", "-o", tmp_path / "found",
    )  # fmt: skip
    assert result.out.splitlines()[-1] == "0 findings", result.out
    assert "seed 3: 40 programs; run by python 40, naive 40, macros 40" in result.out
    assert result.code == 0
    assert not (tmp_path / "found").exists()


def test_a_planted_bug_is_found_shrunk_and_reproduced(
    rasp: Rasp, tmp_path: Path, max_reads_as_min: None
) -> None:
    found = tmp_path / "found"
    result = rasp(
        "fuzz", "--seed", "0", "--cases", "60", "--backends", "python",
        "--shrink-seconds", "20", "-o", found,
    )  # fmt: skip
    assert result.code == 1
    (written,) = sorted(found.iterdir())[:1]
    assert written.name.startswith("python-seed0-case")
    assert f"the python check disagrees with the interpreter; shrunk -> {written}" in result.out
    text = written.read_text(encoding="utf-8")
    shrunk = load_program(written).program
    assert len(shrunk.bindings) <= 3, text
    assert any(isinstance(b.node, ir.Aggregate) and b.node.reduce == "max" for b in shrunk.bindings)
    assert f"# reproduce: rasp fuzz --replay {written} --backends python" in text
    assert "# input: [" in text and "expected" in text and "got" in text
    replayed = rasp("fuzz", "--replay", written, "--backends", "python,naive")
    assert replayed.code == 1
    assert "python: disagrees with the interpreter" in replayed.out
    assert "naive: agrees with the interpreter" in replayed.out
    verified = rasp("verify", written, "--backend", "python", "--exhaustive")
    assert verified.code == 1 and "mismatches with the python backend" in verified.out


def test_without_the_planted_bug_the_shrunk_file_passes(
    rasp: Rasp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "p.rasp"
    program.write_text(
        "%vocab {1, 2}\n%max_len 3\ns = select(tokens, tokens, <=);\n"
        "m = aggregate(s, indices, reduce=max);\noutput m;\n",
        encoding="utf-8",
    )
    result = rasp("fuzz", "--replay", program, "--backends", "python,naive,macros")
    assert result.code == 0
    assert "python: agrees with the interpreter on 15 inputs" in result.out


def test_the_planted_bug_shrinks_to_a_select_and_an_aggregate(max_reads_as_min: None) -> None:
    findings: list[Finding] = []
    report = fuzz(
        0, [load_check("python")], Budget(seconds=60, cases=60, shrink_seconds=20),
        lambda index, finding: findings.append(finding),
    )  # fmt: skip
    assert findings and report.findings
    kinds = [ir.kind_name(b.node) for b in findings[0].program.bindings]
    assert "aggregate" in kinds and len(kinds) <= 3
    assert len(findings[0].inputs) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--backends", "nope"), "no check named 'nope'"),
        (("--seconds", "0"), "--seconds must be positive"),
        (("--cases", "0"), "--cases must be at least 1"),
    ],
)
def test_bad_options_are_refused(rasp: Rasp, args: tuple[str, ...], message: str) -> None:
    result = rasp("fuzz", *args)
    assert result.code == 1
    assert message in result.err


@pytest.mark.slow
def test_the_release_check_finds_nothing(rasp: Rasp, tmp_path: Path) -> None:
    """The README's release check, every installed backend for 60 seconds (the torch findings
    it made are regression tests in tests/backends/torch/test_fuzz_findings.py)."""
    result = rasp("fuzz", "--seconds", "60", "-o", tmp_path / "found")
    found = sorted(p.name for p in (tmp_path / "found").glob("*.rasp"))
    assert result.code == 0, found
