"""The paper's factored token embedding (§5): m learned chunks of k values per word, as m
categorical variables in place of ``tokens``; lifted as one lookup table of ``tokens`` per
chunk, exact against the argmax model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rasp_ir.api import interpret, parse_program
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs.config import ModelConfig
from rasp_ir.frontends.transformer_programs.lift import embedding_bindings
from rasp_ir.frontends.transformer_programs.model import TransformerProgram
from rasp_ir.frontends.transformer_programs.structure import variables

VOCAB = ("<pad>", "<s>", "<unk>", "a", "b", "c", "d", "e", "f", "g")
CLASSES = ("<pad>", "O", "X")


def _model(chunks: int, values: int = 4) -> TransformerProgram:
    torch.manual_seed(0)
    config = ModelConfig(VOCAB, CLASSES, 4, values, 1, 1, 1, 1, 0, embedding_chunks=chunks)
    model = TransformerProgram(config)
    model.set_sampling(mode="argmax")
    return model


def test_k_need_not_cover_the_vocabulary_once_factored() -> None:
    assert _model(2).config.n_cat_vars(1) == 2 + 1 + 2  # two chunks, positions, head + MLP
    with pytest.raises(ValueError, match="with one-hot tokens, the vocabulary size"):
        ModelConfig(VOCAB, CLASSES, 4, 4, 1, 1, 1, 1, 0)


def test_each_chunk_is_the_argmax_cluster_of_its_word() -> None:
    model = _model(3)
    tokens = torch.tensor([[1, 3, 4, 9]])
    x_cat, _ = model.streams(tokens)
    clusters = model.embedding.detach().argmax(-1)
    for chunk in range(3):
        assert x_cat[0, :, chunk].argmax(-1).tolist() == clusters[tokens[0], chunk].tolist()
    assert x_cat[0, :, 3].argmax(-1).tolist() == [0, 1, 2, 3]  # positions come next
    assert [v.name for v in variables(model.config)[0][:4]] == [
        "embedding_0",
        "embedding_1",
        "embedding_2",
        "indices",
    ]


def test_the_embedding_bindings_reproduce_the_clusters() -> None:
    model = _model(2)
    header = '%vocab {"<unk>", "a", "b", "c", "d", "e", "f", "g"}\n%max_len 3\n%bos "<s>"\n'
    program = parse_program(header + "output tokens;\n", "<test>")
    bindings = embedding_bindings(model)
    assert [b.name for b in bindings] == ["embedding_0", "embedding_1"]
    program = replace(program, bindings=tuple(bindings), outputs=("embedding_0", "embedding_1"))
    outputs = interpret(program, [["a", "g", "<unk>"]]).outputs()
    clusters = model.embedding.detach().argmax(-1)
    ids = [1, 3, 9, 2]
    assert outputs["embedding_0"] == [[int(clusters[i, 0]) for i in ids]]
    assert outputs["embedding_1"] == [[int(clusters[i, 1]) for i in ids]]


NER_FACTORED = (
    "tp train ner --data-dir toy-ner -o runs/ner-factored --layers 1 --heads 1 --mlps 0 "
    "--epochs 40 --batch-size 32 --lr 0.05 --embedding-chunks 1 --chunk-values 10"
)


def test_the_readme_factored_ner_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    assert main(["tp", "corpus", "ner", "-o", "toy-ner"]) == 0
    assert main([*NER_FACTORED.split(), "--quiet"]) == 0
    trained = capsys.readouterr().out.splitlines()[-2]
    assert trained.startswith("ner: argmax accuracy train 100.00%  val 100.00%  test 100.00%")
    lift = "tp lift runs/ner-factored -o ner-factored.rasp --exhaustive-limit 700 --samples 100"
    assert main(lift.split()) == 0
    certificate = json.loads((tmp_path / "ner-factored.certificate.json").read_text())
    assert certificate["agreement"] == 1.0
    assert "embedding_0 = map(" in (tmp_path / "ner-factored.rasp").read_text()
