"""``tokenmap``: a whole third-party rasp-ir frontend in one file.

Its source is a JSON file ``{"vocab": [...], "max_len": N, "map": {token: output}}``: a
position-wise token substitution (the simplest "trained model" there is). It lifts it into a
program ``output = map(fn(t) -> lookup(t, {...}), tokens)``, runs the program with the reference
interpreter on every input up to the limit and on random inputs, compares it with the table
itself, and returns the program with its certificate.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rasp_ir.api import (
    CheckedInputs,
    Disagreement,
    Lifted,
    LiftedSource,
    LiftOptions,
    RaspError,
    Value,
    format_program,
    interpret,
    ir,
    make_certificate,
    sha256_of_path,
)

OUTPUT = "substituted"


class TokenMapFrontend:
    """A JSON token-substitution table in, an exact one-map program out."""

    name = "tokenmap"
    description = "a JSON token-substitution table, lifted into one map (a test plugin)"
    settings = MappingProxyType({"output": f"the output's name (default {OUTPUT})"})

    def lift(self, source: Path, options: LiftOptions) -> Lifted:
        table = _read(source)
        vocab = tuple(table["map"])
        max_len = options.max_len or int(table["max_len"])
        name = options.setting("output", OUTPUT)
        body = ir.Lookup(
            (ir.Param("t"),),
            tuple(((token,), out) for token, out in table["map"].items()),
            ir.Const(None),
        )
        program = ir.Program(
            ir.Header(vocab=vocab, max_len=max_len),
            (ir.Binding(name, ir.Map(ir.Lambda(("t",), body), ("tokens",)), "cat"),),
            (name,),
        )
        exhaustive, length = _exhaustive(vocab, max_len, options.exhaustive_limit)
        rng = random.Random(options.seed)
        samples = [[rng.choice(vocab) for _ in range(max_len)] for _ in range(options.samples)]
        groups = [
            (CheckedInputs("exhaustive", "exhaustive", 0, 0, max_length=length), exhaustive),
            (CheckedInputs("samples", "samples", 0, 0, seed=options.seed), samples),
        ]
        checks, disagreements = [], []
        for group, inputs in groups:
            got = interpret(program, inputs).outputs()[name] if inputs else []
            for tokens, row in zip(inputs, got, strict=True):
                disagreements += [
                    Disagreement(tuple(tokens), i, table["map"][t], g)
                    for i, (t, g) in enumerate(zip(tokens, row, strict=True))
                    if table["map"][t] != g
                ]
            positions = sum(len(x) for x in inputs)
            checks.append(replace(group, inputs=len(inputs), positions=positions))
        certificate = make_certificate(
            self.name,
            LiftedSource.of(source, sha256_of_path(source)),
            format_program(program),
            "the table's output and the program's at every position",
            checks,
            disagreements,
        )
        return Lifted(program, certificate.check())


def _read(source: Path) -> dict[str, Any]:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RaspError.single("file", f"cannot read {source}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("map"), dict) or not data["map"]:
        raise RaspError.single("tokenmap", f'{source}: expected a non-empty "map" object')
    return data


def _exhaustive(
    vocab: tuple[Value, ...], max_len: int, limit: int
) -> tuple[list[list[Value]], int]:
    """Every input of length 1..L, L the longest with at most ``limit`` inputs in all."""
    found: list[list[Value]] = []
    length = 0
    for n in range(1, max_len + 1):
        if len(found) + len(vocab) ** n > limit:
            break
        found.extend(list(x) for x in itertools.product(vocab, repeat=n))
        length = n
    return found, length


FRONTEND = TokenMapFrontend()
