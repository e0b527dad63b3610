"""The NLP tasks end to end, as the README shows them: a generated NER corpus (tags follow the
word and the word before it) is learned to 100% and lifted with a 100% certificate that covers
the data's test split; bad data and options are clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from rasp_ir.cli.main import main

NER_TRAIN = (
    "tp train ner --data-dir toy-ner -o runs/ner --layers 1 --heads 1 --mlps 0 --epochs 40 "
    "--batch-size 32 --lr 0.05"
)
NER_LIFT = "tp lift runs/ner -o ner.rasp --exhaustive-limit 700 --samples 100"


def test_the_readme_ner_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    assert main(["tp", "corpus", "ner", "-o", "toy-ner"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "wrote toy-ner/train.txt"
    assert main([*NER_TRAIN.split(), "--quiet"]) == 0
    trained = capsys.readouterr().out.splitlines()[0]
    assert trained.startswith("ner: argmax accuracy train 100.00%  val 100.00%  test 100.00%")
    assert main(NER_LIFT.split()) == 0
    assert "agreement 100%" in capsys.readouterr().out
    certificate = json.loads((tmp_path / "ner.certificate.json").read_text())
    assert certificate["agreement"] == 1.0 and certificate["source"]["task"] == "ner"
    assert certificate["inputs"]["test_split"]["inputs"] == 40  # the corpus's test sentences
    program = (tmp_path / "ner.rasp").read_text()
    assert '%bos "<s>"' in program and '"Paris"' in program
    assert main(["tp", "corpus", "classify", "-o", "toy-classify"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote toy-classify/{name}.csv" for name in ("train", "valid", "test")
    ]


CLASSIFY_TRAIN = (
    "tp train classify --data-dir toy-classify -o runs/classify --layers 1 --heads 2 --mlps 0 "
    "--epochs 30 --batch-size 32 --lr 0.05 --embedding-chunks 1 --chunk-values 10"
)
CLASSIFY_LIFT = "tp lift runs/classify -o classify.rasp --exhaustive-limit 700 --samples 100"
CLASSIFY_COMPILE = "tp compile classify.rasp -o runs/classify-back --data runs/classify"


@pytest.mark.slow
def test_the_readme_classify_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Slow (about 15 s of CPU); reading and encoding the CSV files are tested fast in
    test_text_data.py, training and lifting through the NER tests, the pooled readout's lift
    and compile-back on hand-set models in test_pooled_readout.py."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    assert main(["tp", "corpus", "classify", "-o", "toy-classify"]) == 0
    assert main([*CLASSIFY_TRAIN.split(), "--quiet"]) == 0
    trained = capsys.readouterr().out.splitlines()[-2]
    assert trained.startswith("classify: argmax accuracy train 100.00%  val 100.00%  test 100.00%")
    assert main(CLASSIFY_LIFT.split()) == 0
    certificate = json.loads((tmp_path / "classify.certificate.json").read_text())
    assert certificate["agreement"] == 1.0
    assert certificate["inputs"]["test_split"]["inputs"] == 40
    assert certificate["compared"].startswith(
        "the argmax model's class and the program's output at <s>"
    )
    program = (tmp_path / "classify.rasp").read_text()
    assert "pool = select(indices, indices, true);" in program
    assert "prediction = pooled_vote(\n    pool," in program
    clusters = dict(re.findall(r'"(good|great)": (\d+)', program))
    assert clusters["good"] == clusters["great"]
    capsys.readouterr()
    assert main(CLASSIFY_COMPILE.split()) == 0
    compiled = capsys.readouterr().out
    assert "40 of them the test split of runs/classify" in compiled


def test_text_tasks_need_their_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tp", "train", "ner", "-o", str(tmp_path / "run")]) == 1
    assert "the ner task reads its data from files" in capsys.readouterr().err
    missing = ["tp", "train", "classify", "--data-dir", str(tmp_path), "-o", str(tmp_path / "r")]
    assert main(missing) == 1
    assert "has no train file (train.csv or train.tsv)" in capsys.readouterr().err
    generated = ["tp", "train", "hist", "--data-dir", str(tmp_path), "-o", str(tmp_path / "r")]
    assert main(generated) == 1
    assert "the hist task generates its own data" in capsys.readouterr().err


def test_a_malformed_conll_file_stops_training_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "train.txt").write_text("in O\nRome B-LOC\n\nParis\n", encoding="utf-8")
    (tmp_path / "test.txt").write_text("in O\n", encoding="utf-8")
    argv = ["tp", "train", "ner", "--data-dir", str(tmp_path), "-o", str(tmp_path / "run")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'train.txt'}:4:6: error: a token line needs a tag" in err
    assert "Traceback" not in err
