"""Between token lists and code tensors: a batch of content-token lists in, token codes and
lengths out (:func:`encode_batch`); executed codes in, output values out (:func:`decode_outputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import torch

from rasp_ir.api import Outputs, RaspError, Value, describe_value, ir, value_key

from .execute import Executed, Executor
from .plan import Plan


def encode_batch(
    program: ir.Program, plan: Plan, batch: Sequence[Sequence[Value]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token codes (``batch x width``, BOS first when declared, padded with 0) and lengths."""
    header = program.header
    by_key = {value_key(v): int(c) for v, c in zip(header.vocab, plan.vocab_codes, strict=True)}
    bos = 0 if plan.bos_code is None else 1
    lengths = np.fromiter((len(x) + bos for x in batch), dtype=np.int64, count=len(batch))
    too_long = np.flatnonzero(lengths - bos > header.max_len)
    if len(too_long):
        b = int(too_long[0])
        raise RaspError.single(
            "input-length",
            f"example {b} has {lengths[b] - bos} tokens, more than max_len {header.max_len}",
            hint="shorten the input or raise max_len in the program header",
        )
    # A token of the vocabulary's own type and value has its key; anything else (a Fraction
    # equal to an int, say, or a token outside) goes through value_key.
    by_typed = {(type(v), v): int(c) for v, c in zip(header.vocab, plan.vocab_codes, strict=True)}
    tokens = list(chain.from_iterable(batch))
    try:
        flat = np.fromiter(
            map(by_typed.__getitem__, zip(map(type, tokens), tokens, strict=True)),
            np.int64,
            len(tokens),
        )
    except (KeyError, TypeError):
        try:
            flat = np.array([by_key[value_key(t)] for t in tokens], dtype=np.int64)
        except (KeyError, TypeError):
            raise RaspError.single(
                "input-token",
                "an input has a token outside the vocabulary",
                hint="add the token to the program's vocab or fix the input",
            ) from None
    width = int(lengths.max()) if len(batch) else 0
    codes = np.zeros((len(batch), width), dtype=np.int64)
    positions = np.arange(width)[None, :]
    codes[(positions >= bos) & (positions < lengths[:, None])] = flat
    if plan.bos_code is not None:
        codes[:, 0] = plan.bos_code
    return torch.from_numpy(codes), torch.from_numpy(lengths)


def raise_rejected(
    executor: Executor, executed: Executed, batch: Sequence[Sequence[Value]]
) -> None:
    """Raise :class:`RaspError` naming the first input of ``batch`` the program rejects."""
    rejected = torch.nonzero(executed.errors).flatten()
    if len(rejected) == 0:
        return
    example = int(rejected[0])
    shown = ", ".join(describe_value(t) for t in batch[example])
    error = int(executed.errors[example])
    raise RaspError.single(
        "rejected-input",
        f"example {example} [{shown}]: {executor.describe(error)}",
        hint="check the program with the interpreter on this input (rasp run)",
    )


def decode_outputs(plan: Plan, executed: Executed, lengths: torch.Tensor) -> Outputs:
    """The output values, one list per input, as long as that input (BOS included)."""
    outputs: Outputs = {}
    sizes = lengths.tolist()
    for name in plan.outputs:
        table = np.empty(len(plan.value_sets[name]), dtype=object)
        table[:] = list(plan.value_sets[name])
        rows: list[list[Value]] = table[executed.codes[name].cpu().numpy()].tolist()
        width = len(rows[0]) if rows else 0
        if all(n == width for n in sizes):  # one length: nothing to cut
            outputs[name] = rows
        else:
            outputs[name] = [row[:n] for row, n in zip(rows, sizes, strict=True)]
    return outputs
