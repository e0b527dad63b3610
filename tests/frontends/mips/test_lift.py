"""Lifting machines: every construction equals the machine on every input up to a length, the
cheapest construction is picked, layers stay within their targets, programs pass the checker,
random machines lift exactly, and ``lift`` writes a program with its certificate."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir.api import (
    Frontend,
    LiftedSource,
    LiftOptions,
    RaspError,
    Value,
    check_program,
    check_settings,
    format_program,
    interpret,
    ir,
    load_program,
)
from rasp_ir.frontends.mips import FRONTEND
from rasp_ir.frontends.mips.construction import OUTPUT
from rasp_ir.frontends.mips.lift import construct, lift_machine, lifted_program
from rasp_ir.frontends.mips.machine import FiniteMachine, load_machine
from rasp_ir.frontends.mips.machine_cmds import register_machine_commands

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"
# The construction each example lifts with, and the others that apply to it.
CHEAPEST = {
    "parity": ("counts", ("doubling",)),
    "mod5_counter": ("counts", ("doubling",)),
    "window3": ("windows", ("doubling",)),
    "cycle4": ("doubling", ("quotient_doubling",)),
    "balanced_parenthesis": ("doubling", ("quotient_doubling",)),
    "binary_addition": ("quotient_doubling", ("doubling",)),
}
TARGET_LAYERS = {"windows": 1, "counts": 1}


def machine(name: str) -> FiniteMachine:
    return load_machine(EXAMPLES / f"{name}.json")


def all_inputs(m: FiniteMachine, max_len: int) -> list[list[int]]:
    return [list(x) for n in range(1, max_len + 1) for x in itertools.product(m.tokens, repeat=n)]


def program_outputs(program: ir.Program, inputs: list[list[int]]) -> list[list[Value]]:
    return interpret(program, inputs).outputs()[OUTPUT]


def layers(program: ir.Program) -> int:
    return check_program(program).allocation.n_layers


def doubling_target(max_len: int) -> int:
    return math.ceil(math.log2(max_len))


CASES = [(name, c) for name, (best, others) in CHEAPEST.items() for c in (best, *others)]


@pytest.mark.parametrize(("name", "construction"), CASES)
def test_each_construction_equals_the_machine_on_every_short_input(
    name: str, construction: str
) -> None:
    m = machine(name)
    max_len = 5 if len(m.alphabet) > 2 else 7
    program = lifted_program(m, construct(m, max_len, construction), max_len)
    inputs = all_inputs(m, max_len)
    assert program_outputs(program, inputs) == m.run_tokens(inputs)
    checked = check_program(program)
    assert not checked.diagnostics
    if construction == "quotient_doubling":
        target = doubling_target(max_len - 1)
    else:
        target = TARGET_LAYERS.get(construction, doubling_target(max_len))
    assert checked.allocation.n_layers == target


@pytest.mark.parametrize("name", sorted(CHEAPEST))
def test_the_cheapest_construction_is_picked(name: str) -> None:
    best, others = CHEAPEST[name]
    m = machine(name)
    assert construct(m, 10).name == best
    for refused in {"windows", "counts"} - {best, *others}:
        with pytest.raises(RaspError, match=f"the {refused} construction does not apply"):
            construct(m, 10, refused)


@pytest.mark.parametrize("max_len", [1, 2, 3, 5, 8, 9, 16])
def test_doubling_needs_ceil_log2_max_len_layers(max_len: int) -> None:
    m = machine("cycle4")
    program = lifted_program(m, construct(m, max_len, "doubling"), max_len)
    assert layers(program) == doubling_target(max_len)
    inputs = all_inputs(m, min(max_len, 6))
    assert program_outputs(program, inputs) == m.run_tokens(inputs)


def comment_of(program: ir.Program) -> str:
    """The header comment, its lines joined."""
    return " ".join((program.comment or "").split())


def test_windows_pads_with_a_symbol_when_the_machine_allows_it() -> None:
    program = lifted_program(machine("window3"), construct(machine("window3"), 10), 10)
    text = format_program(program)
    assert "input_2_back = aggregate(select(indices, indices - 2, ==), tokens, default=0);" in text
    assert "padding before the input: an alphabet symbol, 0" in comment_of(program)


def test_windows_pads_outside_the_alphabet_otherwise() -> None:
    # Outputs the previous input, and 2 (what no padding symbol gives) at the first position.
    m = FiniteMachine(
        (0, 1),
        ("start", "first0", "first1", "00", "01", "10", "11"),
        0,
        ((1, 2), (3, 4), (5, 6), (3, 4), (5, 6), (3, 4), (5, 6)),
        (0, 2, 2, 0, 0, 1, 1),
    )
    built = construct(m, 6, "windows")
    assert built.details == {"window": 2, "padding": -1}
    program = lifted_program(m, built, 6)
    inputs = all_inputs(m, 6)
    assert program_outputs(program, inputs) == m.run_tokens(inputs)


def test_pairs_are_documented_in_the_header() -> None:
    m = machine("binary_addition")
    program = lifted_program(m, construct(m, 4), 4)
    assert "0 = [0, 0], 1 = [0, 1], 2 = [1, 0], 3 = [1, 1]" in comment_of(program)
    assert "%vocab {0, 1, 2, 3}" in format_program(program)


def test_a_too_large_monoid_is_refused_with_its_size() -> None:
    # A rotation and a swap of 6 states generate all 720 permutations.
    n = 6
    delta = tuple(((s + 1) % n, {0: 1, 1: 0}.get(s, s)) for s in range(n))
    m = FiniteMachine((0, 1), tuple(map(str, range(n))), 0, delta, tuple(range(n)))
    with pytest.raises(RaspError, match="more than 400 elements") as error:
        construct(m, 12, "doubling")
    assert error.value.diagnostics[0].code == "mips-monoid-too-large"


@st.composite
def machines(draw: st.DrawFn) -> FiniteMachine:
    n = draw(st.integers(2, 4))
    k = draw(st.integers(2, 3))
    delta = tuple(tuple(draw(st.integers(0, n - 1)) for _ in range(k)) for _ in range(n))
    output = tuple(draw(st.integers(0, 2)) for _ in range(n))
    return FiniteMachine(tuple(range(k)), tuple(map(str, range(n))), 0, delta, output)


@settings(max_examples=40, deadline=None)
@given(
    machines(),
    st.integers(1, 9),
    st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=9), min_size=1, max_size=8),
)
def test_random_machines_lift_exactly_with_doubling(
    m: FiniteMachine, max_len: int, raw: list[list[int]]
) -> None:
    inputs = [[t % len(m.alphabet) for t in x[:max_len]] for x in raw]
    program = lifted_program(m, construct(m, max_len, "doubling"), max_len)
    assert program_outputs(program, inputs) == m.run_tokens(inputs)
    assert layers(program) <= doubling_target(max_len) + 1


@settings(max_examples=15, deadline=None)
@given(machines())
def test_random_machines_lift_with_the_cheapest_construction(m: FiniteMachine) -> None:
    options = LiftOptions(max_len=6, exhaustive_limit=300, samples=20)
    lifted = lift_machine(m, options, LiftedSource.of("<random>", "0" * 64))
    assert lifted.certificate.ok


def test_the_certificate_records_inputs_and_construction() -> None:
    options = LiftOptions(exhaustive_limit=100, samples=7, seed=3)
    lifted = FRONTEND.lift(EXAMPLES / "parity.json", options)
    data = lifted.certificate.to_json()
    assert data["frontend"] == "mips"
    assert data["inputs"]["exhaustive"]["max_length"] == 5  # 2 + 4 + ... + 32 = 62 <= 100
    assert data["inputs"]["samples"] == {
        "selection": "samples",
        "inputs": 7,
        "positions": 70,
        "seed": 3,
    }
    assert data["details"]["construction"] == "counts"
    assert data["details"]["attention_layers"] == 1
    assert data["source"]["task"] == "Parity_All"
    assert lifted.program.header.max_len == 10


def test_the_construction_setting_forces_one() -> None:
    options = LiftOptions(max_len=4, settings=(("construction", "doubling"),))
    lifted = FRONTEND.lift(EXAMPLES / "parity.json", options)
    assert lifted.certificate.details["construction"] == "doubling"
    with pytest.raises(RaspError, match="unknown construction 'fast'"):
        FRONTEND.lift(EXAMPLES / "parity.json", LiftOptions(settings=(("construction", "fast"),)))


def test_the_lift_command_writes_program_and_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    register_machine_commands(parser.add_subparsers())
    out = tmp_path / "w3.rasp"
    argv = ["lift", str(EXAMPLES / "window3.json"), "-o", str(out), "--max-len", "8"]
    args = parser.parse_args([*argv, "--construction", "doubling", "--samples", "10"])
    assert args.handler(args) == 0
    program = load_program(out).program
    assert program.header.max_len == 8
    assert layers(program) == 3
    certificate = json.loads(out.with_suffix(".certificate.json").read_text(encoding="utf-8"))
    assert certificate["details"]["construction"] == "doubling"
    assert certificate["agreement"] == 1.0
    assert "agreement 100%" in capsys.readouterr().out


def test_the_minimal_machine_is_lifted_and_compared_with_the_given_one() -> None:
    lifted = FRONTEND.lift(EXAMPLES / "window3.json", LiftOptions(max_len=6, samples=10))
    data = lifted.certificate.to_json()
    assert (data["source"]["states"], data["details"]["minimal_states"]) == (8, 6)
    assert "6 states" in comment_of(lifted.program)


@settings(max_examples=40, deadline=None)
@given(machines(), st.integers(1, 7))
def test_every_construction_that_applies_to_a_random_machine_is_exact(
    m: FiniteMachine, max_len: int
) -> None:
    inputs = all_inputs(m, min(max_len, 5))
    for name in ("windows", "counts"):
        try:
            built = construct(m, max_len, name)
        except RaspError:
            continue
        program = lifted_program(m, built, max_len)
        assert program_outputs(program, inputs) == m.run_tokens(inputs), name
        assert layers(program) <= 1


def test_the_lift_command_reports_a_bad_machine(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register_machine_commands(parser.add_subparsers())
    machine_file = tmp_path / "bad.json"
    machine_file.write_text(
        '{"format": "rasp-ir/mips-machine", "format_version": 1}', encoding="utf-8"
    )
    args = parser.parse_args(["lift", str(machine_file), "-o", str(tmp_path / "bad.rasp")])
    with pytest.raises(RaspError, match="missing field"):
        args.handler(args)
    assert not (tmp_path / "bad.rasp").exists()


def prev2(symbols: int) -> FiniteMachine:
    """Prev2 over ``symbols`` symbols: y_t = x_{t-2}, 0 for t < 2; a state is the last three
    inputs, x_{t-2} x_{t-1} x_t in base ``symbols``."""
    n = symbols**3
    delta = tuple(tuple((s * symbols + a) % n for a in range(symbols)) for s in range(n))
    output = tuple(s // symbols**2 for s in range(n))
    return FiniteMachine(tuple(range(symbols)), tuple(map(str, range(n))), 0, delta, output)


def test_a_construction_too_large_for_doubling_is_left_for_one_that_fits() -> None:
    m = prev2(8)
    with pytest.raises(RaspError, match="more than 400 elements"):
        construct(m, 10, "doubling")
    built = construct(m, 10)
    assert (built.name, built.details) == ("windows", {"window": 3, "padding": 0})
    inputs = [list(x) for x in itertools.product(range(8), repeat=4)]
    assert program_outputs(lifted_program(m, built, 10), inputs) == m.run_tokens(inputs)


def test_the_frontend_meets_the_contract_and_accepts_its_setting() -> None:
    assert isinstance(FRONTEND, Frontend)
    check_settings(FRONTEND, LiftOptions(settings=(("construction", "counts"),)))
    with pytest.raises(RaspError, match="has no setting 'speed'"):
        check_settings(FRONTEND, LiftOptions(settings=(("speed", "fast"),)))


def test_importing_the_package_loads_no_lifting_code() -> None:
    code = "import json, sys, rasp_ir.frontends.mips; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(json.loads(run.stdout))
    assert "rasp_ir.frontends.mips" in modules
    assert not modules & {"rasp_ir.frontends.mips.lift", "torch"}
