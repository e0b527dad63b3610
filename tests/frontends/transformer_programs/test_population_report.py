"""A population's folder (``rasp tp train --seeds``) as ``rasp report``, ``rasp explain``,
``rasp tp lift`` and ``rasp tp compile --data`` read it: the member validation selects by
default, ``--member SEED`` for another, a member's own ``seed-S`` folder, every member's
accuracies on the page, and the members named when a seed is not one of them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from rasp_ir.api import ArtifactView
from rasp_ir.cli.main import main
from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import FRONTEND, checkpoint, lift
from rasp_ir.frontends.transformer_programs.config import Architecture, ModelConfig, TrainConfig
from rasp_ir.frontends.transformer_programs.population_train import train_population


def _population(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "population.json").read_text(encoding="utf-8"))
    return data


def _member(population: dict[str, Any], seed: int) -> dict[str, Any]:
    return next(m for m in population["members"] if m["seed"] == seed)


def _view(folder: Path, member: int | None = None) -> ArtifactView:
    view = FRONTEND.report_view(folder, member)
    assert view is not None
    return view


@pytest.fixture(scope="module")
def selected_view(population_dir: Path) -> ArtifactView:
    """The view of the population's folder (lifting and certifying a member: once)."""
    return _view(population_dir)


def test_the_view_shows_the_selected_member_and_its_own_curves(
    population_dir: Path, selected_view: ArtifactView
) -> None:
    population = _population(population_dir)
    chosen = population["selected"]["model"]
    index = population["seeds"].index(chosen)
    assert selected_view.kind.startswith(f"Transformer Programs population: member seed {chosen}")
    assert "selected by validation among the final models" in selected_view.kind
    certificate = selected_view.certificate
    assert certificate is not None and certificate.ok
    assert certificate.source.details["member_seed"] == chosen
    sidecar = json.loads((population_dir / f"seed-{chosen}" / "model.json").read_text())
    assert certificate.source.sha256 == sidecar["sha256"]
    rows = json.loads((population_dir / "metrics.json").read_text())["epochs"]
    curves = {curve.name: curve.values for curve in selected_view.curves}
    assert curves["training loss"] == tuple(row["loss"][index] for row in rows)
    assert curves["validation accuracy (argmax model)"] == tuple(
        row["val_accuracy_argmax"][index] for row in rows
    )
    assert curves["temperature"] == tuple(row["tau"] for row in rows)
    facts = dict(selected_view.facts)
    assert facts["population"] == "3 members, seeds 0, 1, 5"
    assert facts["selected among the final models"] == f"seed {chosen}"
    assert facts["selected among the best epochs"] == f"seed {population['selected']['best']}"


def test_the_population_table_has_every_member(
    population_dir: Path, selected_view: ArtifactView
) -> None:
    population = _population(population_dir)
    (table,) = selected_view.tables
    assert table.title == "Population"
    assert [int(row[0]) for row in table.rows] == [0, 1, 5]
    for row in table.rows:
        member = _member(population, int(row[0]))
        cells = dict(zip(table.columns, row, strict=True))
        for split in ("train", "val", "test"):
            assert cells[f"final {split}"] == f"{member['accuracy_argmax'][split]:.2%}"
        assert cells["best epoch"] == str(member["best_epoch"])
        assert cells["best val"] == f"{member['best_accuracy_argmax']['val']:.2%}"
        chosen = [
            words
            for key, words in (
                ("model", "among the final models"),
                ("best", "among the best epochs"),
            )
            if population["selected"][key] == member["seed"]
        ]
        assert cells["selected by validation"] == "; ".join(chosen)
        assert cells["diverged"] == "" and cells["culled"] == ""


def test_report_writes_the_population_table_and_the_selected_members_page(
    population_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "population.html"
    assert main(["report", str(population_dir), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    chosen = _population(population_dir)["selected"]["model"]
    assert (
        f"<title>{population_dir}: Transformer Programs population: member seed {chosen}," in page
    )
    assert '<h2 id="table-1">Population</h2>' in page and '<a href="#table-1">' in page
    assert page.count("<tr><td>") >= 3
    assert page.count('<figure class="training-curve">') == 4
    assert '<h2 id="errors">Error attribution: test split</h2>' in page
    assert html.escape("rasp report RUN_DIR --member SEED") in page


def test_member_chooses_another_member(
    population_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    population = _population(population_dir)
    other = next(seed for seed in population["seeds"] if seed != population["selected"]["model"])
    assert main(["explain", str(population_dir), "--member", str(other), "--errors"]) == 0
    shown = capsys.readouterr()
    assert (
        shown.err
        == f"{population_dir}: Transformer Programs population: member seed {other}"
        + (
            ", selected by validation among the best epochs\n"
            if population["selected"]["best"] == other
            else "\n"
        )
    )
    accuracy = _member(population, other)["accuracy_argmax"]["test"]
    assert shown.out.splitlines()[0].endswith(f"(accuracy {accuracy:.2%})")


def test_a_members_own_folder_is_that_member_with_the_populations_data(
    population_dir: Path,
) -> None:
    view = _view(population_dir / "seed-1")
    assert view.kind.startswith("Transformer Programs population: member seed 1")
    assert view.certificate is not None
    assert view.certificate.source.details["member_seed"] == 1
    assert view.certificate.source.path == str(population_dir)
    assert view.labelled is not None
    assert len(view.labelled.inputs) == _population(population_dir)["sizes"]["test"]
    with pytest.raises(RaspError, match="is the folder of member 1, not of member 5"):
        FRONTEND.report_view(population_dir / "seed-1", 5)


def test_a_seed_that_is_no_member_is_refused_naming_the_members(
    population_dir: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.html")
    for argv in (
        ["report", str(population_dir), "--member", "4", "-o", out],
        ["explain", str(population_dir), "--member", "4", "--errors"],
        ["lift", "-f", "transformer_programs", str(population_dir), "-o", out, "--set", "member=4"],
    ):
        assert main(argv) == 1
        shown = capsys.readouterr().err
        assert f"{population_dir} has no member trained with seed 4" in shown, argv
        assert "hint: --member is a seed of the population: 0, 1, 5" in shown
        assert "Traceback" not in shown
    assert main(["explain", str(run_dir), "--member", "0", "--errors"]) == 1
    assert "holds a single run, not a population" in capsys.readouterr().err


def test_compile_data_checks_on_a_populations_test_split(
    population_dir: Path,
    selected_view: ArtifactView,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = ModelConfig.from_json(
        checkpoint.read_sidecar(population_dir / "seed-0" / "model")["config"]
    )
    inputs = lift.run_test_inputs(population_dir)
    assert inputs == lift.test_inputs_of(population_dir, config)
    assert len(inputs) == _population(population_dir)["sizes"]["test"]
    assert lift.run_test_inputs(population_dir / "seed-5") == inputs
    program = tmp_path / "selected.rasp"
    program.write_text(selected_view.program_text, encoding="utf-8")
    argv = ["tp", "compile", str(program), "-o", str(tmp_path / "compiled")]
    argv += ["--data", str(population_dir), "--exhaustive-limit", "50", "--fuzz", "10"]
    assert main(argv) == 0
    assert f"of them the test split of {population_dir} (" in capsys.readouterr().out


def test_an_unfinished_population_says_how_to_finish_it(tmp_path: Path) -> None:
    run = tmp_path / "hist"
    settings = TrainConfig(epochs=2, batch_size=64, seed=0, dataset_size=300)
    arch = Architecture.split(1, 2, 1)
    train_population("hist", run, (0, 1), arch, settings, progress=False, stop_after=1)
    (run / "population.json").unlink()  # as a run killed before its end leaves the folder
    for call in (lambda: FRONTEND.report_view(run), lambda: lift.run_test_inputs(run)):
        with pytest.raises(RaspError, match="a population whose training has not finished") as e:
            call()
        assert e.value.diagnostics[0].hint == f"finish it: rasp tp train hist -o {run} --resume"


def test_another_frontends_unfinished_population_is_not_taken_for_ours(tmp_path: Path) -> None:
    progress = {"format": "rasp-ir/another-frontend", "seeds": [0, 1], "task": "x"}
    (tmp_path / "last.json").write_text(json.dumps(progress), encoding="utf-8")
    assert FRONTEND.report_view(tmp_path) is None
