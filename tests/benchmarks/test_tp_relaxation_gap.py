"""benchmarks/tp_relaxation_gap.py: the model with some families of choices relaxed is the
model's own relaxed forward pass when all are, the program when none are, and the report covers
every member and variant of a population's checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.population_train import train_population
from tests.benchmarks.scripts import benchmark_script
from tests.frontends.transformer_programs.conftest import random_model


@pytest.mark.parametrize("seed", [0, 1])
def test_all_families_relaxed_is_the_relaxed_model_and_none_the_program(seed: int) -> None:
    script = benchmark_script("tp_relaxation_gap")
    model = random_model(seed, (2, 2, 2, 2, 2), causal=seed == 1)
    mixed = script.FamilyRelaxed(model.config)
    mixed.load_state_dict(model.state_dict())
    tokens = torch.randint(1, 4, (32, 6), generator=torch.Generator().manual_seed(seed))
    tokens[:, 0] = 5
    tokens[::3, 4:] = 0
    predicted = model.predict(tokens)
    for program in (model, mixed):
        program.set_sampling(tau=0.8, mode="gumbel_soft")
    with torch.no_grad():
        torch.manual_seed(7)
        want = model(tokens)
        torch.manual_seed(7)
        got = mixed(tokens)
        mixed.relaxed = frozenset()
        program = mixed(tokens)
    assert torch.equal(got, want)
    real = tokens != 0
    assert torch.equal(program.argmax(-1)[real], predicted[real])


def test_every_member_and_variant_is_reported(tmp_path: Path) -> None:
    run_dir = tmp_path / "hists"
    settings = TrainConfig(epochs=2, batch_size=64, dataset_size=200)
    train_population("hist", run_dir, (0, 3), Architecture(1, 1, 1, 1, 1), settings, progress=False)
    script = benchmark_script("tp_relaxation_gap")
    for which in ("last", "model"):
        argv = [str(run_dir), "--checkpoint", which, "--examples", "16", "--draws", "1"]
        argv += ["--results", str(tmp_path), "--name", which]
        assert script.main(argv) == 0
        saved = json.loads((tmp_path / f"{which}.json").read_text())
        assert [row["seed"] for row in saved["rows"]] == [0, 3]
        for row in saved["rows"]:
            assert set(row["variants"]) == set(script.variants())
            assert all(0 <= cell["accuracy"] <= 1 for cell in row["variants"].values())
        report = (tmp_path / f"{which}.md").read_text()
        assert "| all but attention |" in report and "| 3 |" in report
