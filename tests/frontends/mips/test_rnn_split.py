"""``rasp mips lift --run``: the lift certificate also compares the program with the RNN's
rounded outputs on its task's test split, and a disagreement there fails the lift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasp_ir.api import Disagreement, LiftOptions, RaspError
from rasp_ir.cli.main import main
from rasp_ir.frontends.mips.certify import describe
from rasp_ir.frontends.mips.lift import lift_file
from rasp_ir.frontends.mips.run_files import Run, save_run
from rasp_ir.frontends.mips.tasks import get_task
from tests.frontends.mips.test_verify_cmd import parity_rnn
from tests.frontends.mips.test_verify_transformer import off_by_one_rnn

PARITY = Path(__file__).parents[3] / "examples" / "machines" / "parity.json"


def lift(program: Path, *more: str) -> int:
    return main(["mips", "lift", str(PARITY), "-o", str(program), *more])


def test_the_certificate_gains_the_rnns_test_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    save_run(parity_rnn(), get_task("Parity_All"), run)
    program = tmp_path / "parity.rasp"
    assert lift(program, "--run", str(run), "--sequences", "300", "--seed", "1") == 0
    assert "agreement 100% on 23734 positions" in capsys.readouterr().out
    data = json.loads(program.with_suffix(".certificate.json").read_text(encoding="utf-8"))
    assert list(data["inputs"]) == ["exhaustive", "samples", "rnn_split"]
    assert data["inputs"]["rnn_split"] == {
        "selection": "split",
        "inputs": 30,
        "positions": 300,
        "seed": 1,
    }
    assert data["source"]["rnn"] == f"RNN {run}" and data["source"]["rnn_task"] == "Parity_All"
    assert data["source"]["rnn_split_sequences"] == 300
    assert data["details"]["references"] == [f"RNN {run}"]
    assert data["compared"].endswith(f"; RNN {run}'s output and the program's on rnn_split")
    # Without --run the certificate is what it was.
    assert lift(program) == 0
    data = json.loads(program.with_suffix(".certificate.json").read_text(encoding="utf-8"))
    assert list(data["inputs"]) == ["exhaustive", "samples"] and "references" not in data["details"]


def test_an_rnn_that_disagrees_fails_the_lift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    save_run(off_by_one_rnn(), get_task("Parity_All"), run)
    program = tmp_path / "parity.rasp"
    assert lift(program, "--run", str(run), "--sequences", "300") == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: the lifted program agrees with its machine but not with RNN {run}, at 300 "
        "positions (23734 compared in all): ["
    )
    assert err.count(f": RNN {run} ") == 3 and "[mips-lift-reference]" in err
    assert "rasp mips verify MACHINE.json --task TASK --run RUN_DIR" in err
    assert not program.exists()


def test_the_split_must_fit_the_programs_max_len(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    save_run(parity_rnn(), get_task("Parity_All"), run)
    assert lift(tmp_path / "p.rasp", "--run", str(run), "--max-len", "5") == 1
    err = capsys.readouterr().err
    assert f"RNN {run} is compared on inputs of length 10 (rnn_split), longer than" in err
    assert "lift with --max-len 10 or more" in err
    assert lift(tmp_path / "p.rasp", "--run", str(tmp_path / "absent")) == 1
    assert "absent" in capsys.readouterr().err


def test_the_library_lifts_with_a_run_in_memory() -> None:
    run = Run(parity_rnn(), get_task("Parity_All"))
    lifted = lift_file(PARITY, LiftOptions(samples=10), run, sequences=200)
    groups = {check.name: check for check in lifted.certificate.checks}
    assert groups["rnn_split"].inputs == 20 and lifted.certificate.ok
    assert lifted.certificate.source.details["rnn"] == "RNN"
    with pytest.raises(RaspError, match="agrees with its machine but not with a bad RNN"):
        lift_file(
            PARITY, LiftOptions(samples=10), Run(off_by_one_rnn(), run.task), 200, "a bad RNN"
        )


def test_describe_shows_the_first_disagreement_of_each_input() -> None:
    found = [
        Disagreement((0, 1), 0, 1, 0),
        Disagreement((0, 1), 1, 0, 1),
        Disagreement((1, 1), 1, 0, 2),
    ]
    assert describe(found, "RNN", "program") == (
        "[0 1] @ 0: RNN 1, program 0; [1 1] @ 1: RNN 0, program 2"
    )
    assert describe(found, "RNN", "program", shown=1) == "[0 1] @ 0: RNN 1, program 0"
