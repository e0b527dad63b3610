"""GeneralRNN checkpoints: a round trip keeps weights and metadata; missing, truncated, foreign,
future-version and mis-shaped files are refused with a message naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.backends.torch.tensor_files import save_tensors
from rasp_ir.frontends.mips import checkpoint
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig

CONFIG = RNNConfig(2, 1, 3, hidden_width=5)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, GeneralRNN]:
    torch.manual_seed(0)
    model = GeneralRNN(CONFIG)
    path = tmp_path / "model"
    checkpoint.save(path, model, {"task": "Binary_Addition", "seed": 0})
    return path, model


def test_a_round_trip_keeps_weights_and_metadata(saved: tuple[Path, GeneralRNN]) -> None:
    path, model = saved
    loaded, meta = checkpoint.load(path)
    assert loaded.config == CONFIG
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    assert meta == {"task": "Binary_Addition", "seed": 0}
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["format"] == "rasp-ir/mips-rnn" and sidecar["format_version"] == 1
    assert set(sidecar["versions"]) == {"rasp_ir", "torch", "safetensors"}
    assert len(sidecar["sha256"]) == 64


def test_missing_files_are_refused(saved: tuple[Path, GeneralRNN]) -> None:
    path, _ = saved
    path.with_suffix(".safetensors").unlink()
    with pytest.raises(RaspError, match=r"model\.safetensors: no such file"):
        checkpoint.load(path)
    with pytest.raises(RaspError, match=r"other\.json: no such file"):
        checkpoint.load(path.with_name("other"))


def test_a_truncated_tensor_file_is_refused(saved: tuple[Path, GeneralRNN]) -> None:
    path, _ = saved
    weights = path.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(RaspError, match="does not match its sidecar"):
        checkpoint.load(path)


def test_a_corrupt_tensor_file_with_a_matching_hash_is_refused(
    saved: tuple[Path, GeneralRNN],
) -> None:
    path, _ = saved
    weights = path.with_suffix(".safetensors")
    weights.write_bytes(b"not safetensors")
    sidecar = json.loads(path.with_suffix(".json").read_text())
    sidecar["sha256"] = checkpoint.sha256_of_file(weights)
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(RaspError, match="not a readable safetensors file"):
        checkpoint.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "rasp-ir/transformer-program"}, "not a MIPS RNN checkpoint"),
        ({"format_version": 2}, "unknown format version 2"),
        ({"config": {"input_dim": 0}}, r"model\.json: invalid RNN configuration: .* missing"),
    ],
)
def test_foreign_and_future_sidecars_are_refused(
    saved: tuple[Path, GeneralRNN], change: dict[str, object], message: str
) -> None:
    path, _ = saved
    sidecar = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**sidecar, **change}))
    with pytest.raises(RaspError, match=message):
        checkpoint.load(path)


def test_an_unreadable_sidecar_is_refused(saved: tuple[Path, GeneralRNN]) -> None:
    path, _ = saved
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(RaspError, match="not a readable JSON file"):
        checkpoint.load(path)


def test_tensors_that_do_not_fit_the_config_are_refused(saved: tuple[Path, GeneralRNN]) -> None:
    path, model = saved
    tensors = dict(model.state_dict())
    tensors["hidden.0.weight"] = torch.zeros(5, 4)
    del tensors["output.2.bias"]
    weights = path.with_suffix(".safetensors")
    save_tensors(tensors, weights)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    sidecar["sha256"] = checkpoint.sha256_of_file(weights)
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(RaspError) as error:
        checkpoint.load(path)
    assert "missing tensor output.2.bias" in str(error.value)
    assert "hidden.0.weight has shape (5, 4), the config needs (5, 5)" in str(error.value)


def test_reserved_metadata_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="may not set sha256"):
        checkpoint.save(tmp_path / "m", GeneralRNN(CONFIG), {"sha256": "x"})
