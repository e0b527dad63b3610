"""A trained run on disk: a run folder in, the GeneralRNN and the task it was trained on out (and
back), in the layout ``rasp mips train`` writes: ``RUN_DIR/model.{safetensors,json}`` (a
:mod:`.checkpoint`, whose sidecar names the task).

Missing, truncated or mismatched files are a RaspError naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rasp_ir.api import RaspError

from . import checkpoint
from .rnn import GeneralRNN
from .task_spec import Task
from .tasks import get_task

MODEL = "model"


@dataclass(frozen=True)
class Run:
    """A trained model and the task it was trained on."""

    model: GeneralRNN
    task: Task


def load_run(run_dir: Path) -> Run:
    """The model and task of the run in ``run_dir``, the model in evaluation mode."""
    model, meta = checkpoint.load(run_dir / MODEL)
    task_name = meta.get("task")
    if not isinstance(task_name, str):
        raise RaspError.single(
            "checkpoint",
            f"{run_dir / MODEL}.json names no task",
            hint="train it with 'rasp mips train TASK -o RUN_DIR'",
        )
    return Run(model.eval(), get_task(task_name))


def save_run(model: GeneralRNN, task: Task, run_dir: Path) -> None:
    """Write ``model`` and its ``task`` to ``run_dir`` in the layout above."""
    checkpoint.save(run_dir / MODEL, model, {"task": task.name})
