"""What ``rasp report`` and ``rasp explain`` see of a Transformer Programs run folder: a folder
(and, for a population, a member) in, an :class:`~rasp_ir.api.ArtifactView` out (the lifted
program and its certificate, the training curves of ``metrics.json``, the run's facts and its
test split with the task's answers; for a population, also every member's accuracies), or
None when the folder is not a Transformer Programs checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rasp_ir.api import ArtifactView, Curve, LabelledExamples, RaspError, Value, format_program

from . import checkpoint
from .config import PAD, ModelConfig
from .lift import OUTPUT, lift_run
from .population_folder import member_checkpoint, population_of
from .population_view import member_kind, population_facts, population_tables

# The curves of metrics.json shown, in this order, with their names on the page.
CURVES = (
    ("loss", "training loss"),
    ("val_accuracy_argmax", "validation accuracy (argmax model)"),
    ("tau", "temperature"),
    ("grad_norm_max", "largest gradient norm"),
)
UNSEEN = "<a label no training example has>"


def run_view(path: Path, member: int | None = None) -> ArtifactView | None:
    """The view of run folder ``path`` (its final model, lifted and certified; a folder that
    ``rasp tp compile`` wrote has no curves and no test split), or None when ``path`` holds no
    Transformer Programs checkpoint. In a population's folder (or a member's, ``seed-S``): the
    final model of member ``member`` (default: the one validation selects), that member's
    curves, and a table of every member."""
    if not path.is_dir():
        return None
    if population_of(path) is None and not _is_ours(path / "model.json"):
        return None
    found = member_checkpoint(path, "model", member)
    info = checkpoint.read_sidecar(found.path)
    config = ModelConfig.from_json(info["config"])
    lifted = lift_run(path, member=found.seed)
    labelled = _test_split(found.run_dir, config)
    trained = (found.run_dir / "metrics.json").exists()
    kind = "Transformer Programs run" if trained else "Transformer Programs model"
    if found.population is not None:
        kind = member_kind(found)
    return ArtifactView(
        kind=kind,
        source=str(path),
        program_text=format_program(lifted.program),
        facts=_facts(info, config) + population_facts(found),
        curves=_curves(found.run_dir / "metrics.json", found.index),
        certificate=lifted.certificate,
        labelled=labelled,
        tables=population_tables(found),
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


def _curves(path: Path, member: int | None) -> tuple[Curve, ...]:
    """The curves of ``metrics.json`` at ``path``: a single run's, or the series of the member
    at index ``member`` of a population's (whose rows hold one value per member); a value
    that was not finite (recorded as null) is left out of the drawing."""
    if not path.exists():
        return ()
    try:
        epochs = json.loads(path.read_text(encoding="utf-8"))["epochs"]
        return tuple(
            Curve(title, tuple(_number(row[key], member) for row in epochs))
            for key, title in CURVES
            if epochs and all(key in row for row in epochs)
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as error:
        raise RaspError.single(
            "checkpoint", f"{path}: not a metrics file ({error})", hint="train the run again"
        ) from None


def _number(value: Any, member: int | None) -> float:
    """One epoch's value of a curve: ``value`` itself, or its entry ``member`` when the row
    holds one value per member (the temperature is shared: one value); NaN for null."""
    if member is not None and isinstance(value, list):
        value = value[member]
    return math.nan if value is None else float(value)


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
