"""``rasp mips solve``: a tiny budget takes Parity_All from data to a verified machine, certified
programs at T and 4T, a compiled transformer and Python; failures are typed results."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import torch

from rasp_ir.api import HeaderOverrides, load_backend, load_checked, verify
from rasp_ir.cli.main import main
from rasp_ir.frontends.mips.extract_behaviour import MAX_CONTINUATIONS
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import Run
from rasp_ir.frontends.mips.solve import (
    DEPTH0_SEQUENCES,
    EXTRACT_SEQUENCES,
    MIN_SEQUENCES,
    SolveSettings,
    behaviour_depth,
    extraction_plans,
    solve,
    time_limit,
)
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.train import TrainSettings

torch.set_num_threads(1)

QUICK = TrainSettings(steps=600, batch_size=256, lr=0.01, dataset_size=2000, eval_every=100)


def test_solve_takes_parity_from_data_to_a_verified_transformer(tmp_path: Path) -> None:
    result = solve(get_task("Parity_All"), tmp_path, SolveSettings(QUICK, seeds=(0, 1)))
    assert result.solved and result.failed_stage is None, result.reason
    facts = json.loads((tmp_path / "result.json").read_text())
    assert facts["machine"]["kind"] == "finite" and facts["machine"]["states"] == 2
    assert facts["construction"] == "counts"
    # The count's parity: a base unit and a ramp at each of its 10 thresholds.
    assert facts["transformer"] == {"n_layers": 1, "n_heads": 1, "d_model": 17, "d_mlp": 11}
    assert set(facts["seconds"]) == {"search", "extract", "lift", "compile", "transformer", "total"}
    certificate = json.loads((tmp_path / "machine.verify.json").read_text())
    names = list(certificate["inputs"])
    assert names == ["split", "exhaustive", "samples_2T", "samples_4T", "rnn_split"]
    for name in ("program.certificate.json", "program-4T.certificate.json"):
        assert json.loads((tmp_path / name).read_text())["disagreement_count"] == 0
    assert "max_len 40" in (tmp_path / "program-4T.rasp").read_text()
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "program.py").exists()
    program = load_checked(str(tmp_path / "program.rasp"), HeaderOverrides()).program
    report = verify(program, load_backend("torch"), exhaustive_max_len=8)
    assert report.checked == 2**9 - 1 and report.ok


def test_a_task_no_architecture_learns_fails_at_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["mips", "solve", "Parity_All", "-o", str(tmp_path), "--budget", "0", "--quiet"]
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "Parity_All not solved: search failed: no architecture learned the task" in err
    facts = json.loads((tmp_path / "result.json").read_text())
    assert facts["solved"] is False and facts["failed_stage"] == "search"
    assert not (tmp_path / "machine.json").exists()


def test_the_behaviour_depth_fits_the_extractors_bound() -> None:
    assert behaviour_depth(2, 40_001) == 6
    assert behaviour_depth(49, 40_001) == 1
    assert behaviour_depth(4, 40_001) == 3
    assert 40_001 * 4**3 <= MAX_CONTINUATIONS < 40_001 * 4**4


def _run(task: str, hidden_depth: int) -> Run:
    config = RNNConfig(1, 1, 2, hidden_depth=hidden_depth)
    return Run(GeneralRNN(config), get_task(task))


def test_extraction_plans_go_deeper_and_stay_within_the_trained_length() -> None:
    plans = extraction_plans(_run("Majority_0_1", 2), get_task("Majority_0_1"))
    assert [(p.method, p.depth, p.length) for p in plans] == [
        ("behaviour", 0, 10),
        *(("behaviour", depth, 10) for depth in range(6, 11)),
        *(("behaviour", depth, 10 - depth) for depth in range(2, 7)),
        ("geometric", None, 10),
        ("affine", None, 10),
        ("recurrence", None, 10),
    ]
    assert plans[0].sequences == DEPTH0_SEQUENCES
    for plan in plans:
        assert plan.sequences >= MIN_SEQUENCES
        if plan.depth is not None:
            assert (plan.sequences * plan.length + 1) * 2**plan.depth <= MAX_CONTINUATIONS
    assert plans[-4].describe() == "behaviour depth 6 on 4 steps"
    linear = extraction_plans(_run("Abs_Current", 1), get_task("Abs_Current"))
    assert [(p.method, p.depth, p.sequences) for p in linear] == [
        ("affine", None, EXTRACT_SEQUENCES),
        ("behaviour", 0, DEPTH0_SEQUENCES),
        ("behaviour", 1, 2097),
        ("geometric", None, EXTRACT_SEQUENCES),
        ("recurrence", None, EXTRACT_SEQUENCES),
    ]


def test_a_stage_over_its_time_limit_fails_with_a_message() -> None:
    with (
        pytest.raises(Exception, match=r"compiling took more than 0.2 s \(the --compile-timeout\)"),
        time_limit(0.2, "compiling"),
    ):
        time.sleep(5)
    with time_limit(math.inf, "compiling"):
        time.sleep(0.01)
