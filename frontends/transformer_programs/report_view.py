"""What ``rasp report`` and ``rasp explain`` see of a Transformer Programs run folder: a folder
in, an :class:`~rasp_ir.api.ArtifactView` out (the lifted program and its certificate, the
training curves of ``metrics.json``, the run's facts and its test split with the task's
answers), or None when the folder is not a Transformer Programs checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasp_ir.api import ArtifactView, Curve, LabelledExamples, RaspError, Value, format_program

from . import checkpoint
from .config import PAD, ModelConfig
from .lift import OUTPUT, lift_run

# The curves of metrics.json shown, in this order, with their names on the page.
CURVES = (
    ("loss", "training loss"),
    ("val_accuracy_argmax", "validation accuracy (argmax model)"),
    ("tau", "temperature"),
    ("grad_norm_max", "largest gradient norm"),
)
UNSEEN = "<a label no training example has>"


def run_view(path: Path) -> ArtifactView | None:
    """The view of run folder ``path`` (its final model, lifted and certified; a folder that
    ``rasp tp compile`` wrote has no curves and no test split), or None when ``path`` holds no
    Transformer Programs checkpoint."""
    sidecar = path / "model.json"
    if not path.is_dir() or not _is_ours(sidecar):
        return None
    info = checkpoint.read_sidecar(path / "model")
    config = ModelConfig.from_json(info["config"])
    lifted = lift_run(path)
    labelled = _test_split(path, config)
    trained = (path / "metrics.json").exists()
    return ArtifactView(
        kind="Transformer Programs run" if trained else "Transformer Programs model",
        source=str(path),
        program_text=format_program(lifted.program),
        facts=_facts(info, config),
        curves=_curves(path / "metrics.json"),
        certificate=lifted.certificate,
        labelled=labelled,
    )


def _is_ours(sidecar: Path) -> bool:
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("format") == checkpoint.FORMAT.name


def _facts(info: dict[str, Any], config: ModelConfig) -> tuple[tuple[str, str], ...]:
    facts = [
        ("task", str(info.get("task", "unknown"))),
        (
            "architecture",
            f"{config.n_layers} layers; per layer {config.n_heads_cat} categorical and "
            f"{config.n_heads_num} numerical heads, {config.n_cat_mlps} categorical and "
            f"{config.n_num_mlps} numerical MLPs; N = {config.n_ctx}, k = {config.d_var}",
        ),
    ]
    accuracy = info.get("accuracy_argmax")
    if isinstance(accuracy, dict):
        shown = ", ".join(f"{split} {float(value):.2%}" for split, value in accuracy.items())
        facts.append(("argmax accuracy", shown))
    if "epochs_run" in info:
        facts.append(("epochs", str(info["epochs_run"])))
    return tuple(facts)


def _curves(path: Path) -> tuple[Curve, ...]:
    if not path.exists():
        return ()
    try:
        epochs = json.loads(path.read_text(encoding="utf-8"))["epochs"]
        return tuple(
            Curve(title, tuple(float(row[key]) for row in epochs))
            for key, title in CURVES
            if epochs and all(key in row for row in epochs)
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise RaspError.single(
            "checkpoint", f"{path}: not a metrics file ({error})", hint="train the run again"
        ) from None


def _test_split(path: Path, config: ModelConfig) -> LabelledExamples | None:
    """The test split as content tokens and the wanted class at each position (None where the
    target is padding, which the task does not score)."""
    from .train import load_split

    data = path / "data.safetensors"
    if not data.exists():
        return None
    split = load_split(data, "test")
    inputs: list[tuple[Value, ...]] = []
    expected: list[tuple[Value, ...]] = []
    for row_x, row_y in zip(split.x.tolist(), split.y.tolist(), strict=True):
        width = sum(1 for i in row_x if i != 0)
        inputs.append(tuple(config.vocab[i] for i in row_x[1:width]))
        expected.append(tuple(_wanted(config, int(code)) for code in row_y[:width]))
    return LabelledExamples("test split", OUTPUT, tuple(inputs), tuple(expected))


def _wanted(config: ModelConfig, code: int) -> Value:
    if code < 0:
        return UNSEEN
    label = config.classes[code]
    return None if label == PAD else label
