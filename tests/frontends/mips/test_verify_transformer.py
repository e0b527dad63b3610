"""``rasp mips verify-transformer`` compiles a lifted program with a backend and compares the
transformer with the machine, the task and an RNN run; any disagreement fails the command
after the certificate is written, showing the inputs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.cli.main import main
from rasp_ir.frontends.mips.lift import load_any
from rasp_ir.frontends.mips.machine import FiniteMachine
from rasp_ir.frontends.mips.rnn import GeneralRNN
from rasp_ir.frontends.mips.run_files import save_run
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.transformer_check import (
    require_agreement,
    sample_lengths,
    summary_lines,
    verify_transformer,
)
from tests.frontends.mips.test_verify_cmd import parity_rnn

MACHINES = Path(__file__).parents[3] / "examples" / "machines"
PARITY = MACHINES / "parity.json"


def lift(machine: Path, program: Path, *more: str) -> Path:
    assert main(["mips", "lift", str(machine), "-o", str(program), *more]) == 0
    return program


def check(program: Path, machine: Path, task: str, certificate: Path, *more: str) -> int:
    command = ["mips", "verify-transformer", str(program), str(machine), "--task", task]
    return main([*command, "--certificate", str(certificate), *more])


def off_by_one_rnn() -> GeneralRNN:
    """The parity RNN with 1 added to every output: wrong at every position."""
    model = parity_rnn()
    state = model.state_dict()
    state["output.0.bias"] = torch.tensor([1.0])
    model.load_state_dict(state)
    return model


def test_the_transformer_of_parity_agrees_at_t_2t_and_4t(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = lift(PARITY, tmp_path / "parity.rasp", "--max-len", "40")
    capsys.readouterr()
    cert = tmp_path / "c.json"
    assert check(program, PARITY, "Parity_All", cert, "--sequences", "500") == 0
    assert capsys.readouterr().out.splitlines() == [
        "split (split, length 10, seed 0) vs Parity_All: 50 sequences, 500 positions, 0 disagree",
        "machine_split (split, length 10, seed 0) vs the machine: 50 sequences, 500 positions, "
        "0 disagree",
        "samples_2T (samples, length 20, seed 0) vs Parity_All: 1000 sequences, 20000 "
        "positions, 0 disagree",
        "machine_samples_2T (samples, length 20, seed 0) vs the machine: 1000 sequences, 20000 "
        "positions, 0 disagree",
        "samples_4T (samples, length 40, seed 0) vs Parity_All: 1000 sequences, 40000 "
        "positions, 0 disagree",
        "machine_samples_4T (samples, length 40, seed 0) vs the machine: 1000 sequences, 40000 "
        "positions, 0 disagree",
        f"certificate: {cert}",
    ]
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["format"] == "rasp-ir/certificate" and data["frontend"] == "mips"
    assert data["agreement"] == 1.0 and data["disagreement_count"] == 0
    source = data["source"]
    assert source["path"] == str(program) and len(source["sha256"]) == 64
    assert source["machine"] == str(PARITY) and source["backend"] == "torch"
    assert source["task"] == "Parity_All"
    assert data["inputs"]["split"] == {
        "selection": "split",
        "inputs": 50,
        "positions": 500,
        "seed": 0,
    }
    assert data["details"]["references"] == ["Parity_All", "the machine"]
    assert data["details"]["groups"]["samples_4T"] == {
        "reference": "Parity_All",
        "length": 40,
        "disagree": 0,
    }
    assert data["positions_compared"] == 2 * (500 + 20000 + 40000)


def test_samples_stop_at_the_programs_max_len(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sample_lengths(10, 40) == {"samples_2T": 20, "samples_4T": 40}
    assert sample_lengths(10, 30) == {"samples_2T": 20, "samples_max_len": 30}
    assert sample_lengths(10, 20) == {"samples_2T": 20}
    assert sample_lengths(10, 10) == {"samples_max_len": 10}
    program = lift(PARITY, tmp_path / "parity.rasp")  # max_len 10 = T
    capsys.readouterr()
    cert = tmp_path / "c.json"
    more = ("--sequences", "300", "--backend", "python", "--seed", "2")
    assert check(program, PARITY, "Parity_All", cert, *more) == 0
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert list(data["inputs"]) == [
        "split",
        "machine_split",
        "samples_max_len",
        "machine_samples_max_len",
    ]
    assert data["inputs"]["samples_max_len"]["seed"] == 2
    assert data["details"]["backend"] == "python"


def test_a_machine_that_disagrees_fails_showing_the_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = lift(PARITY, tmp_path / "parity.rasp")
    flipped = json.loads(PARITY.read_text(encoding="utf-8"))
    flipped["output"] = {"even": 1, "odd": 0}
    machine = tmp_path / "flipped.json"
    machine.write_text(json.dumps(flipped), encoding="utf-8")
    capsys.readouterr()
    cert = tmp_path / "c.json"
    more = ("--sequences", "300", "--backend", "python")
    assert check(program, machine, "Parity_All", cert, *more) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].endswith("30 sequences, 300 positions, 0 disagree")  # the task agrees
    assert lines[1].endswith("30 sequences, 300 positions, 300 disagree")  # the machine does not
    err = captured.err
    assert err.startswith(
        f"error: the python transformer of {program} disagrees with its references at 10300 "
        "of 20600 positions: "
    )
    assert "[mips-verify-transformer]" in err
    shown = re.findall(r"\[((?:[01] )+[01])\] @ 0: reference ([01]), transformer ([01])", err)
    assert len(shown) == 3 and all(want != got for _, want, got in shown)
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["disagreement_count"] == 10300 and len(data["disagreements"]) == 10


def test_a_program_lifted_from_another_machine_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = lift(MACHINES / "cycle4.json", tmp_path / "cycle4.rasp")  # also reads 0 and 1
    capsys.readouterr()
    cert = tmp_path / "c.json"
    more = ("--sequences", "300", "--backend", "python")
    assert check(program, PARITY, "Parity_All", cert, *more) == 1
    captured = capsys.readouterr()
    assert "disagrees with its references at" in captured.err
    assert not captured.out.splitlines()[0].endswith(" 0 disagree")
    assert json.loads(cert.read_text(encoding="utf-8"))["agreement"] < 1.0


def test_bad_inputs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = lift(PARITY, tmp_path / "parity.rasp")
    short = lift(PARITY, tmp_path / "short.rasp", "--max-len", "5")
    capsys.readouterr()
    cert = tmp_path / "c.json"
    assert check(tmp_path / "absent.rasp", PARITY, "Parity_All", cert) == 1
    assert f"cannot read {tmp_path / 'absent.rasp'}" in capsys.readouterr().err
    assert check(program, tmp_path / "absent.json", "Parity_All", cert) == 1
    assert f"cannot read {tmp_path / 'absent.json'}" in capsys.readouterr().err
    assert check(program, MACHINES / "mod5_counter.json", "Add_Mod_5", cert) == 1
    assert (
        "error: the program reads the tokens [0, 1] but the machine's symbols are the tokens "
        "[0, 1, 2, 3, 4] [mips-verify-transformer]"
    ) in capsys.readouterr().err
    assert check(short, PARITY, "Parity_All", cert) == 1
    err = capsys.readouterr().err
    assert "the program handles inputs up to max_len 5, shorter than Parity_All's length" in err
    assert "lift the machine with --max-len 10 or more" in err
    assert check(program, PARITY, "Parity_All", cert, "--backend", "nope") == 1
    assert "no backend named 'nope'" in capsys.readouterr().err
    assert check(program, PARITY, "Parity_al", cert) == 1
    assert "unknown MIPS task 'Parity_al'" in capsys.readouterr().err
    run = tmp_path / "run"
    save_run(parity_rnn(), get_task("Parity_Last2"), run)
    assert check(program, PARITY, "Parity_All", cert, "--run", str(run)) == 1
    assert f"{run} was trained on Parity_Last2, not Parity_All" in capsys.readouterr().err
    assert not cert.exists()


def test_the_rnn_is_a_third_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program = lift(PARITY, tmp_path / "parity.rasp")
    good, bad = tmp_path / "good", tmp_path / "bad"
    save_run(parity_rnn(), get_task("Parity_All"), good)
    save_run(off_by_one_rnn(), get_task("Parity_All"), bad)
    capsys.readouterr()
    cert = tmp_path / "c.json"
    more = ("--sequences", "300", "--backend", "python")
    assert check(program, PARITY, "Parity_All", cert, *more, "--run", str(good)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == (
        f"rnn_split (split, length 10, seed 0) vs RNN {good}: 30 sequences, 300 positions, "
        "0 disagree"
    )
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["details"]["references"] == ["Parity_All", "the machine", f"RNN {good}"]
    assert data["source"]["run"] == str(good)
    assert check(program, PARITY, "Parity_All", cert, *more, "--run", str(bad)) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[2].endswith("300 disagree")
    assert "disagrees with its references at 300 of" in captured.err


def test_the_library_reads_pair_alphabets_as_the_machines_tokens(tmp_path: Path) -> None:
    machine = load_any(MACHINES / "binary_addition.json")
    assert isinstance(machine, FiniteMachine) and machine.pairs
    program = lift(MACHINES / "binary_addition.json", tmp_path / "add.rasp")
    text = program.read_text(encoding="utf-8")
    task = get_task("Binary_Addition")
    certificate = verify_transformer(text, machine, task, backend="python", sequences=200)
    assert certificate.ok and certificate.source.path == "<program>"
    assert [line.split(" (")[0] for line in summary_lines(certificate)] == [
        "split",
        "machine_split",
        "samples_max_len",
        "machine_samples_max_len",
    ]
    require_agreement(certificate, "it")
    flipped = dataclasses.replace(machine, output=tuple(1 - y for y in machine.output))
    certificate = verify_transformer(text, flipped, task, backend="python", sequences=200)
    assert not certificate.ok
    first = certificate.disagreements[0]
    assert all(isinstance(s, str) and re.fullmatch(r"\[[01], [01]\]", s) for s in first.input)
    with pytest.raises(RaspError, match=r"it disagrees with its references at \d+ of"):
        require_agreement(certificate, "it")
