"""A compiled model to and from disk: ``MODEL.safetensors`` (weights) + ``MODEL.json`` (config,
vocabulary, residual labels, output decoders, program text, versions).

No pickle and never ``torch.load``: loading reads JSON and safetensors only, and refuses
unknown format versions, missing or truncated files and tensors of the wrong shape with a
:class:`RaspError`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from rasp_ir.api import RaspError, Value
from rasp_ir.backends.torch.model import (
    CompiledTransformer,
    MeanCheck,
    ModelConfig,
    ModelInfo,
    OutputDecoder,
)

from .tensor_files import save_tensors

FORMAT_VERSION = 1


def paths(path: str | Path) -> tuple[Path, Path]:
    """``(MODEL.safetensors, MODEL.json)`` for ``MODEL`` or either file name."""
    base = Path(path)
    if base.suffix in (".json", ".safetensors"):
        base = base.with_suffix("")
    return base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")


def save_model(model: CompiledTransformer, path: str | Path) -> tuple[Path, Path]:
    """Write the model's two files; returns their paths."""
    weights, sidecar = paths(path)
    tensors = {name: p.detach().contiguous() for name, p in model.named_parameters()}
    save_tensors(tensors, weights)
    info = model.info
    document = {
        "format_version": FORMAT_VERSION,
        "versions": {"rasp-ir": _version("rasp-ir"), "torch": torch.__version__},
        "config": asdict(model.config),
        "vocab": [_encode_value(v) for v in info.vocab],
        "bos": _encode_value(info.bos),
        "max_len": info.max_len,
        "residual_labels": list(info.residual_labels),
        "outputs": [
            {
                "name": d.name,
                "kind": d.kind,
                "dims": list(d.dims),
                "values": [_encode_value(v) for v in d.values],
                "undefined": d.undefined,
            }
            for d in info.decoders
        ],
        "program": info.program_text,
        "warnings": list(info.warnings),
        "mean_checks": [{"name": c.name, "dims": list(c.dims)} for c in info.mean_checks],
    }
    sidecar.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return weights, sidecar


def load_model(path: str | Path) -> CompiledTransformer:
    """Read a model written by :func:`save_model`."""
    weights, sidecar = paths(path)
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _error(f"cannot read {sidecar}: {error}") from error
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise _error(f"{sidecar} has format version {found!r}; this rasp-ir reads {FORMAT_VERSION}")
    try:
        config = ModelConfig(**document["config"])
        info = ModelInfo(
            vocab=tuple(_decode_value(v) for v in document["vocab"]),
            residual_labels=tuple(document["residual_labels"]),
            decoders=tuple(
                OutputDecoder(
                    o["name"],
                    o["kind"],
                    tuple(o["dims"]),
                    tuple(_decode_value(v) for v in o["values"]),
                    bool(o["undefined"]),
                )
                for o in document["outputs"]
            ),
            program_text=str(document["program"]),
            bos=_decode_value(document["bos"]),
            max_len=int(document["max_len"]),
            warnings=tuple(document.get("warnings", ())),
            mean_checks=tuple(
                MeanCheck(str(c["name"]), tuple(int(d) for d in c["dims"]))
                for c in document.get("mean_checks", ())
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _error(f"{sidecar} is not a model description: {error}") from error
    model = CompiledTransformer(config, info)
    try:
        tensors = load_file(str(weights))
    except (OSError, SafetensorError, ValueError) as error:
        raise _error(f"cannot read {weights}: {error}") from error
    expected = dict(model.named_parameters())
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        raise _error(f"{weights} does not match its config (missing {missing}, unexpected {extra})")
    with torch.no_grad():
        for name, parameter in expected.items():
            tensor = tensors[name]
            if tuple(tensor.shape) != tuple(parameter.shape) or tensor.dtype != torch.float32:
                raise _error(
                    f"{weights}: {name} has shape {tuple(tensor.shape)} ({tensor.dtype}), "
                    f"the config says {tuple(parameter.shape)} (torch.float32)"
                )
            parameter.copy_(tensor)
    _check_residual(info, config, sidecar)
    return model


def _check_residual(info: ModelInfo, config: ModelConfig, sidecar: Path) -> None:
    """Raise when the description's residual labels or mean checks disagree with d_model."""
    if len(info.residual_labels) != config.d_model:
        raise _error(f"{sidecar}: {len(info.residual_labels)} labels for d_model {config.d_model}")
    for check in info.mean_checks:
        if not all(0 <= d < config.d_model for d in check.dims):
            raise _error(f"{sidecar}: the mean check of {check.name} reads outside d_model")


def _error(message: str) -> RaspError:
    return RaspError.single("model-file", message, hint="recompile the program with `rasp compile`")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _encode_value(value: Value) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, Fraction):
        return {"fraction": [value.numerator, value.denominator]}
    return {"str": value}


def _decode_value(data: Any) -> Value:
    if data is None:
        return None
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"not a value: {data!r}")
    ((kind, raw),) = data.items()
    if kind == "bool" and isinstance(raw, bool):
        return raw
    if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "fraction" and isinstance(raw, list) and len(raw) == 2:
        return Fraction(int(raw[0]), int(raw[1]))
    if kind == "str" and isinstance(raw, str):
        return raw
    raise ValueError(f"not a value: {data!r}")
