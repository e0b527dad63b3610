"""Machine JSON files: the examples load and run as their tasks say; bad files are refused with a
RaspError naming the file and the problem."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.machine import FiniteMachine, load_machine, machine_from_json

EXAMPLES = Path(__file__).parents[3] / "examples" / "machines"


def parity_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "parity.json").read_text(encoding="utf-8"))
    return data


def test_parity_runs_as_the_prefix_parity() -> None:
    machine = load_machine(EXAMPLES / "parity.json")
    x = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 1]])
    assert machine.run(x).tolist() == (np.cumsum(x, axis=1) % 2).tolist()
    assert machine.task == "Parity_All"
    assert machine.state_names == ("even", "odd")


def test_outputs_are_those_after_reading_each_input() -> None:
    # Alternating_Last3: 1 where the last three inputs are 010 or 101, x_{<0} = 0.
    machine = load_machine(EXAMPLES / "window3.json")
    assert machine.run_tokens([[1, 0, 1, 0, 0], [0, 1], []]) == [[0, 1, 1, 1, 0], [0, 0], []]


def test_pair_alphabets_are_coded_by_their_place() -> None:
    machine = load_machine(EXAMPLES / "binary_addition.json")
    assert machine.pairs
    assert machine.tokens == (0, 1, 2, 3)
    # 3 + 1 = 4, LSB first: (1,1), (1,0), (0,0) -> sum bits 0, 0, 1.
    assert machine.run_tokens([[3, 2, 0]]) == [[0, 0, 1]]
    assert machine.describe_symbol(2) == "[1, 0]"


def test_the_kind_finite_may_be_given() -> None:
    assert machine_from_json({**parity_json(), "kind": "finite"}) == machine_from_json(
        parity_json()
    )


def test_rows_keyed_by_symbol_equal_rows_in_alphabet_order() -> None:
    data = parity_json()
    keyed = machine_from_json(data)
    data["delta"] = {"even": {"1": "odd", "0": "even"}, "odd": {"0": "odd", "1": "even"}}
    assert machine_from_json(data) == keyed


def test_reachable_states() -> None:
    machine = FiniteMachine((0, 1), ("a", "b", "c"), 0, ((0, 1), (1, 0), (2, 2)), (0, 1, 0))
    assert machine.reachable == (0, 1)


def bad(**changes: object) -> dict[str, Any]:
    data = parity_json()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bad(delta={"even": ["even", "odd"], "odd": ["odd", "nowhere"]}), "undefined state"),
        (bad(delta={"even": {"0": "even", "2": "odd"}, "odd": ["odd", "even"]}), "outside"),
        (bad(delta={"even": {"0": "even"}, "odd": ["odd", "even"]}), "no transition"),
        (bad(delta=None), "missing field(s) delta"),
        (bad(format_version=2), "format_version 2 is not supported"),
        (bad(format="something/else"), "format is 'something/else'"),
        ({"format": "rasp-ir/certificate", "format_version": 1}, "format is 'rasp-ir/certificate'"),
        (
            bad(kind="stack"),
            "kind 'stack' is not a machine kind this version reads (finite, affine)",
        ),
        (bad(kind="affine"), "kind 'affine': not a finite machine"),
        (bad(initial="start"), 'the initial state is "start", an undefined state'),
        (bad(output={"even": 0, "odd": "one"}), "must be an integer"),
        (bad(alphabet=[0, 0]), "lists a symbol twice"),
        (bad(alphabet=[0, [0, 1]]), "mixes integers and pairs"),
        (bad(colour="blue"), "unknown field(s) colour"),
        (bad(max_len=0), "max_len must be at least 1"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_machines_are_refused_naming_file_and_problem(
    tmp_path: Path, data: object, message: str
) -> None:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RaspError) as error:
        load_machine(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "machine.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(RaspError, match="not JSON"):
        load_machine(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="cannot read"):
        load_machine(tmp_path / "absent.json")


def test_minimising_merges_states_no_input_tells_apart() -> None:
    machine = load_machine(EXAMPLES / "window3.json")
    minimal = machine.minimise()
    # x_{t-2} is forgotten on the next step: 000 ~ 100 and 011 ~ 111.
    assert minimal.state_names == ("0|4", "1", "2", "3|7", "5", "6")
    x = np.array(list(itertools.product([0, 1], repeat=8)))
    assert (minimal.run(x) == machine.run(x)).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 3), st.data())
def test_minimal_machines_run_alike_and_are_minimal(n: int, k: int, data: st.DataObject) -> None:
    delta = tuple(tuple(data.draw(st.integers(0, n - 1)) for _ in range(k)) for _ in range(n))
    output = tuple(data.draw(st.integers(0, 1)) for _ in range(n))
    machine = FiniteMachine(tuple(range(k)), tuple(map(str, range(n))), 0, delta, output)
    minimal = machine.minimise()
    x = np.array(list(itertools.product(range(k), repeat=5)))
    assert (minimal.run(x) == machine.run(x)).all()
    assert minimal.n_states <= len(machine.reachable)
    # Every two states are told apart by some word of length < n (Moore's bound).
    words = [w for m in range(minimal.n_states) for w in itertools.product(range(k), repeat=m)]
    for p, q in itertools.combinations(range(minimal.n_states), 2):
        assert any(
            minimal.output[minimal.step(p, w)] != minimal.output[minimal.step(q, w)] for w in words
        )
