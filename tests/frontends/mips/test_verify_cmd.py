"""``rasp mips verify`` checks a machine file against its task (and an RNN run) and writes a
certificate; any disagreement fails the command after the certificate is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rasp_ir.cli.main import main
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import save_run
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.verify_cmds import exhaustive_length

MACHINES = Path(__file__).parents[3] / "examples" / "machines"


def verify(machine: Path, task: str, certificate: Path, *more: str) -> int:
    return main(
        ["mips", "verify", str(machine), "--task", task, "--certificate", str(certificate), *more]
    )


def parity_rnn() -> GeneralRNN:
    """h' = |h - x| = h XOR x on bits; y = h."""
    model = GeneralRNN(RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=2, output_depth=1))
    weights = {
        "hidden.0.weight": [[1, -1], [-1, 1]],
        "hidden.0.bias": [0, 0],
        "hidden.2.weight": [[1, 1]],
        "hidden.2.bias": [0],
        "output.0.weight": [[1]],
        "output.0.bias": [0],
    }
    state = {key: torch.tensor(value, dtype=torch.float32) for key, value in weights.items()}
    model.load_state_dict(state, strict=True)
    return model


def test_parity_verifies_against_parity_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = tmp_path / "parity.cert.json"
    assert verify(MACHINES / "parity.json", "Parity_All", cert, "--sequences", "500") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"certificate: {cert}"
    assert len(lines) == 5
    assert all(line.endswith(", 0 disagree") for line in lines[:4])
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["format"] == "rasp-ir/certificate"
    assert data["frontend"] == "mips"
    assert data["agreement"] == 1.0 and data["disagreement_count"] == 0
    assert data["source"]["path"] == str(MACHINES / "parity.json")
    assert len(data["source"]["sha256"]) == 64
    assert data["details"]["kind"] == "finite" and data["details"]["states"] == 2
    assert data["details"]["references"] == ["Parity_All"]
    groups = data["inputs"]
    assert set(groups) == {"split", "exhaustive", "samples_2T", "samples_4T"}
    assert groups["split"] == {"selection": "split", "inputs": 50, "positions": 500}
    # 2^10 <= 2^12: every input of length 1 to T = 10, 2 + 4 + ... + 1024 of them.
    assert groups["exhaustive"]["max_length"] == 10
    assert groups["exhaustive"]["inputs"] == 2046
    assert groups["exhaustive"]["positions"] == sum(n * 2**n for n in range(1, 11))
    assert groups["samples_2T"] == {
        "selection": "samples",
        "inputs": 1000,
        "positions": 20000,
        "seed": 0,
    }
    assert groups["samples_4T"]["positions"] == 40000


def test_a_wrong_machine_fails_after_writing_its_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = tmp_path / "wrong.json"
    assert verify(MACHINES / "parity.json", "Parity_Last2", cert, "--sequences", "500") == 1
    captured = capsys.readouterr()
    assert "disagrees with its references at" in captured.err and "[mips-verify]" in captured.err
    assert any(not line.endswith(" 0 disagree") for line in captured.out.splitlines()[:4])
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["disagreement_count"] > 0 and data["agreement"] < 1.0
    assert 0 < len(data["disagreements"]) <= 10
    first = data["disagreements"][0]
    assert set(first) == {"input", "position", "source", "program"}


def test_an_affine_machine_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # sum_all.json reads 0..9 only; Sum_All's alphabet is 0..99, which sum_all_100.json reads.
    assert get_task("Sum_All").alphabet.high == 99
    cert = tmp_path / "sum.json"
    assert verify(MACHINES / "sum_all_100.json", "Sum_All", cert, "--sequences", "200") == 0
    capsys.readouterr()
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["details"]["kind"] == "affine" and data["details"]["state_dim"] == 1
    assert data["inputs"]["exhaustive"]["max_length"] == 1  # 100^2 > 2^12
    assert data["inputs"]["exhaustive"]["inputs"] == 100
    # A machine whose alphabet misses the task's symbols is refused, naming a symbol.
    assert verify(MACHINES / "sum_all.json", "Sum_All", tmp_path / "small.json") == 1
    assert "input symbol 10 is not in the alphabet" in capsys.readouterr().err


def test_a_run_is_a_further_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    save_run(parity_rnn(), get_task("Parity_All"), run)
    cert = tmp_path / "c.json"
    assert (
        verify(
            MACHINES / "parity.json", "Parity_All", cert, "--sequences", "300", "--run", str(run)
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"rnn_split (split) vs RNN {run}: 30 sequences, 300 positions, 0 disagree" in out
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["inputs"]["rnn_split"]["inputs"] == 30
    assert data["details"]["references"] == ["Parity_All", f"RNN {run}"]


def test_unknown_task_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "c.json"
    assert verify(MACHINES / "parity.json", "Parity_al", cert) == 1
    assert "unknown MIPS task 'Parity_al'" in capsys.readouterr().err
    assert verify(tmp_path / "absent.json", "Parity_All", cert) == 1
    assert "absent.json" in capsys.readouterr().err
    assert not cert.exists()


def test_the_exhaustive_length_stays_under_the_cap() -> None:
    assert exhaustive_length(2, 10) == 10
    assert exhaustive_length(2, 20) == 12
    assert exhaustive_length(100, 10) == 1
    assert exhaustive_length(4, 10) == 6
