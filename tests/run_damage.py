"""Ways to damage a checkpoint in a run folder (``NAME.safetensors`` + ``NAME.json``), as a
disk, an editor or a crash might: each a function of the run folder and the checkpoint name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

Damage = Callable[[Path, str], None]


def truncate(run: Path, name: str) -> None:
    path = run / f"{name}.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(run: Path, name: str) -> None:
    (run / f"{name}.safetensors").write_bytes(b"")


def garble_header(run: Path, name: str) -> None:
    path = run / f"{name}.safetensors"
    data = bytearray(path.read_bytes())
    data[8:40] = b"\xff" * 32
    path.write_bytes(bytes(data))


def edit_sidecar(change: Callable[[dict[str, object]], None]) -> Damage:
    def damage(run: Path, name: str) -> None:
        path = run / f"{name}.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")

    return damage


def version(document: dict[str, object]) -> None:
    document["format_version"] = 99


def no_config(document: dict[str, object]) -> None:
    del document["config"]


def huge_sizes(document: dict[str, object]) -> None:
    config = document["config"]
    assert isinstance(config, dict)
    for key, value in config.items():
        if isinstance(value, int) and not isinstance(value, bool):
            config[key] = 10**9


def negative_sizes(document: dict[str, object]) -> None:
    config = document["config"]
    assert isinstance(config, dict)
    for key, value in config.items():
        if isinstance(value, int) and not isinstance(value, bool):
            config[key] = -3


def not_json(run: Path, name: str) -> None:
    (run / f"{name}.json").write_text('{"format": ', encoding="utf-8")


def missing_weights(run: Path, name: str) -> None:
    (run / f"{name}.safetensors").unlink()


def missing_sidecar(run: Path, name: str) -> None:
    (run / f"{name}.json").unlink()


def metrics_as_sidecar(run: Path, name: str) -> None:
    shutil.copyfile(run / "metrics.json", run / f"{name}.json")


DAMAGES: dict[str, Damage] = {
    "truncated weights": truncate,
    "empty weights": empty,
    "garbled weights header": garble_header,
    "unknown version": edit_sidecar(version),
    "config removed": edit_sidecar(no_config),
    "config sizes huge": edit_sidecar(huge_sizes),
    "config sizes negative": edit_sidecar(negative_sizes),
    "sidecar not JSON": not_json,
    "weights missing": missing_weights,
    "sidecar missing": missing_sidecar,
    "metrics file as sidecar": metrics_as_sidecar,
}
