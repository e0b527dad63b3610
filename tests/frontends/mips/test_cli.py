"""``rasp mips`` arrives through its entry point like any command plugin, and runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rasp_ir.cli.main import main
from tests.readme import readme_block


def test_rasp_mips_is_a_command_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "    mips " in capsys.readouterr().out
    assert main(["mips"]) == 2
    help_text = capsys.readouterr().out
    for command in ("tasks", "data", "train", "lift"):
        assert f"    {command} " in help_text, command
    assert "\n    verify-transformer\n" in help_text  # a long name: its summary wraps


def test_rasp_mips_tasks_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mips", "tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 62
    assert lines[0].split()[0] == "Binary_Addition"
    assert main(["mips", "data", "Parity_All", "--n", "2", "--seed", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert row["y"] == [sum(row["x"][: t + 1]) % 2 for t in range(len(row["x"]))]


def test_an_unknown_task_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mips", "data", "Parity_al"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown MIPS task 'Parity_al' [mips-task]")
    assert "did you mean 'Parity_All'" in err


MACHINES = Path(__file__).parents[3] / "examples" / "machines"


def test_the_readme_machine_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parity, cycle4 = tmp_path / "parity.rasp", tmp_path / "cycle4.rasp"
    assert main(["mips", "lift", str(MACHINES / "parity.json"), "-o", str(parity)]) == 0
    assert "agreement 100%" in capsys.readouterr().out
    assert "# Construction: counts." in parity.read_text(encoding="utf-8")
    lift = ["lift", "--frontend", "mips", str(MACHINES / "cycle4.json"), "-o", str(cycle4)]
    assert main([*lift, "--max-len", "16"]) == 0
    capsys.readouterr()
    assert "# Construction: doubling." in cycle4.read_text(encoding="utf-8")
    verify = ["verify", str(cycle4), "--backend", "torch", "--exhaustive", "--max-len", "6"]
    assert main(verify) == 0
    assert capsys.readouterr().out == (
        f"{cycle4}: checking every input of length 0 to 6 over 2 tokens (0, 1): 127 inputs\n"
        f"{cycle4}: 127 inputs checked, 0 mismatches with the torch backend\n"
    )


def test_rasp_frontends_lists_mips(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frontends"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("mips "))
    assert line.endswith("[rasp-ir]") and "(--set construction)" in line


def test_the_readme_rnn_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Train an RNN, read its Moore machine off, lift it at 4T (checked against the RNN too),
    compile it into a transformer and check that against the machine, the task and the RNN."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    train = "mips train Parity_All -o runs/parity --hidden 2 --steps 300 --batch-size 128"
    assert main([*train.split(), "--dataset-size", "4000", "--seed", "3", "--quiet"]) == 0
    assert "1 of 1 seed(s) perfect" in capsys.readouterr().out
    extract = "mips extract runs/parity -o parity.json --method behaviour --exhaustive 8"
    assert main(extract.split()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("parity.json: 2 states")
    assert all(line.endswith(" 0 disagree") for line in lines[1:])
    verify = "mips verify parity.json --task Parity_All --run runs/parity"
    assert main(verify.split()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.endswith(" 0 disagree") for line in lines[:-1])
    assert len(lines) == 6 and lines[-1] == "certificate: parity.verify.json"
    lift = "mips lift parity.json -o parity.rasp --max-len 40 --run runs/parity"
    assert main(lift.split()) == 0
    assert "agreement 100%" in capsys.readouterr().out
    certificate = json.loads(Path("parity.certificate.json").read_text(encoding="utf-8"))
    assert "rnn_split" in certificate["inputs"]
    assert main(["verify", "parity.rasp", "--backend", "torch", "--samples", "500"]) == 0
    assert capsys.readouterr().out == (
        "parity.rasp: 500 inputs checked, 0 mismatches with the torch backend\n"
    )
    check = "mips verify-transformer parity.rasp parity.json --task Parity_All --run runs/parity"
    assert main(check.split()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8 and lines[-1] == "certificate: parity.transformer.json"
    assert all(line.endswith(" 0 disagree") for line in lines[:-1])
    assert lines[2].startswith("rnn_split (split, length 10, seed 0) vs RNN runs/parity: ")


@pytest.mark.slow
def test_the_readme_linear_rnn_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's Sum_Last2 block as written (about 20 s: 3000 steps; the extraction alone is
    tested fast on hand-built RNNs in test_extract_affine.py): a linear RNN, its integer-affine
    machine, and a program of one attention layer built from affine windows."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    (train, _), (extract, _), (lift, _) = readme_block("rasp mips train Sum_Last2")
    assert main([*train[1:], "--quiet"]) == 0
    assert "1 of 1 seed(s) perfect" in capsys.readouterr().out
    assert main(extract[1:]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sum_last2.json: integer-affine machine of state dimension 2")
    assert all(line.endswith(" 0 disagree") for line in lines[1:])
    assert json.loads(Path("sum_last2.json").read_text(encoding="utf-8"))["kind"] == "affine"
    assert main(lift[1:]) == 0
    assert "agreement 100%" in capsys.readouterr().out
    certificate = json.loads(Path("sum_last2.certificate.json").read_text(encoding="utf-8"))
    assert certificate["details"]["construction"] == "affine_windows"
    assert main(["check", "sum_last2.rasp"]) == 0
    assert "layers: 1   heads per layer: 1\n" in capsys.readouterr().out


def test_the_readme_affine_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["mips", "lift", str(MACHINES / "weighted_sum_mod7.json"), "-o", "w.rasp"]) == 0
    assert "agreement 100%" in capsys.readouterr().out
    assert "# Construction: affine prefix sums." in (tmp_path / "w.rasp").read_text(
        encoding="utf-8"
    )


def test_the_readme_pipeline_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Solve, the reference's search and the suite, as the README shows them."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    quick = ["--steps", "600", "--dataset-size", "2000", "--quiet"]
    assert main(["mips", "solve", "Parity_All", "-o", "solved/parity", *quick]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2] == "Parity_All: solved, finite machine of size 2"
    for name in ("machine.verify.json", "program-4T.rasp", "program.py", "transformer.verify.json"):
        assert (tmp_path / "solved" / "parity" / name).exists(), name
    search = "mips search Bitwise_Not -o runs/not --strategy paper --steps 1000 --dataset-size 2000"
    assert main([*search.split(), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].startswith("found: D=1, hidden MLP linear, output MLP linear (done")
    assert lines[-2].startswith("assumption: success is assumed monotone")
    suite = "mips suite -o suite --tasks Bitwise_Not,Bitwise_And --steps 600 --dataset-size 2000"
    assert main([*suite.split(), "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2 of 2 tasks solved; summary: suite/summary.md"
    )


def test_the_commands_name_the_lifts_constructions_without_importing_them() -> None:
    """``--construction``'s choices are the lift's own builders, in order; building the
    parser imports neither the constructions nor the RNN split (a fresh interpreter)."""
    from rasp_ir.frontends.mips import command_defaults, lift

    assert tuple(lift.BUILDERS) == command_defaults.CONSTRUCTIONS
    assert tuple(lift.AFFINE_BUILDERS) == command_defaults.AFFINE_CONSTRUCTIONS
    probe = (
        "import sys; from rasp_ir.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.startswith('rasp_ir.frontends.mips.')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout
    assert "rasp_ir.frontends.mips.command_defaults" in loaded
    for heavy in ("rasp_ir.frontends.mips.lift'", "rasp_ir.frontends.mips.rnn_split'"):
        assert heavy not in loaded
