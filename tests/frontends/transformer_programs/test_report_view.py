"""A run folder as ``rasp report`` and ``rasp explain`` see it: the lifted program with its
certificate, the training curves, and error attribution over the test split that agrees with
the accuracy training measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.api import ArtifactView
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs import FRONTEND
from rasp_ir.frontends.transformer_programs.train import RunResult


@pytest.fixture(scope="module")
def view(tiny_run: RunResult) -> ArtifactView:
    """The run's view (lifting and certifying takes a few seconds: once)."""
    found = FRONTEND.report_view(tiny_run.run_dir)
    assert found is not None
    return found


def test_the_view_of_a_run_folder(tiny_run: RunResult, view: ArtifactView) -> None:
    assert view.kind == "Transformer Programs run"
    assert [c.name for c in view.curves] == [
        "training loss",
        "validation accuracy (argmax model)",
        "temperature",
        "largest gradient norm",
    ]
    assert all(len(c.values) == tiny_run.epochs for c in view.curves)
    assert view.certificate is not None and view.certificate.ok
    assert dict(view.facts)["task"] == "hist"
    labelled = view.labelled
    assert labelled is not None and labelled.output == "prediction"
    assert len(labelled.inputs) == tiny_run.sizes["test"]
    assert all(row[0] is None for row in labelled.expected)  # BOS is not scored
    assert all(
        len(e) == len(x) + 1 for x, e in zip(labelled.inputs, labelled.expected, strict=True)
    )


def test_other_folders_are_not_run_folders(tmp_path: Path) -> None:
    assert FRONTEND.report_view(tmp_path) is None
    (tmp_path / "model.json").write_text('{"format": "something else"}', encoding="utf-8")
    assert FRONTEND.report_view(tmp_path) is None


def test_errors_are_attributed_over_the_test_split(
    tiny_run: RunResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(tiny_run.run_dir), "--errors"]) == 0
    lines = capsys.readouterr().out.splitlines()
    test_accuracy = tiny_run.accuracy["test"]
    assert lines[0].startswith(f"test split: {tiny_run.sizes['test']} inputs, ")
    assert lines[0].endswith(f"(accuracy {test_accuracy:.2%})")
    if test_accuracy < 1:
        assert lines[1].startswith("wrong positions (first ")
        assert "on the path of the errors (wrong / all scored positions through it):" in lines


def test_the_report_of_a_run_has_curves_certificate_and_errors(
    tiny_run: RunResult, tmp_path: Path
) -> None:
    out = tmp_path / "run.html"
    assert main(["report", str(tiny_run.run_dir), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('<figure class="training-curve">') == 4
    assert '<h2 id="certificate">Certificate</h2>' in page
    assert '<h2 id="errors">Error attribution: test split</h2>' in page
    assert page.count('<section class="example"') == 3  # the first test inputs by default
    assert "<summary><code>prediction[0]</code></summary>" in page
