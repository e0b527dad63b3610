"""A folder written by ``rasp export --to transformer-lens`` in, a TransformerLens model and
the means to use it out: token ids for inputs (:meth:`LensLabels.encode`), decoded outputs for
logits (:meth:`LensLabels.decode`), and :func:`load_hooked_transformer`, which builds
TransformerLens's native model from ``config.json`` offline and loads ``model.safetensors``.

Only :func:`load_hooked_transformer` imports ``transformer_lens`` (the ``lens`` extra).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from rasp_ir.api import RaspError, Value, describe_value, value_key
from rasp_ir.backends.torch.serialize import decode_value
from rasp_ir.backends.torch.transformer_lens_export import (
    LENS_FORMAT,
    LENS_FORMAT_VERSION,
    LogitColumn,
)

HINT = "export the model again with `rasp export MODEL --to transformer-lens -o DIR`"


@dataclass(frozen=True)
class LensLabels:
    """``labels.json`` of an export: tokens by id, residual labels, heads and logit columns."""

    tokens: tuple[Value, ...]
    bos: Value
    max_len: int
    residual_labels: tuple[str, ...]
    residual_hooks: tuple[str, ...]
    heads: dict[str, str]
    columns: tuple[LogitColumn, ...]
    outputs: dict[str, tuple[Value, ...]]

    @property
    def pad_id(self) -> int:
        """The padding token's id (the last one)."""
        return len(self.tokens) - 1

    def encode(self, inputs: Sequence[Sequence[Value]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (batch x positions: the sink, the program's BOS when it has one, the
        tokens, then padding) and the attention mask (1 on real positions) for TransformerLens."""
        index = {value_key(t): i for i, t in enumerate(self.tokens[1:-1], start=1)}
        prefix = [] if self.bos is None else [index[value_key(self.bos)]]
        rows = []
        for number, example in enumerate(inputs):
            if len(example) > self.max_len:
                raise RaspError.single(
                    "input-length",
                    f"example {number} has {len(example)} tokens, more than max_len {self.max_len}",
                )
            codes = [index.get(value_key(token)) for token in example]
            for token, code in zip(example, codes, strict=True):
                if code is None or code in prefix:
                    raise RaspError.single(
                        "input-token",
                        f"token {describe_value(token)} in example {number} is not in the "
                        "vocabulary",
                    )
            rows.append([0, *prefix, *[c for c in codes if c is not None]])
        width = max((len(r) for r in rows), default=1)
        ids = torch.tensor([r + [self.pad_id] * (width - len(r)) for r in rows], dtype=torch.long)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        return ids.reshape(len(rows), width), mask.reshape(len(rows), width)

    def decode(self, logits: torch.Tensor, mask: torch.Tensor) -> dict[str, list[list[Value]]]:
        """Every output at every position after the sink (the program's BOS included, as the
        interpreter gives it), read from the logits (batch x positions x columns): the argmax
        over a categorical output's columns, the nearest value of its value set for a numerical
        one; the same rule as the compiled model's decoder."""
        lengths = [int(n) - 1 for n in mask.sum(dim=1).tolist()]
        outputs: dict[str, list[list[Value]]] = {}
        for name, values in self.outputs.items():
            where = [i for i, c in enumerate(self.columns) if c.output == name]
            read = logits[:, 1:, where].double()
            if self.columns[where[0]].scalar:
                picked = _nearest(read[..., 0], values)
                chosen = [[values[i] for i in row] for row in picked.tolist()]
            else:
                labels = [self.columns[i].value for i in where]
                chosen = [[labels[i] for i in row] for row in read.argmax(dim=-1).tolist()]
            outputs[name] = [row[:n] for row, n in zip(chosen, lengths, strict=True)]
        return outputs


def _nearest(read: torch.Tensor, values: tuple[Value, ...]) -> torch.Tensor:
    """The index of the value nearest to each read number (``values`` sorted; ties go to the
    smaller), found by bisection so memory stays at batch x length."""
    numbers = torch.tensor([float(v) for v in values], dtype=torch.float64)  # type: ignore[arg-type]
    right = torch.searchsorted(numbers, read.contiguous()).clamp(max=len(numbers) - 1)
    left = (right - 1).clamp(min=0)
    closer_left = (read - numbers[left]).abs() <= (read - numbers[right]).abs()
    return torch.where(closer_left, left, right)


def read_lens_labels(folder: str | Path) -> LensLabels:
    """The checked ``labels.json`` of an export folder; a RaspError naming the file otherwise."""
    path = Path(folder) / "labels.json"
    data = _read_json(path)
    if data.get("format") != LENS_FORMAT or data.get("format_version") != LENS_FORMAT_VERSION:
        raise _refuse(path, f"not a version-{LENS_FORMAT_VERSION} {LENS_FORMAT} file")
    try:
        return LensLabels(
            tokens=tuple(decode_value(t) for t in data["tokens"]),
            bos=decode_value(data["bos"]),
            max_len=int(data["max_len"]),
            residual_labels=tuple(str(label) for label in data["residual_labels"]),
            residual_hooks=tuple(str(hook) for hook in data["residual_hooks"]),
            heads={str(k): str(v) for k, v in data["heads"].items()},
            columns=tuple(
                LogitColumn(str(c["output"]), decode_value(c["value"]), bool(c["scalar"]))
                for c in data["logits"]
            ),
            outputs={
                str(o["name"]): tuple(_exact(decode_value(v)) for v in o["values"])
                for o in data["outputs"]
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _refuse(path, f"not an export description ({error})") from None


def load_hooked_transformer(folder: str | Path) -> Any:
    """TransformerLens's model for an export folder: ``TransformerBridge.boot_native`` on
    ``config.json`` (no network), then ``model.safetensors`` converted from the property names
    and loaded strictly. Needs the ``lens`` extra (``pip install rasp-ir[lens]``)."""
    boot, convert_tl_checkpoint = _transformer_lens()
    base = Path(folder)
    read_lens_labels(base)
    config = _read_json(base / "config.json")
    bridge = boot({**config, "init_weights": False})
    weights = base / "model.safetensors"
    try:
        state = load_file(str(weights))
    except (OSError, SafetensorError, ValueError) as error:
        raise _refuse(weights, f"not a readable safetensors file ({error})") from None
    try:
        bridge.load_state_dict(convert_tl_checkpoint(state, bridge.cfg), strict=True)
    except (RuntimeError, ValueError) as error:
        raise _refuse(weights, f"does not fit config.json ({error})") from None
    bridge.eval()
    return bridge


def _transformer_lens() -> tuple[Any, Any]:
    """TransformerLens's ``boot_native`` and ``convert_tl_checkpoint``, imported with no
    checkout of rasp-ir on ``sys.path``: its top-level ``kernels/`` folder would shadow the
    PyPI ``kernels`` package that ``transformers`` imports (pytest and ``python -m`` from a
    checkout put the checkout there)."""
    checkout = str(Path(__file__).resolve().parents[2])
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != checkout]
    try:
        from transformer_lens.model_bridge.sources.native import boot
        from transformer_lens.utilities.tl_checkpoint_conversion import convert_tl_checkpoint
    except ImportError:
        found = _installed_version("transformer-lens")
        message = "loading a TransformerLens export needs transformer-lens 4 or later"
        if found is not None:
            message += f" (found {found}, which has no native TransformerBridge)"
        raise RaspError.single(
            "missing-extra", message, hint="install the extra: pip install 'rasp-ir[lens]'"
        ) from None
    finally:
        sys.path[:] = saved
    return boot, convert_tl_checkpoint


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _refuse(path, "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _refuse(path, f"not a readable JSON file ({error})") from None
    if not isinstance(data, dict):
        raise _refuse(path, "not a JSON object")
    return data


def _refuse(path: Path, message: str) -> RaspError:
    return RaspError.single("export-file", f"{path}: {message}", hint=HINT)


def _exact(value: Value) -> Value:
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value
