"""A compiled model to and from disk: ``MODEL.safetensors`` (weights) + ``MODEL.json`` (config,
vocabulary, residual labels, output decoders, program text, versions).

No pickle and never ``torch.load``: loading reads JSON and safetensors only, and refuses
unknown format versions, missing or truncated files and tensors of the wrong shape with a
:class:`RaspError`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from rasp_ir.api import RaspError, Value, write_text_atomically
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
        "vocab": [encode_value(v) for v in info.vocab],
        "bos": encode_value(info.bos),
        "max_len": info.max_len,
        "residual_labels": list(info.residual_labels),
        "outputs": [
            {
                "name": d.name,
                "kind": d.kind,
                "dims": list(d.dims),
                "values": [encode_value(v) for v in d.values],
                "undefined": d.undefined,
            }
            for d in info.decoders
        ],
        "program": info.program_text,
        "warnings": list(info.warnings),
        "mean_checks": [{"name": c.name, "dims": list(c.dims)} for c in info.mean_checks],
    }
    write_text_atomically(sidecar, json.dumps(document, indent=1, ensure_ascii=False) + "\n")
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
            vocab=tuple(decode_value(v) for v in document["vocab"]),
            residual_labels=tuple(document["residual_labels"]),
            decoders=tuple(
                OutputDecoder(
                    o["name"],
                    o["kind"],
                    tuple(o["dims"]),
                    tuple(decode_value(v) for v in o["values"]),
                    bool(o["undefined"]),
                )
                for o in document["outputs"]
            ),
            program_text=str(document["program"]),
            bos=decode_value(document["bos"]),
            max_len=int(document["max_len"]),
            warnings=tuple(document.get("warnings", ())),
            mean_checks=tuple(
                MeanCheck(str(c["name"]), tuple(int(d) for d in c["dims"]))
                for c in document.get("mean_checks", ())
            ),
        )
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError) as error:
        raise _error(f"{sidecar} is not a model description: {error}") from error
    _check_config(config, sidecar)
    try:
        tensors = load_file(str(weights))
    except (OSError, SafetensorError, ValueError) as error:
        raise _error(f"cannot read {weights}: {error}") from error
    _check_tensors(tensors, _expected_shapes(config, info, sidecar), weights)
    model = CompiledTransformer(config, info)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(tensors[name])
    _check_residual(info, config, sidecar)
    return model


def _expected_shapes(
    config: ModelConfig, info: ModelInfo, sidecar: Path
) -> dict[str, tuple[int, ...]]:
    """The parameter shapes ``config`` describes, from a model without memory: an edited config
    is refused before it can ask for more memory than the weights on file take."""
    try:
        with torch.device("meta"):
            meta = CompiledTransformer(config, info)
    except (ValueError, TypeError, OverflowError, RuntimeError) as error:
        raise _error(f"{sidecar}: the config describes no model ({error})") from None
    return {n: tuple(p.shape) for n, p in meta.named_parameters()}


def _check_tensors(
    tensors: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], weights: Path
) -> None:
    """Refuse weights whose names, shapes or types differ from ``expected``."""
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        raise _error(f"{weights} does not match its config (missing {missing}, unexpected {extra})")
    for name, shape in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape or tensor.dtype != torch.float32:
            raise _error(
                f"{weights}: {name} has shape {tuple(tensor.shape)} ({tensor.dtype}), "
                f"the config says {shape} (torch.float32)"
            )


def _check_config(config: ModelConfig, sidecar: Path) -> None:
    """Every size of ``config`` is a non-negative integer and ``causal`` a boolean."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        wanted = bool if field.name == "causal" else int
        valid = isinstance(value, wanted) and (wanted is bool or not isinstance(value, bool))
        if not valid or (wanted is int and value < 0):
            raise _error(f"{sidecar}: config {field.name} is {value!r}, not a valid size")


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


def encode_value(value: Value) -> Any:
    """A value as JSON: ``null``, or a one-key object naming its type (bool, int, fraction, str)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, Fraction):
        return {"fraction": [value.numerator, value.denominator]}
    return {"str": value}


def decode_value(data: Any) -> Value:
    """The value that :func:`encode_value` wrote; ``ValueError`` for anything else."""
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
