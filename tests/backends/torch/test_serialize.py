"""Save -> load gives identical outputs; broken files are refused with a RaspError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from rasp_ir.backends.torch import compile_program, load_model, save_model
from rasp_ir.diagnostics import RaspError
from tests.backends.torch.helpers import EXAMPLES, all_inputs, example

INPUTS_UP_TO = 4


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    prog = example(next(p for p in EXAMPLES if p.name == "dyck1.rasp"), 6)
    model = compile_program(prog)
    base = tmp_path_factory.mktemp("model") / "dyck1"
    save_model(model, base)
    return base, model


def test_round_trip_gives_identical_outputs(saved: tuple[Path, object]) -> None:
    base, model = saved
    loaded = load_model(base)
    prog = example(next(p for p in EXAMPLES if p.name == "dyck1.rasp"), 6)
    inputs = all_inputs(prog, INPUTS_UP_TO)
    assert loaded.run(inputs).outputs == model.run(inputs).outputs  # type: ignore[attr-defined]
    assert loaded.residual_labels == model.residual_labels  # type: ignore[attr-defined]
    document = json.loads(base.with_name("dyck1.json").read_text())
    assert document["format_version"] == 1 and "torch" in document["versions"]
    assert document["program"].startswith("%vocab")


def _copy(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    for suffix in (".json", ".safetensors"):
        target.with_name("copy" + suffix).write_bytes(
            base.with_name(base.name + suffix).read_bytes()
        )
    return target


def test_truncated_weights_are_refused(saved: tuple[Path, object], tmp_path: Path) -> None:
    copy = _copy(saved[0], tmp_path)
    weights = copy.with_name("copy.safetensors")
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(RaspError, match=r"cannot read .*copy\.safetensors"):
        load_model(copy)


def test_corrupted_header_is_refused(saved: tuple[Path, object], tmp_path: Path) -> None:
    copy = _copy(saved[0], tmp_path)
    weights = copy.with_name("copy.safetensors")
    data = bytearray(weights.read_bytes())
    data[8:16] = b"garbage!"
    weights.write_bytes(bytes(data))
    with pytest.raises(RaspError, match="cannot read"):
        load_model(copy)


def test_wrong_shapes_are_refused(saved: tuple[Path, object], tmp_path: Path) -> None:
    copy = _copy(saved[0], tmp_path)
    model = load_model(copy)
    tensors = {n: p.detach().clone() for n, p in model.named_parameters()}
    tensors["mlp_in"] = torch.zeros(1, 2, 3)
    save_file(tensors, str(copy.with_name("copy.safetensors")))
    with pytest.raises(RaspError, match="mlp_in has shape"):
        load_model(copy)


def test_unknown_format_version_is_refused(saved: tuple[Path, object], tmp_path: Path) -> None:
    copy = _copy(saved[0], tmp_path)
    sidecar = copy.with_name("copy.json")
    document = json.loads(sidecar.read_text())
    document["format_version"] = 99
    sidecar.write_text(json.dumps(document))
    with pytest.raises(RaspError, match="format version 99"):
        load_model(copy)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match="cannot read"):
        load_model(tmp_path / "nothing")


@pytest.mark.parametrize("value", [None, "x", 1.5, -1, 10**6, 10**30])
@pytest.mark.parametrize("field", ["d_model", "n_layers", "d_mlp", "n_positions"])
def test_an_edited_config_is_refused_before_building_the_model(
    saved: tuple[Path, object], tmp_path: Path, field: str, value: object
) -> None:
    copy = _copy(saved[0], tmp_path)
    sidecar = copy.with_name("copy.json")
    document = json.loads(sidecar.read_text())
    document["config"][field] = value
    sidecar.write_text(json.dumps(document))
    with pytest.raises(RaspError):
        load_model(copy)
