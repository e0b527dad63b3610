"""``rasp tp``: train, resume, lift and compile from the command line (the command module
registered here)."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from rasp_ir.cli.main import main
from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint, cli, population_train
from rasp_ir.frontends.transformer_programs import train as train_module
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.lift import model_predictions
from rasp_ir.frontends.transformer_programs.recipes import recipe_train_config
from rasp_ir.frontends.transformer_programs.train import default_train_config, train
from tests.benchmarks.scripts import benchmark_script
from tests.readme import readme_block


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rasp")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def test_lift_then_compile(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "hist.rasp"
    args = ("--exhaustive-limit", "300", "--fuzz", "50")
    assert _run("tp", "lift", str(run_dir), "-o", str(program), *args) == 0
    certificate = json.loads((tmp_path / "hist.certificate.json").read_text())
    assert certificate["format"] == "rasp-ir/certificate"
    assert certificate["frontend"] == "transformer_programs"
    assert certificate["agreement"] == 1.0 and certificate["disagreement_count"] == 0
    assert certificate["inputs"]["exhaustive"]["selection"] == "exhaustive"
    assert certificate["details"]["program_lines"] == len(program.read_text().splitlines())
    assert _run("tp", "compile", str(program), "-o", str(tmp_path / "compiled"), *args) == 0
    sidecar = json.loads((tmp_path / "compiled" / "model.json").read_text())
    assert sidecar["program_text"] == program.read_text()
    assert "agreement 100%" in capsys.readouterr().out


def test_lift_the_best_validation_epoch(run_dir: Path, tmp_path: Path) -> None:
    program = tmp_path / "best.rasp"
    args = ("--exhaustive-limit", "300", "--fuzz", "50", "--checkpoint", "best")
    assert _run("tp", "lift", str(run_dir), "-o", str(program), *args) == 0
    certificate = json.loads((tmp_path / "best.certificate.json").read_text())
    best = json.loads((run_dir / "best.json").read_text())
    assert certificate["agreement"] == 1.0
    assert certificate["source"]["checkpoint"] == "best"
    assert certificate["source"]["epoch"] == best["epoch"]
    assert certificate["source"]["weights_sha256"] == best["sha256"]
    assert certificate["source"]["sha256"] == best["sha256"]
    assert certificate["source"]["path"] == str(run_dir)


def test_the_readme_runs_a_lifted_program_as_the_model_predicts(
    run_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``rasp run hist.rasp 0 3 3 1`` from the README's block, on a program lifted from a run
    in ``runs/hist``: one value per position, ``<s>`` first, each the model's own class."""
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "hist").symlink_to(run_dir)
    monkeypatch.chdir(tmp_path)
    block = readme_block("rasp tp train hist -o runs/hist")
    lift = next(words for words, _ in block if words[1:3] == ["tp", "lift"])
    (run,) = [words for words, _ in block if words[1] == "run"]
    assert _run(*lift[1:], "--exhaustive-limit", "300", "--fuzz", "50") == 0
    assert "agreement 100%" in capsys.readouterr().out
    assert main(run[1:]) == 0
    model, _, _ = checkpoint.load(run_dir / "model")
    assert json.loads(capsys.readouterr().out) == model_predictions(model, [run[3:]])[0]


def test_train_splits_heads_and_mlps_like_the_paper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    sizes = ("--epochs", "1", "--dataset-size", "200", "--quiet")
    assert _run("tp", "train", "hist", "-o", str(run), "--heads", "3", "--mlps", "1", *sizes) == 0
    config = json.loads((run / "model.json").read_text())["config"]
    split = {key: config[key] for key in ("n_heads_cat", "n_heads_num", "n_cat_mlps", "n_num_mlps")}
    assert split == {"n_heads_cat": 2, "n_heads_num": 1, "n_cat_mlps": 1, "n_num_mlps": 0}
    assert config["n_layers"] == 1  # hist's Table 1 depth, not overridden
    shown = capsys.readouterr().out
    assert "hist: argmax accuracy" in shown
    assert "best validation epoch 1: train" in shown and str(run / "best") in shown


def test_resume_continues_with_the_runs_own_settings(tmp_path: Path) -> None:
    arch = Architecture(1, 1, 1, 0, 1)
    two = TrainConfig(epochs=2, batch_size=256, seed=3, dataset_size=300, gumbel_samples=2)
    train("hist", tmp_path / "whole", arch, two, progress=False)
    train("hist", tmp_path / "cut", arch, two, progress=False, stop_after=1)
    assert _run("tp", "train", "hist", "-o", str(tmp_path / "cut"), "--resume", "--quiet") == 0
    whole, _, _ = checkpoint.load(tmp_path / "whole" / "model")
    resumed, _, _ = checkpoint.load(tmp_path / "cut" / "model")
    for (name, x), (_, y) in zip(
        whole.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), name
    with pytest.raises(RaspError) as refused:
        _run("tp", "train", "hist", "-o", str(tmp_path / "cut"), "--resume", "--epochs", "5")
    assert "epochs 5 (the run has 2)" in str(refused.value)


def test_resume_without_a_run_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(RaspError) as refused:
        _run("tp", "train", "hist", "-o", str(tmp_path / "none"), "--resume")
    assert "holds no run to resume" in str(refused.value)
    assert "without --resume" in str(refused.value.diagnostics[0].hint)


def test_train_options_reach_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    options: tuple[str, ...] = ("--sampler", "softmax", "--tau-init", "2", "--tau-end", "0.5")
    options += ("--lr", "0.02", "--clip-grad-norm", "1.5")
    sizes = (
        "--epochs",
        "1",
        "--dataset-size",
        "200",
        "--seed",
        "4",
        "--batch-size",
        "64",
        "--quiet",
    )
    assert _run("tp", "train", "hist", "-o", str(run), *options, *sizes) == 0
    saved = json.loads((run / "model.json").read_text())["train"]
    assert TrainConfig.from_json(saved) == TrainConfig(
        epochs=1,
        batch_size=64,
        lr=0.02,
        tau_init=2.0,
        tau_end=0.5,
        seed=4,
        dataset_size=200,
        sampler="softmax",
        clip_grad_norm=1.5,
    )
    draws = tmp_path / "draws"
    assert _run("tp", "train", "hist", "-o", str(draws), "--gumbel-samples", "2", *sizes) == 0
    assert json.loads((draws / "model.json").read_text())["train"]["gumbel_samples"] == 2


def _environment_while_training(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """Records, at every optimiser step, torch's threads and 1e-38 / 100 in float32 (a denormal,
    0 when denormals are flushed)."""
    seen: list[tuple[int, float]] = []
    backpropagate = train_module.backpropagate

    def recording(*args: Any) -> float:
        denormal = float(torch.tensor(1e-38, dtype=torch.float32) / 100)
        seen.append((torch.get_num_threads(), denormal))
        return backpropagate(*args)

    monkeypatch.setattr(train_module, "backpropagate", recording)
    return seen


@pytest.mark.parametrize(("option", "threads"), [((), cli.TRAIN_THREADS), (("--threads", "2"), 2)])
def test_training_runs_on_the_threads_asked_for_then_restores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: tuple[str, ...], threads: int
) -> None:
    seen = _environment_while_training(monkeypatch)
    before = torch.get_num_threads()
    tiny = ("--epochs", "1", "--dataset-size", "200", "--batch-size", "64", "--quiet")
    assert _run("tp", "train", "hist", "-o", str(tmp_path / "run"), *option, *tiny) == 0
    assert seen and {t for t, _ in seen} == {threads}
    assert torch.get_num_threads() == before


def test_training_flushes_denormals_then_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush denormals")
    seen = _environment_while_training(monkeypatch)
    tiny = ("--epochs", "1", "--dataset-size", "200", "--batch-size", "64", "--quiet")
    assert _run("tp", "train", "hist", "-o", str(tmp_path / "run"), *tiny) == 0
    assert seen and {d for _, d in seen} == {0.0}
    assert float(torch.tensor(1e-38, dtype=torch.float32) / 100) > 0


def test_fewer_than_one_thread_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="--threads must be at least 1"):
        _run("tp", "train", "hist", "-o", str(tmp_path / "run"), "--threads", "0", "--quiet")
    assert not (tmp_path / "run").exists()


def test_a_recipe_and_the_options_given_beside_it_reach_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    sizes = ("--epochs", "2", "--dataset-size", "200", "--batch-size", "64", "--quiet")
    options = ("--recipe", "robust", "--clip-grad-norm", "3", "--restart-drop", "0.2")
    assert _run("tp", "train", "hist", "-o", str(run), *options, *sizes) == 0
    saved = TrainConfig.from_json(json.loads((run / "model.json").read_text())["train"])
    robust = recipe_train_config("robust", default_train_config("hist"))
    expected = replace(
        robust, epochs=2, dataset_size=200, batch_size=64, clip_grad_norm=3.0, restart_drop=0.2
    )
    assert saved == expected and saved.recipe == "robust"
    last = json.loads((run / "last.json").read_text())
    assert TrainConfig.from_json(last["train"]) == expected
    with pytest.raises(RaspError, match="recipe paper \\(the run has robust\\)"):
        _run("tp", "train", "hist", "-o", str(run), "--recipe", "paper", "--resume", "--quiet")


def test_the_robust_recipe_of_a_population_has_exploit_rounds(tmp_path: Path) -> None:
    run = tmp_path / "run"
    sizes = ("--epochs", "2", "--dataset-size", "200", "--batch-size", "64", "--quiet")
    assert (
        _run("tp", "train", "hist", "-o", str(run), "--seeds", "0-1", "--recipe", "robust", *sizes)
        == 0
    )
    saved = TrainConfig.from_json(json.loads((run / "population.json").read_text())["train"])
    robust = recipe_train_config("robust", default_train_config("hist"), population=True)
    assert saved == replace(robust, epochs=2, dataset_size=200, batch_size=64)
    assert (saved.exploit_every, saved.exploit_score) == (10, "train_loss")


def test_the_readme_wide_start_is_the_recipe_benchmark_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    line = "rasp tp train double_hist -o runs/dh-wide --seeds 16-31 --recipe robust "
    line += "--cull-after 30 --exploit-start 30"
    assert line in readme
    trained: dict[str, Any] = {}

    def capture(task: str, output: Path, seeds: Any, arch: Any, settings: Any, **_: Any) -> None:
        trained.update(seeds=seeds, settings=settings)
        raise SystemExit(0)  # what was asked is known: train nothing

    monkeypatch.setattr(population_train, "train_population", capture)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        _run(*line.split()[1:], "--quiet")
    recipe = benchmark_script("tp_recipe")
    base = default_train_config("double_hist", seed=16)
    measured = recipe.variant_settings("clip_cull_exploit_loss", base)
    assert trained["seeds"] == recipe.variant_seeds("clip_cull_exploit_loss", (16, 17, 18, 19))
    assert trained["settings"] == replace(measured, recipe="robust")


def test_a_run_that_restarts_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A hair trigger: any epoch below the best restarts the run.
    options = ("--restart-drop", "0.001", "--restart-patience", "1", "--restart-lr-factor", "0.5")
    sizes = ("--epochs", "4", "--lr", "0.1", "--dataset-size", "300", "--batch-size", "64")
    arch = ("--layers", "2", "--heads", "2", "--mlps", "2", "--quiet")
    assert _run("tp", "train", "hist", "-o", str(tmp_path / "run"), *options, *sizes, *arch) == 0
    shown = capsys.readouterr().out
    rows = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    restarts = [row["restart"] for row in rows if "restart" in row]
    assert restarts, "the hair trigger never fired: the test shows nothing"
    first = restarts[0]
    assert first["lr_factor"] == 0.5 and first["from_epoch"] < first["epoch"]
    assert first["val_accuracy_argmax"] < first["best_val_accuracy_argmax"]
    assert f"restarted after epoch {first['epoch']} " in shown
    assert shown.count("restarted after epoch") == len(restarts)


def test_the_readme_recipe_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    line = "rasp tp train hist -o runs/hist-robust --recipe robust --epochs 3 --dataset-size 400"
    assert line in readme
    monkeypatch.chdir(tmp_path)
    assert _run(*line.split()[1:], "--quiet") == 0
    saved = json.loads((tmp_path / "runs" / "hist-robust" / "model.json").read_text())
    assert saved["train"]["recipe"] == "robust" and saved["train"]["clip_grad_norm"] == 1.0


def test_the_readme_straight_through_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    line = (
        "rasp tp train hist -o runs/hist-hard --sampler gumbel_hard --epochs 3 --dataset-size 400"
    )
    assert line in readme
    monkeypatch.chdir(tmp_path)
    assert _run(*line.split()[1:], "--quiet") == 0
    run_dir = tmp_path / "runs" / "hist-hard"
    assert json.loads((run_dir / "model.json").read_text())["train"]["sampler"] == "gumbel_hard"
    rows = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert len(rows) == 3 and all(math.isfinite(row["grad_norm_max"]) for row in rows)
