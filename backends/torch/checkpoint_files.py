"""Checkpoints without pickle, shared by the torch-based spokes: named tensors and a JSON header
in, ``NAME.safetensors`` plus a ``NAME.json`` sidecar out; and back, refusing missing,
truncated, foreign or unknown-version files with a message naming the file.

The sidecar holds the format name and version, the model's config, library versions, the
SHA-256 of the tensor file (so a truncated or swapped file is refused before it is used) and
the caller's metadata. Each spoke declares its own :class:`CheckpointFormat`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import torch
from safetensors.torch import load_file

from rasp_ir import __version__
from rasp_ir.api import RaspError, sync_folder

from .crash_points import crash_point
from .tensor_files import save_tensors, write_text_atomically

# Sidecar keys a checkpoint writes itself; metadata may not set them.
RESERVED = ("format", "format_version", "config", "versions", "sha256")


def sha256_of_file(path: Path) -> str:
    """The hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Library versions recorded in every sidecar."""
    return {
        "rasp_ir": __version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
    }


def pending_tensors(path: Path) -> Path:
    """Where :meth:`CheckpointFormat.write` puts the new tensors of checkpoint ``path`` until
    its sidecar is committed."""
    return path.with_name(f"{path.name}.safetensors.pending")


def _finish_interrupted_write(path: Path, committed: object) -> None:
    """Move the pending tensors of checkpoint ``path`` into place when they are the ones its
    sidecar committed (``committed``: the sidecar's SHA-256); leave anything else alone."""
    pending = pending_tensors(path)
    if not pending.exists() or sha256_of_file(pending) != committed:
        return
    try:
        os.replace(pending, path.with_suffix(".safetensors"))
    except OSError:  # a read-only folder: the check that follows then names the mismatch
        return


def state_problems(found: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> list[str]:
    """How tensors read from a file differ from a model's ``state_dict``: missing, unexpected,
    mis-shaped or mistyped tensors (empty when they fit)."""
    problems = [f"missing tensor {k}" for k in expected if k not in found]
    problems += [f"unexpected tensor {k}" for k in found if k not in expected]
    problems += [
        f"{k} has shape {tuple(found[k].shape)}, the config needs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in found and found[k].shape != v.shape
    ]
    problems += [
        f"{k} is {found[k].dtype}, expected {v.dtype}"
        for k, v in expected.items()
        if k in found and found[k].shape == v.shape and found[k].dtype != v.dtype
    ]
    return problems


SIZE_SLACK = 65_536
"""How far a config's integers may exceed the weights' parameter count: a layer that does not
exist (the width of a depth-1 MLP) may have any size, and up to this many loop passes build a
memoryless model in about a second."""


def oversized_config(config: Any, tensors: dict[str, torch.Tensor]) -> list[str]:
    """The integer fields of a sidecar's ``config`` (nested too) that exceed the number of
    numbers the tensors on file hold by more than :data:`SIZE_SLACK`: no size or depth of a
    layer that exists exceeds its model's parameter count, so such a config was edited, and
    building even a memoryless model from it (a Python loop per layer) could take hours."""
    bound = sum(t.numel() for t in tensors.values()) + SIZE_SLACK
    found: list[str] = []
    pending: list[tuple[str, Any]] = [("config", config)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            pending += [(f"{where}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, int) and not isinstance(value, bool) and value > bound:
            found.append(f"{where} is {value}, far more than the weights on file can hold")
    return found


@dataclass(frozen=True)
class CheckpointFormat:
    """One spoke's checkpoint format: its ``name`` and ``version`` (written in every sidecar),
    what people call it (``what``, for messages) and how to re-create a refused file
    (``hint``)."""

    name: str
    version: int
    what: str
    hint: str

    def refuse(self, path: Path, message: str) -> RaspError:
        """The error refusing the file ``path``."""
        return RaspError.single("checkpoint", f"{path}: {message}", hint=self.hint)

    def write(
        self,
        path: Path,
        tensors: dict[str, torch.Tensor],
        config: dict[str, Any],
        meta: dict[str, Any],
    ) -> None:
        """Write ``path.safetensors`` (``tensors``) and ``path.json`` (format, ``config``,
        versions, SHA-256, then ``meta``, whose keys must not be among :data:`RESERVED`).

        Never half-written, wherever the process dies: the tensors go to a pending file
        (written whole, then renamed into place), the sidecar naming their hash replaces the
        old one in one rename (the commit), and only then does the pending file replace the old
        tensors. Before the commit a reader sees the old checkpoint whole; after it, the new one
        (:meth:`read_tensors` finishes the last rename if the process died before it)."""
        clash = sorted(set(meta) & set(RESERVED))
        if clash:
            raise RaspError.single("checkpoint", f"metadata may not set {', '.join(clash)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        weights, pending = path.with_suffix(".safetensors"), pending_tensors(path)
        save_tensors({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, pending)
        sidecar = {
            "format": self.name,
            "format_version": self.version,
            "config": config,
            "versions": versions(),
            "sha256": sha256_of_file(pending),
            **meta,
        }
        write_text_atomically(path.with_suffix(".json"), json.dumps(sidecar, indent=2) + "\n")
        crash_point(f"{path.name}:committed")
        try:
            os.replace(pending, weights)
        except OSError as error:
            raise RaspError.single("file", f"cannot write {weights}: {error}") from None
        sync_folder(path.parent)

    def read_sidecar(self, path: Path) -> dict[str, Any]:
        """The checked JSON sidecar of checkpoint ``path`` (without suffix)."""
        sidecar = path.with_suffix(".json")
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise self.refuse(sidecar, "no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise self.refuse(sidecar, f"not a readable JSON file ({error})") from None
        if not isinstance(data, dict) or data.get("format") != self.name:
            raise self.refuse(sidecar, f"not a {self.what} (format is not {self.name!r})")
        if data.get("format_version") != self.version:
            raise self.refuse(
                sidecar,
                f"unknown format version {data.get('format_version')!r} "
                f"(this rasp-ir reads version {self.version})",
            )
        return data

    def read_tensors(self, path: Path, sidecar: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The tensors of checkpoint ``path``, once their file matches the sidecar's hash (after
        finishing a write that was interrupted between its commit and its last rename)."""
        weights = path.with_suffix(".safetensors")
        _finish_interrupted_write(path, sidecar.get("sha256"))
        if not weights.exists():
            raise self.refuse(weights, "no such file")
        if sidecar.get("sha256") != sha256_of_file(weights):
            message = "the tensor file does not match its sidecar (truncated or replaced)"
            raise self.refuse(weights, message)
        try:
            return load_file(str(weights))
        except Exception as error:  # safetensors raises its own error types for bad files
            raise self.refuse(weights, f"not a readable safetensors file ({error})") from None
