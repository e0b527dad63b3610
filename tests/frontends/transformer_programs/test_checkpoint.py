"""Checkpoints: safetensors + JSON, bad files refused with a message, resume, no pickle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.model import TransformerProgram, parameter_shapes
from rasp_ir.frontends.transformer_programs.tasks import make_data
from rasp_ir.frontends.transformer_programs.train import model_config, train

from .conftest import random_model

PACKAGE = Path(__file__).resolve().parents[3] / "frontends" / "transformer_programs"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = random_model(0, (2, 1, 1, 1, 1))
    checkpoint.save(tmp_path / "model", model, {"task": "x"})
    loaded, info, _ = checkpoint.load(tmp_path / "model")
    assert info.config == model.config and info.meta["task"] == "x"
    for (name, a), (_, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def _saved(tmp_path: Path) -> Path:
    checkpoint.save(tmp_path / "model", random_model(0, (1, 1, 1, 1, 1)), {})
    return tmp_path / "model"


def _refused(path: Path) -> str:
    with pytest.raises(RaspError) as error:
        checkpoint.load(path)
    return str(error.value)


def test_truncated_tensor_file_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    weights = path.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    assert "does not match its sidecar" in _refused(path)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    sidecar["sha256"] = checkpoint.sha256_of_file(weights)
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    assert "not a readable safetensors file" in _refused(path)


def test_wrong_shapes_are_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    sidecar["config"]["n_heads_cat"] = 2
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    assert "has shape" in _refused(path)


def test_loading_leaves_the_random_state_alone(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    state = torch.get_rng_state()
    checkpoint.load(path)
    assert torch.equal(torch.get_rng_state(), state)


def test_unknown_version_and_foreign_files_are_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**sidecar, "format_version": 99}))
    assert "unknown format version 99" in _refused(path)
    path.with_suffix(".json").write_text("{not json")
    assert "not a readable JSON file" in _refused(path)
    assert "no such file" in _refused(tmp_path / "missing")


def test_resume_reproduces_an_uninterrupted_run(tmp_path: Path) -> None:
    arch = Architecture(1, 1, 1, 0, 1)
    two = TrainConfig(epochs=2, batch_size=256, seed=3, dataset_size=300)
    train("hist", tmp_path / "a", arch, two, progress=False)
    train("hist", tmp_path / "b", arch, two, progress=False, stop_after=1)
    train("hist", tmp_path / "b", arch, two, resume=True, progress=False)
    a, _, _ = checkpoint.load(tmp_path / "a" / "model")
    b, _, _ = checkpoint.load(tmp_path / "b" / "model")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert [row["epoch"] for row in metrics["epochs"]] == [1, 2]
    best_a, info_a, _ = checkpoint.load(tmp_path / "a" / "best")
    best_b, info_b, _ = checkpoint.load(tmp_path / "b" / "best")
    assert info_a.meta["epoch"] == info_b.meta["epoch"]
    assert info_a.meta["accuracy_argmax"] == info_b.meta["accuracy_argmax"]
    for (name, x), (_, y) in zip(
        best_a.state_dict().items(), best_b.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), name


def test_no_pickle_anywhere() -> None:
    for source in PACKAGE.glob("*.py"):
        text = source.read_text()
        for banned in ("import pickle", "torch.save(", "torch.load(", "allow_pickle=True"):
            assert banned not in text, f"{source.name} uses {banned}"


def test_resume_accepts_a_checkpoint_with_one_unranked_random_state(tmp_path: Path) -> None:
    arch = Architecture(1, 1, 1, 0, 1)
    two = TrainConfig(epochs=2, batch_size=256, seed=3, dataset_size=300)
    train("hist", tmp_path / "a", arch, two, progress=False)
    train("hist", tmp_path / "b", arch, two, progress=False, stop_after=1)
    last = tmp_path / "b" / "last"
    weights = last.with_suffix(".safetensors")
    tensors = load_file(str(weights))
    tensors["rng.torch"] = tensors.pop("rng.torch.0")
    save_file(tensors, str(weights))
    sidecar = json.loads(last.with_suffix(".json").read_text())
    sidecar["sha256"] = checkpoint.sha256_of_file(weights)
    last.with_suffix(".json").write_text(json.dumps(sidecar))
    train("hist", tmp_path / "b", arch, two, resume=True, progress=False)
    a, _, _ = checkpoint.load(tmp_path / "a" / "model")
    b, _, _ = checkpoint.load(tmp_path / "b" / "model")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


@pytest.mark.parametrize("embedding", [None, (2, 10)], ids=["one-hot", "factored"])
def test_the_shapes_checked_are_the_models_own(embedding: tuple[int, int] | None) -> None:
    """The table a checkpoint is checked against (no model built) is the model's state."""
    data = make_data("sort", 300, 0)
    architectures = (
        Architecture(2, 1, 1, 1, 1),
        Architecture(3, 4, 4, 2, 2),
        Architecture(1, 0, 2, 0, 1),
    )
    for arch in architectures:
        config = model_config("sort", data, arch, embedding=embedding)
        state = TransformerProgram(config).state_dict()
        assert parameter_shapes(config) == {name: tuple(t.shape) for name, t in state.items()}
