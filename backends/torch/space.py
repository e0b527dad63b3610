"""Slices of the exhaustive input space through a compiled model: a range of input numbers in,
the outputs as codes into the program's value sets and the inputs the model refuses out (a
:class:`rasp_ir.api.SpaceRunner`).

The inputs' digits come from :func:`rasp_ir.api.space_digits` as arrays, so no input exists as a
Python list; the model runs its forward plan on them and its outputs are compared with the
interpreter's codes without being decoded to values.
"""

from __future__ import annotations

import numpy as np
import torch

from rasp_ir.api import CodedBatch, RaspError, Value, infer_value_sets, ir, space_digits, value_key
from rasp_ir.backends.torch.fast_forward import final_residual
from rasp_ir.backends.torch.model import CompiledTransformer, decoded_indices, mixed_means
from rasp_ir.backends.torch.threads import small_work_threads

# Inputs per slice: small enough for a compiled model's activations to stay in cache (sort over
# 5 tokens up to length 8, one thread: 1.47 s of CPU at 8,192 against 2.03 s at 32,768 and
# 1.62 s at 2,048).
SPACE_BATCH = 1 << 13
# Activations per slice stay below this many floats (512 MiB in float32).
SLICE_FLOATS = 1 << 27


class TorchSpace:
    """A compiled model over the input space of ``program`` (its vocabulary, in order)."""

    def __init__(self, program: ir.Program, model: CompiledTransformer) -> None:
        self.model = model
        config = model.config
        widest = max(config.d_model, config.d_mlp, 1) * config.n_positions
        self.batch_size = max(1, min(SPACE_BATCH, SLICE_FLOATS // widest))
        ids = {value_key(v): i + 1 for i, v in enumerate(model.info.vocab)}
        missing = [v for v in program.header.vocab if value_key(v) not in ids]
        if missing:
            raise RaspError.single(
                "input-token", f"the model's vocabulary lacks {missing[0]!r} of the program's"
            )
        self.vocab_ids = torch.tensor([ids[value_key(v)] for v in program.header.vocab])
        self.vocab_size = len(program.header.vocab)
        sets = infer_value_sets(program).sets
        self.outputs = [
            (decoder, {value_key(v): i for i, v in enumerate(sets[decoder.name])})
            for decoder in model.info.decoders
        ]

    def __call__(self, start: int, stop: int) -> CodedBatch:
        digits, content = space_digits(self.vocab_size, start, stop)
        model = self.model
        ids, lengths = model.token_ids(
            self.vocab_ids[torch.from_numpy(digits)], torch.from_numpy(content)
        )
        plan = model.forward_plan()
        errors = torch.zeros(stop - start, dtype=torch.bool)
        codes: dict[str, np.ndarray] = {}
        with torch.inference_mode(), small_work_threads(ids.numel() * model.config.d_model):
            rows = final_residual(plan, ids, lengths)

            def read(dims: tuple[int, ...]) -> torch.Tensor:
                return plan.read(rows, dims, ids)

            for check in model.info.mean_checks:
                errors |= mixed_means(check, read(check.dims), lengths).any(dim=1)
            for decoder, value_codes in self.outputs:
                values, indices = decoded_indices(decoder, read(decoder.dims), lengths)
                codes[decoder.name] = _codes_of(values, value_codes)[indices].numpy()
        return CodedBatch(codes, (lengths - 1).numpy(), errors.numpy())


def _codes_of(values: list[Value], codes: dict[tuple[int, object], int]) -> torch.Tensor:
    """The code of each value in a value set (``codes``: value keys to codes), -1 for a value
    outside it (reported as a mismatch)."""
    return torch.tensor([codes.get(value_key(v), -1) for v in values], dtype=torch.long)
