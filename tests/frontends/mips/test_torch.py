"""The programs lifted from the example machines compile with the torch backend, and the
compiled transformers agree with the interpreter on every input up to length 4 (finite
machines) or 3 (affine ones) and on random inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasp_ir.api import load_backend, verify
from rasp_ir.frontends.mips.affine import AffineMachine
from rasp_ir.frontends.mips.lift import construct, construct_affine, lifted_program, load_any
from rasp_ir.frontends.mips.machine import load_machine

pytest.importorskip("torch")

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"
DATA = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in EXAMPLES.glob("*.json")}
# Affine examples over at most 10 symbols: every input up to length 3 is a million inputs over
# sum_all_100's 100 symbols (tests/backends/torch/test_large_alphabets.py checks it on samples).
AFFINE = sorted(
    name
    for name, data in DATA.items()
    if data.get("kind") == "affine" and len(data["alphabet"]) <= 10
)
CASES = [
    (name, construction)
    for name in sorted(DATA)
    if DATA[name].get("kind", "finite") == "finite"
    for construction in (None, "doubling")
]


@pytest.mark.parametrize(("name", "construction"), CASES)
def test_lifted_programs_compile_to_exact_transformers(name: str, construction: str | None) -> None:
    machine = load_machine(EXAMPLES / f"{name}.json")
    program = lifted_program(machine, construct(machine, 6, construction), 6)
    report = verify(program, load_backend("torch"), exhaustive_max_len=4)
    assert report.ok, report.mismatches[:3]
    assert report.checked == sum(len(machine.alphabet) ** n for n in range(5))


@pytest.mark.parametrize("name", AFFINE)
def test_lifted_affine_programs_compile_to_exact_transformers(name: str) -> None:
    machine = load_any(EXAMPLES / f"{name}.json")
    assert isinstance(machine, AffineMachine)
    program = lifted_program(machine, construct_affine(machine), 8)
    report = verify(program, load_backend("torch"), exhaustive_max_len=3, samples=200)
    assert report.ok, report.mismatches[:3]
