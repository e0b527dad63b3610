"""``rasp tp train --seeds`` and ``rasp tp lift --member``: what a user runs and sees, the README's
population commands among them, and the seed lists and members refused."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.population_folder import parse_seeds
from rasp_ir.frontends.transformer_programs.population_train import train_population

from .test_cli import _run

ROOT = Path(__file__).resolve().parents[3]
TINY = (
    *("--epochs", "2", "--dataset-size", "300", "--batch-size", "64"),
    *("--layers", "1", "--heads", "2", "--mlps", "1", "--quiet"),
)
CHECKS = ("--exhaustive-limit", "300", "--fuzz", "50")


def test_train_prints_every_member_and_the_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "hist"
    assert _run("tp", "train", "hist", "-o", str(run), "--seeds", "2,7", *TINY) == 0
    shown = capsys.readouterr().out.splitlines()
    summary = json.loads((run / "population.json").read_text())
    assert shown[0].startswith("hist: 2 members (") and shown[0].endswith(f"-> {run}")
    assert shown[1] == "    seed  final val  final test  best epoch  best val  best test"
    seeds = [int(line.split()[0]) for line in shown[2:4]]
    assert seeds == [2, 7]
    for line, member in zip(shown[2:4], summary["members"], strict=True):
        assert line.split()[1] == f"{member['accuracy_argmax']['val']:.2%}"
    model, best = summary["selected"]["model"], summary["selected"]["best"]
    assert shown[4].startswith(f"selected by validation among the final models: seed {model} ")
    assert shown[4].endswith(str(run / f"seed-{model}" / "model"))
    assert shown[5].startswith(f"selected by validation among the best epochs: seed {best} ")
    assert summary["train"]["seed"] == 2  # the data of the first seed


def test_lift_a_member_by_its_seed(population_dir: Path, tmp_path: Path) -> None:
    program = tmp_path / "member.rasp"
    assert (
        _run("tp", "lift", str(population_dir), "--member", "5", "-o", str(program), *CHECKS) == 0
    )
    certificate = json.loads((tmp_path / "member.certificate.json").read_text())
    sidecar = json.loads((population_dir / "seed-5" / "model.json").read_text())
    assert certificate["agreement"] == 1.0 and certificate["disagreement_count"] == 0
    assert certificate["source"]["member_seed"] == 5
    assert certificate["source"]["weights_sha256"] == sidecar["sha256"]
    assert certificate["inputs"]["test_split"]["inputs"] == sidecar["sizes"]["test"]


@pytest.mark.parametrize("which", ["model", "best"])
def test_lift_without_a_member_lifts_the_one_validation_selects(
    population_dir: Path, tmp_path: Path, which: str
) -> None:
    program = tmp_path / "selected.rasp"
    argv = ("tp", "lift", str(population_dir), "-o", str(program), "--checkpoint", which)
    assert _run(*argv, *CHECKS) == 0
    certificate = json.loads((tmp_path / "selected.certificate.json").read_text())
    selected = json.loads((population_dir / "population.json").read_text())["selected"][which]
    assert certificate["agreement"] == 1.0
    assert certificate["source"]["member_seed"] == selected
    assert certificate["source"]["checkpoint"] == which


def test_unknown_members_and_members_of_single_runs_are_refused(
    population_dir: Path, run_dir: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "x.rasp")
    with pytest.raises(RaspError, match=r"no member trained with seed 4") as error:
        _run("tp", "lift", str(population_dir), "--member", "4", "-o", out)
    assert "a seed of the population: 0, 1, 5" in str(error.value.diagnostics[0].hint)
    with pytest.raises(RaspError, match="holds a single run, not a population"):
        _run("tp", "lift", str(run_dir), "--member", "0", "-o", out)


def test_resume_a_population_from_the_command_line(tmp_path: Path) -> None:
    run = tmp_path / "hist"
    settings = TrainConfig(epochs=2, batch_size=64, seed=3, dataset_size=300)
    arch = Architecture.split(1, 2, 1)
    train_population("hist", run, (3, 4), arch, settings, progress=False, stop_after=1)
    assert _run("tp", "train", "hist", "-o", str(run), "--resume", "--quiet") == 0
    rows = json.loads((run / "metrics.json").read_text())["epochs"]
    summary = json.loads((run / "population.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2]
    assert summary["seeds"] == [3, 4] and summary["epochs_run"] == 2
    with pytest.raises(RaspError, match=r"population of seeds \[3, 4\], not \[3, 5\]"):
        _run("tp", "train", "hist", "-o", str(run), "--resume", "--seeds", "3,5", "--quiet")


def test_seed_lists() -> None:
    assert parse_seeds("0-3") == (0, 1, 2, 3)
    assert parse_seeds("0,3,7") == (0, 3, 7)
    assert parse_seeds("5, 0-2") == (5, 0, 1, 2)
    for text, message in [
        ("3-1", "'3-1' is not a range of seeds >= 0"),
        ("a", "'a' is not a seed or a range"),
        ("0-2,2", "names seed 2 twice"),
        ("", "'' is not a seed or a range"),
    ]:
        with pytest.raises(RaspError, match=message):
            parse_seeds(text)


def test_the_readme_exploit_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = (
        "rasp tp train hist -o runs/hists-exploit --seeds 0-3 --exploit-every 2 --epochs 6 "
        "--dataset-size 400"
    )
    assert line in readme
    monkeypatch.chdir(tmp_path)
    assert _run(*line.split()[1:], "--quiet") == 0
    shown = capsys.readouterr().out.splitlines()
    summary = json.loads((tmp_path / "runs" / "hists-exploit" / "population.json").read_text())
    assert summary["train"]["exploit_every"] == 2
    copies = {m["seed"]: m["exploits"] for m in summary["members"] if m["exploits"]}
    assert copies, "no member took another's state: the command shows nothing"
    for seed, taken in copies.items():
        row = next(text for text in shown if text.split()[:1] == [str(seed)])
        listed = ", ".join(f"seed {c['from_seed']} (epoch {c['epoch']})" for c in taken)
        assert row.endswith(f"took the state of {listed}")
        assert all(copy["epoch"] in (2, 4) for copy in taken)  # never after the last epoch


def test_the_readme_cull_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = (
        "rasp tp train hist -o runs/hists-wide --seeds 0-7 --cull-after 2 --epochs 4 "
        "--dataset-size 400"
    )
    assert line in readme
    monkeypatch.chdir(tmp_path)
    assert _run(*line.split()[1:], "--quiet") == 0
    shown = capsys.readouterr().out.splitlines()
    summary = json.loads((tmp_path / "runs" / "hists-wide" / "population.json").read_text())
    assert summary["train"]["cull_after"] == 2
    culled = [m["seed"] for m in summary["members"] if m["culled"]]
    assert len(culled) == 6, "a quarter of eight members go on"
    for member in summary["members"]:
        row = next(text for text in shown if text.split()[:1] == [str(member["seed"])])
        assert row.endswith("culled after epoch 2") == (member["seed"] in culled)


def test_seed_and_seeds_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="--seed and --seeds together"):
        _run("tp", "train", "hist", "-o", str(tmp_path), "--seed", "1", "--seeds", "0-3")


@pytest.mark.slow  # four processes, ~20 s of CPU; the fast variants are the tests above and in
# test_population_report.py
def test_the_readme_population_commands(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Many seeds train as one batched model") :]
    lines = section.split("```bash\n")[1].split("```")[0].splitlines()
    assert lines[0] == "rasp tp train hist -o runs/hists --seeds 0-3 --epochs 3 --dataset-size 400"
    rasp = [sys.executable, "-m", "rasp_ir.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    shown = {}
    for line in lines:
        args = shlex.split(line.split("#")[0])
        done = subprocess.run(
            [*rasp, *args[1:]],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (line, done.stderr)
        shown[args[1]] = done
    run = tmp_path / "runs" / "hists"
    assert (run / "seed-3" / "best.json").exists()
    assert "agreement 100%" in shown["tp"].stdout
    page = (tmp_path / "hists.html").read_text(encoding="utf-8")
    selected = json.loads((run / "population.json").read_text())["selected"]["model"]
    assert f"Transformer Programs population: member seed {selected}" in page
    assert '<h2 id="table-1">Population</h2>' in page
    assert shown["explain"].stderr.startswith("runs/hists: Transformer Programs population: ")
    assert shown["explain"].stdout.startswith("test split: ")
