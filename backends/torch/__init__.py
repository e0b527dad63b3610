"""Compile the IR to transformer weights: programs in, ``CompiledTransformer`` modules out.

torch is imported only inside this package.
Entry point: ``torch = "rasp_ir.backends.torch:BACKEND"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

from rasp_ir.api import (
    ALL_FEATURES,
    ArtifactView,
    BatchRunner,
    Outputs,
    RaspError,
    Value,
    ir,
    require_supported,
)
from rasp_ir.backends.torch.compiler import compile_program
from rasp_ir.backends.torch.model import CompiledTransformer, ModelConfig, RunResult
from rasp_ir.backends.torch.report import compile_report
from rasp_ir.backends.torch.serialize import load_model, save_model
from rasp_ir.backends.torch.space import TorchSpace
from rasp_ir.backends.torch.transformer_lens_load import (
    LensLabels,
    load_hooked_transformer,
    read_lens_labels,
)
from rasp_ir.backends.torch.transformer_lens_target import export_to_transformer_lens

__all__ = [
    "BACKEND",
    "CHUNK_FLOATS",
    "CompiledTransformer",
    "LensLabels",
    "ModelConfig",
    "RunResult",
    "TorchBackend",
    "compile_program",
    "compile_report",
    "export_to_transformer_lens",
    "load_hooked_transformer",
    "load_model",
    "read_lens_labels",
    "save_model",
]


# Activations per chunk of a batch stay below this many floats (512 MiB in float32).
CHUNK_FLOATS = 1 << 27


class TorchBackend:
    """The ``torch`` backend: exact transformer weights for a program."""

    name = "torch"
    description = "compile to exact transformer weights (a torch nn.Module, safetensors on disk)"
    # A vote's argmax over unbounded pooled scores has no exact weights: refused, named.
    features = ALL_FEATURES - {"pooled_vote"}
    # ``rasp export --to TARGET``: a source path, a folder and header overrides in, paths out.
    exporters = MappingProxyType({"transformer-lens": export_to_transformer_lens})

    def lower(self, program: ir.Program) -> CompiledTransformer:
        """The compiled model; a RaspError lists every construct that cannot be compiled."""
        require_supported(self, program)
        return compile_program(program)

    def runner(self, program: ir.Program, artifact: CompiledTransformer) -> BatchRunner:
        """A function from a batch of content-token lists to the program's outputs."""

        config = artifact.config
        widest = max(config.d_model, config.d_mlp, 1) * config.n_positions
        chunk = max(1, CHUNK_FLOATS // widest)

        def run(batch: Sequence[Sequence[Value]]) -> Outputs:
            outputs: Outputs = {name: [] for name in program.outputs}
            for start in range(0, len(batch), chunk):
                part = artifact.run(batch[start : start + chunk]).outputs
                for name, values in part.items():
                    outputs.setdefault(name, []).extend(values)
            return outputs

        return run

    def space_runner(self, program: ir.Program, artifact: CompiledTransformer) -> TorchSpace:
        """Slices of the exhaustive input space, run through the model's forward plan and
        answered as codes (``rasp verify --exhaustive`` compares them with the interpreter's)."""
        return TorchSpace(program, artifact)

    def save(self, artifact: CompiledTransformer, path: Path) -> None:
        """Write ``MODEL.safetensors`` and ``MODEL.json`` for ``rasp compile -o MODEL``."""
        save_model(artifact, path)

    def report(self, program: ir.Program) -> str:
        """Layers, heads per layer, d_model, MLP width and the per-op allocation."""
        return compile_report(program)

    def report_view(self, path: Path, member: int | None = None) -> ArtifactView | None:
        """What ``rasp report`` and ``rasp explain`` show of the compiled model at ``path``
        (``MODEL`` or ``MODEL.json``): its program and residual stream; None if it is not one.
        A compiled model has no members: ``member`` is refused."""
        from rasp_ir.backends.torch.report_view import model_view

        view = model_view(Path(path))
        if view is not None and member is not None:
            raise RaspError.single(
                "usage", f"{path} is a compiled model, not a population", hint="leave out --member"
            )
        return view


BACKEND = TorchBackend()
