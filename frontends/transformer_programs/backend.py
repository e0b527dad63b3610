"""The ``tp`` backend: a program of the lifted Transformer Programs shape in, Transformer Program
weights whose argmax model computes it out (``rasp compile --backend tp``, ``rasp verify
--backend tp``); the same compiler ``rasp tp compile`` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasp_ir.api import (
    BatchRunner,
    Outputs,
    Value,
    format_program,
    ir,
    require_supported,
    sha256_of_text,
)

from . import checkpoint
from .compile_back import compile_program
from .lift import model_predictions
from .model import TransformerProgram

# What the Transformer Programs architecture expresses: categorical heads (select_closest and a
# mean), numerical heads (selector_width or a sum over a select), MLPs as maps, BOS and causal,
# and the pooled classification readout.
TP_FEATURES = frozenset(
    {
        "full",
        "map",
        "select",
        "select_closest",
        "aggregate_mean_cat",
        "aggregate_sum",
        "selector_width",
        "pooled_vote",
        "bos",
        "causal",
    }
)


@dataclass(frozen=True)
class CompiledProgram:
    """Compiled weights and the text of the program they compute."""

    model: TransformerProgram
    program_text: str


class TransformerProgramsBackend:
    """Programs of the lifted shape to Transformer Program weights."""

    name = "tp"
    description = (
        "compile to Transformer Program weights (programs of the shape 'rasp tp lift' writes)"
    )
    features = TP_FEATURES

    def lower(self, program: ir.Program) -> CompiledProgram:
        """The compiled model; a RaspError names what the architecture cannot express."""
        require_supported(self, program)
        return CompiledProgram(compile_program(program), format_program(program))

    def runner(self, program: ir.Program, artifact: CompiledProgram) -> BatchRunner:
        """A function from a batch of content-token lists to the argmax model's classes at every
        position (BOS first), under the program's output name."""
        output = program.outputs[0]

        def run(batch: Sequence[Sequence[Value]]) -> Outputs:
            tokens = [[str(t) for t in row] for row in batch]
            found = model_predictions(artifact.model, tokens) if tokens else []
            values: list[list[Value]] = [list(row) for row in found]
            return {output: values}

        return run

    def save(
        self, artifact: CompiledProgram, path: Path, meta: dict[str, Any] | None = None
    ) -> None:
        """Write ``RUN_DIR/model.{safetensors,json}``; the sidecar keeps the program's text."""
        details = {
            "program_sha256": sha256_of_text(artifact.program_text),
            "program_text": artifact.program_text,
            **(meta or {}),
        }
        checkpoint.save(path / "model", artifact.model, details)


BACKEND = TransformerProgramsBackend()
