"""The triton backend: a checked program in, a batched executor out, on a GPU when there is one.

Values are integer codes (indices into each binding's exact value set), a batch is a
``batch x length`` tensor, maps are table gathers and every selector goes to the fused
selector kernels of :mod:`rasp_ir.kernels.program_exec` (Triton on CUDA; the same lowering
through their torch reference ops elsewhere, which is what runs on a CPU). Besides the batch
runner every backend has, it offers a space runner: exhaustive verification enumerates the
inputs on the device and compares codes, with no Python per input.

Entry point: ``triton = "rasp_ir.backends.triton:BACKEND"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rasp_ir.api import ALL_FEATURES, BatchRunner, Outputs, Value, ir, require_supported
from rasp_ir.kernels.program_exec import Impl

from .codec import decode_outputs, encode_batch, raise_rejected
from .execute import Executor
from .plan import Plan, build_plan
from .space import TritonSpace

__all__ = ["BACKEND", "Executor", "Plan", "TritonBackend", "TritonSpace", "build_plan"]


def default_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TritonBackend:
    """Programs as batched integer-code executors (``lower``: the plan; ``runner``: batches of
    token lists; ``space_runner``: slices of the exhaustive input space)."""

    name = "triton"
    description = "batched execution on integer codes: Triton kernels on CUDA, torch elsewhere"
    # A vote's scores are evaluated per distinct input combination, not from code tables.
    features: frozenset[str] = ALL_FEATURES - {"pooled_vote"}

    def __init__(self, device: torch.device | None = None, impl: Impl = "auto") -> None:
        self.device = device
        self.impl: Impl = impl

    def lower(self, program: ir.Program) -> Plan:
        """The plan of ``program``; a RaspError lists every unsupported construct at once,
        or the program's errors."""
        require_supported(self, program)
        return build_plan(program)

    def executor(self, plan: Plan) -> Executor:
        """``plan`` with its tables on this backend's device."""
        return Executor(plan, self.device or default_device(), self.impl)

    def runner(self, program: ir.Program, artifact: Plan) -> BatchRunner:
        """A function from a batch of content-token lists to the program's outputs; raises
        :class:`RaspError` when the program rejects an input of the batch."""
        executor = self.executor(artifact)

        def run(batch: Sequence[Sequence[Value]]) -> Outputs:
            tokens, lengths = encode_batch(program, artifact, batch)
            executed = executor.run(tokens.to(executor.device), lengths.to(executor.device))
            raise_rejected(executor, executed, batch)
            return decode_outputs(artifact, executed, lengths)

        return run

    def space_runner(self, program: ir.Program, artifact: Plan) -> TritonSpace:
        """Slices of the exhaustive input space, enumerated and run on the device."""
        return TritonSpace(self.executor(artifact), len(program.header.vocab))


BACKEND = TritonBackend()
