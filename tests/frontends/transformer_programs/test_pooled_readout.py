"""The pooled classification readout (§10): position 0 reads the features pooled over every real
position; lifted exactly as a ``pooled_vote`` (certified at ``<s>``, ties to the first class),
and compiled back, factored embedding included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError, interpret, load_program, parse_program
from rasp_ir.frontends.transformer_programs.compile_back import compile_program
from rasp_ir.frontends.transformer_programs.config import Architecture, ModelConfig
from rasp_ir.frontends.transformer_programs.lift import (
    COMPARED_POOLED,
    Checks,
    exhaustive_inputs,
    fuzz_inputs,
    lift,
    model_predictions,
)
from rasp_ir.frontends.transformer_programs.model import TransformerProgram
from rasp_ir.frontends.transformer_programs.tasks import make_data
from rasp_ir.frontends.transformer_programs.text_corpus import write_classify_corpus
from rasp_ir.frontends.transformer_programs.text_data import classify_data
from rasp_ir.frontends.transformer_programs.train import model_config

from .conftest import CLASSES, VOCAB

CHECKS = Checks([], exhaustive_limit=400, fuzz=100)


def pooled_model(seed: int, chunks: int = 0, values: int = 6) -> TransformerProgram:
    """A random pooled classifier over the 4-token vocabulary (N = 6), in argmax mode."""
    torch.manual_seed(seed)
    config = ModelConfig(
        VOCAB, CLASSES, 6, values, 1, 1, 1, 1, 1, embedding_chunks=chunks, pool_outputs=True
    )
    model = TransformerProgram(config)
    model.set_sampling(mode="argmax")
    return model


def _inputs(model: TransformerProgram) -> list[list[str]]:
    return exhaustive_inputs(model.config, 400)[0] + fuzz_inputs(model.config, 100, 3)


def test_position_0_reads_the_mean_over_the_padded_length_while_training() -> None:
    model = pooled_model(0)
    features = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    tokens = torch.tensor([[5, 1, 2, 0], [5, 1, 0, 0]])
    model.set_sampling(mode="softmax")
    pooled = model.pooled(features, tokens)
    assert torch.equal(pooled[0, 0], features[0, :3].sum(0) / 6)
    assert torch.equal(pooled[1, 0], features[1, :2].sum(0) / 6)
    model.set_sampling(mode="argmax")
    assert torch.equal(model.pooled(features, tokens)[1, 0], features[1, :2].sum(0))


def test_the_label_is_the_class_at_bos_and_pads_do_not_count() -> None:
    model = pooled_model(1)
    logits = model(torch.tensor([[5, 1, 2, 0, 0, 0]]))
    x_cat, x_num = model.streams(torch.tensor([[5, 1, 2]]))
    features = torch.cat([x_cat.flatten(2), x_num], dim=-1).sum(1)
    assert torch.equal(logits[0, 0, 1:], (features @ model.unembed.double())[0, 1:])
    predicted = model_predictions(model, [["0", "1"]])[0]
    assert predicted == [CLASSES[int(logits[0, 0].argmax())]] * 3


@pytest.mark.parametrize(("seed", "chunks"), [(0, 0), (1, 0), (2, 2), (3, 1)])
def test_random_pooled_models_lift_exactly(seed: int, chunks: int) -> None:
    model = pooled_model(seed, chunks)
    lifted = lift(model, CHECKS)
    certificate = lifted.certificate
    assert certificate.agreement == 1.0
    assert certificate.compared == COMPARED_POOLED
    assert certificate.details["lifting"]["readout_exact_float64"] is True
    text = lifted.text
    assert "pool = select(indices, indices, true);" in text
    assert re.search(r"prediction = pooled_vote\(\n    pool,\n    fn\(", text)
    assert ("embedding_0 = map(" in text) == bool(chunks)
    inputs = _inputs(model)
    got = interpret(lifted.program, inputs).outputs()["prediction"]
    assert got == model_predictions(model, inputs)


def test_ties_go_to_the_first_class_in_model_and_program() -> None:
    """Classes a and b score alike everywhere: both pick a; c never wins."""
    model = pooled_model(4)
    with torch.no_grad():
        model.unembed[:, 2] = model.unembed[:, 1]
        model.unembed[:, 3] = model.unembed[:, 1] - 1
    lifted = lift(model, CHECKS)
    assert lifted.certificate.agreement == 1.0
    inputs = _inputs(model)
    assert {row[0] for row in model_predictions(model, inputs)} == {"a"}
    assert {row[0] for row in interpret(lifted.program, inputs).outputs()["prediction"]} == {"a"}


@pytest.mark.parametrize(
    ("seed", "chunks", "pool", "arch"),
    [(5, 2, True, (1, 1, 1, 1, 0)), (6, 1, False, (1, 1, 1, 0, 0)), (7, 0, True, (1, 1, 1, 1, 1))],
)
def test_compiling_a_lifted_program_back_gives_the_same_model_and_program(
    seed: int, chunks: int, pool: bool, arch: tuple[int, int, int, int, int]
) -> None:
    torch.manual_seed(seed)
    config = ModelConfig(VOCAB, CLASSES, 6, 6, *arch, embedding_chunks=chunks, pool_outputs=pool)
    model = TransformerProgram(config)
    model.set_sampling(mode="argmax")
    lifted = lift(model, CHECKS)
    compiled = compile_program(lifted.program)
    assert compiled.config.embedding_chunks == chunks
    assert compiled.config.pool_outputs == pool
    inputs = _inputs(model)
    assert model_predictions(compiled, inputs) == model_predictions(model, inputs)
    assert lift(compiled, CHECKS).text == lifted.text


def test_a_pooled_readout_cannot_be_causal() -> None:
    with pytest.raises(ValueError, match="a pooled readout reads every position"):
        ModelConfig(VOCAB, CLASSES, 6, 6, 1, 1, 1, 1, 1, causal=True, pool_outputs=True)


POOLED = """\
%vocab {"0", "1", "2", "</s>"}
%max_len 5
%bos "<s>"
embedding_0 = map(fn(t) -> lookup(t, {"0": 1, "1": 2}, default=0), tokens);
pool = select(indices, indices, true);
prediction = pooled_vote(pool, fn(e) -> lookup(e, {1: 1}, default=0),
    fn(e) -> lookup(e, {2: 1.5}, default=0.25), embedding_0, labels=("x", "y"));
output prediction;
"""


def test_a_hand_written_pooled_program_compiles() -> None:
    program = parse_program(POOLED, "pooled.rasp")
    compiled = compile_program(program)
    inputs = exhaustive_inputs(compiled.config, 2_000)[0]
    expected = interpret(program, inputs).outputs()["prediction"]
    assert model_predictions(compiled, inputs) == expected
    assert {row[0] for row in expected} == {"x", "y"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "pool = select(indices, indices, true);",
            "pool = select(indices, indices, <=);",
            "pool: a pooled readout averages over every position",
        ),
        ("%bos", "%causal\n%bos", "a pooled readout reads every position; drop %causal"),
        ("embedding_0", "embedding_1", "the factored embedding has no chunk embedding_0"),
        (
            'labels=("x", "y")',
            "labels=(1, 2)",
            "the pooled readout's labels must be strings",
        ),
    ],
)
def test_what_the_architecture_cannot_express_is_refused(old: str, new: str, message: str) -> None:
    program = load_program("edited.rasp", text=POOLED.replace(old, new)).program
    with pytest.raises(RaspError) as refused:
        compile_program(program)
    assert refused.value.diagnostics[0].message == message


def test_classification_pools_unless_asked_not_to(tmp_path: Path) -> None:
    write_classify_corpus(tmp_path, 50, 0)
    data = classify_data(tmp_path, 100, 64, 0)
    arch = Architecture(1, 1, 0, 0, 0)
    assert model_config("classify", data, arch).pool_outputs
    assert not model_config("classify", data, arch, pool=False).pool_outputs
    assert model_config("ner", data, arch, pool=True).pool_outputs
    assert not model_config("hist", make_data("hist", 100, 0), arch).pool_outputs
