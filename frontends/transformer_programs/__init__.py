"""Transformer Programs (Friedman et al., 2023): train a constrained transformer, lift its argmax
model exactly into the IR with a certificate, and compile (edited) programs back into weights.

A spoke registered like any third-party plugin (``pyproject.toml``): frontend
``transformer_programs`` (:data:`FRONTEND`), backend ``tp`` (:mod:`.backend`) and command
``rasp tp`` (:func:`.cli.register`). Importing this package is cheap (no torch): the frontend
loads its modules on first use. The pieces: :mod:`.tasks` (the paper's data), :mod:`.model`
(the model and the categorical attention core), :mod:`.train`, :mod:`.population` (many
seeds as one batched model) and :mod:`.population_train`, :mod:`.recipes` (the paper's and the
robust recipe) with :mod:`.lr_schedule`, :mod:`.collapse`, :mod:`.member_adam`,
:mod:`.choice_entropy` and :mod:`.exploit` (a population's worst members copying its best),
:mod:`.best_epoch`, :mod:`.checkpoint`, :mod:`.lift`, :mod:`.compile_back`, :mod:`.backend`,
:mod:`.demo` and :mod:`.cli`.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from rasp_ir.api import ArtifactView, Lifted, LiftOptions, RaspError

__all__ = ["CHECKPOINTS", "CHECKPOINT_FORMAT", "FRONTEND", "TransformerProgramsFrontend"]

# The checkpoints of a run folder that can be lifted.
CHECKPOINTS = ("model", "best")
# The ``format`` every checkpoint sidecar of this frontend names (single models and populations).
CHECKPOINT_FORMAT = "rasp-ir/transformer-program"


class TransformerProgramsFrontend:
    """The ``transformer_programs`` frontend: a training run folder in, the exact program of its
    argmax model and a certificate out."""

    name = "transformer_programs"
    description = "Transformer Programs: a run folder's argmax model, lifted exactly"
    settings = MappingProxyType(
        {
            "checkpoint": "model (the final epoch, default) or best (the best-validation epoch)",
            "member": "a population's member, by its seed (default: the one validation selects)",
        }
    )

    def lift(self, source: Path, options: LiftOptions) -> Lifted:
        """Lift the run folder ``source``, certified on its test split, every input up to a
        length and random inputs; a RaspError unless program and model agree everywhere."""
        from .lift import lift_run

        which = options.setting("checkpoint", "model")
        if which not in CHECKPOINTS:
            raise RaspError.single(
                "usage",
                f"unknown checkpoint {which!r}",
                hint=f"--set checkpoint=NAME, NAME one of {', '.join(CHECKPOINTS)}",
            )
        if options.max_len is not None:
            raise RaspError.single(
                "usage",
                "a Transformer Program is lifted at its own context length, not --max-len",
                hint="leave out --max-len",
            )
        return lift_run(
            Path(source),
            exhaustive_limit=options.exhaustive_limit,
            fuzz=options.samples,
            seed=options.seed,
            which=which,
            member=_member(options.setting("member", "")),
        )

    def report_view(self, source: Path, member: int | None = None) -> ArtifactView | None:
        """What ``rasp report`` and ``rasp explain`` show of the run folder ``source`` (its
        lifted program, certificate, curves and test split; for a population, of member
        ``member`` or the one validation selects, and every member's accuracies); None if it
        is not a run folder."""
        from .report_view import run_view

        return run_view(Path(source), member)


def _member(text: str) -> int | None:
    """The ``member`` setting as a seed (None when not given)."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise RaspError.single(
            "usage",
            f"member {text!r} is not a seed",
            hint="--member SEED (or --set member=SEED), a seed of the population",
        ) from None


FRONTEND = TransformerProgramsFrontend()
