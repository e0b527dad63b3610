"""Transformer Programs (Friedman et al., 2023): train a constrained transformer, lift its argmax
model exactly into the IR with a certificate, and compile (edited) programs back into weights.

Importing this package is cheap (no torch): :data:`FRONTEND` loads the modules on first use.
The pieces: :mod:`.tasks` (the paper's data), :mod:`.model` (the model and the categorical
attention core), :mod:`.train`, :mod:`.best_epoch`, :mod:`.checkpoint`, :mod:`.lift`,
:mod:`.compile_back`, :mod:`.demo` and :mod:`.cli` (``rasp tp ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["FRONTEND", "TransformerProgramsFrontend"]


class TransformerProgramsFrontend:
    """The ``transformer_programs`` frontend: a training run folder in, IR text and a
    certificate out."""

    name = "transformer_programs"
    description = "Transformer Programs: train, lift the argmax model exactly, compile back"

    def lift(self, run_dir: str | Path) -> tuple[str, dict[str, Any]]:
        """The lifted program's text and its certificate (raises when agreement is not 100%)."""
        from .lift import lift_run

        result = lift_run(Path(run_dir))
        return result.text, result.certificate


FRONTEND = TransformerProgramsFrontend()
