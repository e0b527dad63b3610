"""Reading a compiled model's outputs: the decoder takes the first largest direction (the
undefined one, at 1/2, last), the mean check flags exactly the directions strictly between its
tolerance and 1 minus it, and a run reads each set of directions once for both."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.backends.torch import compile_program, fast_forward
from rasp_ir.backends.torch.model import MeanCheck, OutputDecoder, decoded_indices, mixed_means
from tests.backends.torch.helpers import ROOT, all_inputs, example

BATCH, POSITIONS, DIRECTIONS = 64, 5, 6


def _reads(seed: int) -> torch.Tensor:
    """Batch x positions x directions of values that tie often: quarters, and 1/2 exactly."""
    generator = torch.Generator().manual_seed(seed)
    quarters = torch.randint(0, 5, (BATCH, POSITIONS, DIRECTIONS), generator=generator)
    return quarters.float() / 4


@pytest.mark.parametrize("undefined", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_the_decoder_takes_the_first_largest_direction(undefined: bool, seed: int) -> None:
    read = _reads(seed)
    values = tuple("abcdef") + ((None,) if undefined else ())
    decoder = OutputDecoder("out", "cat", tuple(range(DIRECTIONS)), values, undefined)
    lengths = torch.full((BATCH,), POSITIONS + 1)
    decoded, indices = decoded_indices(decoder, read, lengths)
    top, expected = read.max(dim=-1)  # torch.max gives the first of equal largest values
    if undefined:
        expected[top < 0.5] = DIRECTIONS
    assert decoded == list(values)
    assert torch.equal(indices, expected)


def test_the_mean_check_flags_exactly_the_open_band() -> None:
    tolerance = 1.0 / (2 * (POSITIONS + 1) + 2)
    edges = torch.tensor([tolerance, 1 - tolerance], dtype=torch.float32)
    around = torch.cat([edges, edges.nextafter(edges + 1), edges.nextafter(edges - 1)])
    values = torch.cat([around, torch.tensor([0.0, 1.0, 0.5, 1 / POSITIONS, -0.1, 1.1])])
    # Every value on its own at one position, the other directions at 0 or 1.
    read = torch.zeros(len(values), 2, POSITIONS, DIRECTIONS)
    read[:, 1, :, 1:] = 1.0
    read[:, :, :, 0] = values[:, None, None]
    read = read.reshape(2 * len(values), POSITIONS, DIRECTIONS)
    lengths = torch.full((len(read),), POSITIONS + 1)
    lengths[-1] = 3  # the last example's positions 2 and up are padding
    check = MeanCheck("mean", tuple(range(DIRECTIONS)))
    strictly_inside = ((read > tolerance) & (read < 1 - tolerance)).any(dim=-1)
    expected = strictly_inside & (torch.arange(POSITIONS)[None, :] < lengths[:, None] - 1)
    assert torch.equal(mixed_means(check, read, lengths), expected)
    assert expected.any() and not expected.all()


def test_a_run_reads_the_directions_a_check_shares_with_its_output_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prog = example(ROOT / "examples" / "sort_unique.rasp", max_len=4, vocab_size=4)
    model = compile_program(prog)
    assert [c.dims for c in model.info.mean_checks] == [d.dims for d in model.info.decoders]
    read_dims: list[tuple[int, ...]] = []
    plain_read = fast_forward.ForwardPlan.read

    def counted(self: fast_forward.ForwardPlan, *args: object) -> torch.Tensor:
        read_dims.append(tuple(args[1]))  # type: ignore[arg-type]
        return plain_read(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fast_forward.ForwardPlan, "read", counted)
    inputs = all_inputs(prog, 4)
    assert model.run(inputs).outputs == model.run(inputs, trace=True).outputs
    assert read_dims == [model.info.decoders[0].dims]
