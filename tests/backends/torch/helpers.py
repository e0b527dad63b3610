"""Shared helpers: load an example with a reduced header, compare the compiled model with the
reference interpreter at every position (undefined ones included, rasp-semantics §16.11)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from rasp_ir import ir
from rasp_ir.backends.torch import CHUNK_FLOATS, CompiledTransformer, compile_program
from rasp_ir.interpreter import interpret
from rasp_ir.syntax import HeaderOverrides, parse_file, parse_program
from rasp_ir.values import Value, value_key

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.rasp"))


def example(path: Path, max_len: int, vocab_size: int = 4) -> ir.Program:
    """An example program with its vocabulary cut to ``vocab_size`` symbols."""
    vocab = parse_file(path).header.vocab[:vocab_size]
    return parse_file(path, overrides=HeaderOverrides(vocab=tuple(vocab), max_len=max_len))


def program(text: str) -> ir.Program:
    return parse_program(text, "<test>")


def all_inputs(prog: ir.Program, up_to: int) -> list[list[Value]]:
    vocab = prog.header.vocab
    return [list(x) for n in range(up_to + 1) for x in itertools.product(vocab, repeat=n)]


def random_inputs(prog: ir.Program, count: int, seed: int = 0) -> list[list[Value]]:
    rng = random.Random(seed)
    vocab = prog.header.vocab
    n = prog.header.max_len
    return [
        [rng.choice(vocab) for _ in range(rng.choice((n, rng.randint(0, n))))] for _ in range(count)
    ]


def same(a: Value, b: Value) -> bool:
    if (
        isinstance(a, (int, Fraction))
        and isinstance(b, (int, Fraction))
        and not isinstance(a, bool)
    ):
        return not isinstance(b, bool) and a == b
    return value_key(a) == value_key(b)


def mismatches(
    prog: ir.Program,
    model: CompiledTransformer,
    inputs: Sequence[Sequence[Value]],
    batch: int = 500,
) -> list[str]:
    """Every (input, output, position) where the model and the interpreter disagree."""
    config = model.config
    widest = max(config.d_model, config.d_mlp, 1) * config.n_positions
    batch = max(1, min(batch, CHUNK_FLOATS // widest))
    found: list[str] = []
    for start in range(0, len(inputs), batch):
        chunk = inputs[start : start + batch]
        expected = interpret(prog, chunk).outputs()
        got = model.run(chunk, debug=True).outputs
        for name, rows in expected.items():
            for example_tokens, want, have in zip(chunk, rows, got[name], strict=True):
                if len(want) != len(have) or not all(map(same, want, have)):
                    found.append(f"{name} on {example_tokens}: expected {want}, got {have}")
    return found


def check(prog: ir.Program, inputs: Sequence[Sequence[Value]]) -> CompiledTransformer:
    model = compile_program(prog)
    problems = mismatches(prog, model, inputs)
    assert not problems, "\n".join(problems[:5])
    return model
