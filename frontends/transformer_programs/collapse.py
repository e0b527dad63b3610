"""Restarting a collapsed run: each epoch's argmax validation accuracy against the run's best in;
whether the run has collapsed, its learning-rate factor, and the record of a restart out.

The paper's recipe is unstable: runs reach a good model and then, mid-way through the
temperature schedule, the loss climbs back and the accuracy falls and stays low (reference
§15.5). A run whose validation accuracy stays more than ``restart_drop`` below its best epoch's
for ``restart_patience`` epochs in a row has collapsed; it goes on from its best epoch's
weights with a fresh optimiser state (Adam's moments and step count) and its learning rate
multiplied by ``restart_lr_factor`` (at each restart again). The Gumbel noise and the data
order go on where they were. A single run and each member of a population use the same watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasp_ir.api import RaspError

from .config import TrainConfig


@dataclass
class CollapseWatch:
    """One run's watch: the settings' threshold, patience and factor, the epochs in a row
    spent below the threshold so far, and the run's current learning-rate factor."""

    drop: float | None
    patience: int
    factor_per_restart: float
    epochs_below: int = 0
    lr_factor: float = 1.0

    @classmethod
    def of(cls, settings: TrainConfig) -> CollapseWatch:
        """A fresh watch for a run of ``settings`` (one that never fires without
        ``restart_drop``)."""
        return cls(settings.restart_drop, settings.restart_patience, settings.restart_lr_factor)

    def collapsed(self, val_accuracy: float, best_val_accuracy: float) -> bool:
        """Count an epoch whose argmax validation accuracy is ``val_accuracy`` (the best so
        far, this epoch included: ``best_val_accuracy``); whether the run has now collapsed, in
        which case the count starts again and the learning-rate factor is lowered."""
        if self.drop is None:
            return False
        below = val_accuracy < best_val_accuracy - self.drop
        self.epochs_below = self.epochs_below + 1 if below else 0
        if self.epochs_below < self.patience:
            return False
        self.epochs_below = 0
        self.lr_factor *= self.factor_per_restart
        return True

    def take_from(self, donor: CollapseWatch) -> None:
        """Go on as a run that took ``donor``'s training state: its learning-rate factor, and
        no epochs below the threshold yet."""
        self.epochs_below, self.lr_factor = 0, donor.lr_factor

    def to_json(self) -> dict[str, Any]:
        """What a resumed run needs: the epochs below the threshold and the factor."""
        return {"epochs_below": self.epochs_below, "lr_factor": self.lr_factor}

    def resumed(self, data: Any, where: str) -> CollapseWatch:
        """This watch with the state :meth:`to_json` saved (None, from a run saved before
        restarts existed: a fresh watch); a RaspError naming ``where`` for anything else."""
        if data is None:
            return self
        try:
            self.epochs_below, self.lr_factor = int(data["epochs_below"]), float(data["lr_factor"])
        except (KeyError, TypeError, ValueError) as error:
            raise RaspError.single(
                "checkpoint", f"{where}: no usable collapse watch ({error})"
            ) from None
        return self


def restart_record(
    epoch: int, val_accuracy: float, best_epoch: int, best_val_accuracy: float, lr_factor: float
) -> dict[str, Any]:
    """What the metrics record of a restart: the epoch it followed (1-based), that epoch's
    validation accuracy, the best epoch the run went back to and its accuracy, and the run's
    learning-rate factor from then on."""
    return {
        "epoch": epoch,
        "val_accuracy_argmax": val_accuracy,
        "from_epoch": best_epoch,
        "best_val_accuracy_argmax": best_val_accuracy,
        "lr_factor": lr_factor,
    }
