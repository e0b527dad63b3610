"""A trained run's model on disk: a run folder in, the GeneralRNN and its task out (and back).

The layout (to be reconciled with the training code's checkpoints)::

    RUN_DIR/model.json          {"config": RNNConfig.to_json(), "task": "<paper task name>"}
    RUN_DIR/model.safetensors   GeneralRNN.state_dict(), every key, no other

Missing, truncated or mismatched files are a RaspError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rasp_ir.api import RaspError

from .rnn import GeneralRNN, RNNConfig
from .task_spec import Task
from .tasks import get_task

MODEL_JSON = "model.json"
MODEL_WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class Run:
    """A trained model and the task it was trained on."""

    model: GeneralRNN
    task: Task


def load_run(run_dir: Path) -> Run:
    """The model and task stored in ``run_dir`` (the layout above), in evaluation mode."""
    meta_path, weights_path = run_dir / MODEL_JSON, run_dir / MODEL_WEIGHTS
    config, task_name = _read_meta(meta_path)
    task = get_task(task_name)
    model = GeneralRNN(RNNConfig.from_json(config))
    try:
        weights = load_file(str(weights_path))
    except FileNotFoundError:
        raise RaspError.single("file", f"cannot read {weights_path}: no such file") from None
    except (SafetensorError, OSError) as error:
        raise RaspError.single(
            "mips-run", f"{weights_path}: not a readable safetensors file: {error}"
        ) from None
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise RaspError.single(
            "mips-run",
            f"{weights_path} does not fit the configuration in {meta_path}: {error}",
        ) from None
    return Run(model.eval(), task)


def save_run(model: GeneralRNN, task: Task, run_dir: Path) -> None:
    """Write ``model`` and its ``task`` to ``run_dir`` (created if missing) in the layout
    above."""
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = {"config": model.config.to_json(), "task": task.name}
    (run_dir / MODEL_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    weights = {key: value.detach().contiguous() for key, value in model.state_dict().items()}
    save_file(weights, str(run_dir / MODEL_WEIGHTS))


def _read_meta(path: Path) -> tuple[object, str]:
    """``model.json``'s configuration (JSON data) and task name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {path}: {error}") from None
    except ValueError as error:
        raise RaspError.single("mips-run", f"{path}: not JSON: {error}") from None
    if not isinstance(data, dict) or "config" not in data or not isinstance(data.get("task"), str):
        raise RaspError.single(
            "mips-run",
            f"{path}: expected an object with a configuration and a task name",
            hint='{"config": {"input_dim": 1, ...}, "task": "Parity_All"}',
        )
    return data["config"], data["task"]
