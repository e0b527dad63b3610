"""The best-validation checkpoint of a training run: the argmax model of the epoch with the
highest validation accuracy (the first such epoch), kept as ``RUN_DIR/best.{safetensors,json}``
next to the final model.

The paper reports the model at the end of training. Training already evaluates the argmax model
on the validation split after every epoch, and in the last, coldest epochs a run can lose
accuracy it had (an argmax choice flips and the loss jumps), so the best epoch is kept as well.
Choosing it reads the validation split only; the test split stays held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from rasp_ir.api import RaspError

from . import checkpoint
from .config import ModelConfig
from .model import TransformerProgram, model_to_load

NAME = "best"


@dataclass
class BestEpoch:
    """The best epoch so far (1-based; 0 before any), its validation accuracy and weights."""

    epoch: int = 0
    val_accuracy: float = -1.0
    state: dict[str, Tensor] | None = None

    @classmethod
    def resumed(cls, run_dir: Path) -> BestEpoch:
        """The best epoch recorded in ``run_dir`` (nothing if the run has no best checkpoint)."""
        path = run_dir / NAME
        if not path.with_suffix(".json").exists():
            return cls()
        model, info, _ = checkpoint.load(path)
        try:
            epoch, val = int(info.meta["epoch"]), float(info.meta["val_accuracy_argmax"])
        except (KeyError, TypeError, ValueError) as error:
            raise RaspError.single(
                "checkpoint",
                f"{path.with_suffix('.json')}: no usable epoch and validation accuracy ({error})",
                hint=f"remove {path}.* to start the best epoch afresh from this point",
            ) from None
        return cls(epoch, val, _copy(model))

    def update(self, model: TransformerProgram, epoch: int, val_accuracy: float) -> bool:
        """Keep ``model`` if ``val_accuracy`` beats the best so far; whether it did."""
        if val_accuracy <= self.val_accuracy:
            return False
        self.epoch, self.val_accuracy, self.state = epoch, val_accuracy, _copy(model)
        return True

    def model(self, config: ModelConfig) -> TransformerProgram | None:
        """The best epoch's model (None before any epoch)."""
        if self.state is None:
            return None
        model = model_to_load(config)
        model.load_state_dict(self.state)
        return model

    def save(self, run_dir: Path, config: ModelConfig, meta: dict[str, Any]) -> None:
        """Write ``run_dir/best`` with ``meta`` plus the epoch and its validation accuracy."""
        model = self.model(config)
        if model is None:
            return
        info = {**meta, "epoch": self.epoch, "val_accuracy_argmax": self.val_accuracy}
        checkpoint.save(run_dir / NAME, model, info)


def _copy(model: TransformerProgram) -> dict[str, Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}
