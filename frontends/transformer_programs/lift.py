"""Lifting: a trained Transformer Program in, the IR program that is exactly its argmax model
out (a :class:`~rasp_ir.frontend.Lifted`), with a certificate of the inputs on which the two
were run and compared.

Heads become ``select_closest``/``aggregate`` (categorical) and ``select`` with
``selector_width`` or a ``sum`` aggregate (numerical); MLPs become tables over the exact
reachable input sets that value-set inference gives (numerical inputs over their whole count
range, §17 M2); the readout is the learned linear vote written as exact decimals of its float32
weights inside ``argmax`` (pooled over every position in a ``pooled_vote`` when the model pools,
compared with the model at ``<s>``, where its label sits). Modules that cannot change the
output are pruned; MLPs that are constant on their reachable inputs become constants. The
program is built as IR values (with comments for people), checked and run by the reference
interpreter; any disagreement with the model fails the lift, listing the inputs.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rasp_ir.api import (
    CheckedInputs,
    Disagreement,
    Executable,
    Lifted,
    LiftedSource,
    RaspError,
    ValueSetMemo,
    check_program,
    eliminate_dead_code,
    format_program,
    infer_value_sets,
    ir,
    live_names,
    make_certificate,
    parse_program,
)

from . import checkpoint
from .bindings import ValueSets, head_bindings, mlp_binding
from .config import BOS, PAD, ModelConfig
from .model import TransformerProgram
from .population_folder import member_checkpoint
from .readout import Readout, readout_exact
from .structure import Head, Mlp, embedding_name, variables, with_encodings

FRONTEND_NAME = "transformer_programs"
OUTPUT = "prediction"
COMPARED = (
    "the argmax model's class and the program's output at every position of every input "
    "(BOS included)"
)
COMPARED_POOLED = (
    "the argmax model's class and the program's output at <s> (position 0, where the pooled "
    "readout puts the label) of every input"
)


# ---------------------------------------------------------------- the argmax structure


def heads_of(model: TransformerProgram) -> list[Head]:
    """Every attention head of the argmax model, in stream order."""
    heads = []
    for index in range(model.config.n_layers):
        layer = model.layer(index)
        for kind, count in (("cat", model.config.n_heads_cat), ("num", model.config.n_heads_num)):
            prefix = "cat" if kind == "cat" else "num"
            for slot in range(count):
                heads.append(
                    Head(
                        kind,  # type: ignore[arg-type]
                        index,
                        slot,
                        int(getattr(layer, f"{prefix}_query")[slot].argmax()),
                        int(getattr(layer, f"{prefix}_key")[slot].argmax()),
                        int(getattr(layer, f"{prefix}_value")[slot].argmax()),
                        tuple(
                            int(i) for i in getattr(layer, f"{prefix}_predicate")[slot].argmax(-1)
                        ),
                    )
                )
    return heads


def mlps_of(model: TransformerProgram) -> list[Mlp]:
    """Every MLP of the argmax model, in stream order."""
    mlps = []
    for index in range(model.config.n_layers):
        layer = model.layer(index)
        for slot in range(model.config.n_cat_mlps):
            reads = layer.mlp_read[slot].argmax(-1)
            mlps.append(Mlp("cat", index, slot, (int(reads[0]), int(reads[1]))))
        for slot in range(model.config.n_num_mlps):
            reads = layer.num_mlp_read[slot].argmax(-1)
            mlps.append(Mlp("num", index, slot, (int(reads[0]), int(reads[1]))))
    return mlps


# ---------------------------------------------------------------- the header


def lifted_header(config: ModelConfig) -> ir.Header:
    """``%vocab`` (the content tokens), ``%max_len``, ``%bos`` and ``%causal``."""
    return ir.Header(tuple(content_vocab(config)), config.n_ctx - 1, BOS, config.causal)


def header_comment(config: ModelConfig, task: str | None) -> str:
    """The comment printed above the header: where the program comes from and what it is."""
    about = f"task {task}, " if task else ""
    return (
        f"Lifted by 'rasp tp lift' from a Transformer Program ({about}N = {config.n_ctx}, "
        f"k = {config.d_var}, {config.n_layers} layers).\n"
        "This is exactly the argmax model: heads, MLP tables and readout weights are read off\n"
        "the trained parameters, and the certificate beside this file lists the inputs on\n"
        "which program and model were run and agree."
    )


# ---------------------------------------------------------------- the whole program


ONES = ir.Binding(
    "ones", ir.Full(1), "num", comment="ones: 1 at every position (what numerical heads count)"
)


@dataclass(frozen=True)
class LiftedModel:
    """The (not yet certified) program of an argmax model and what lifting did."""

    program: ir.Program
    pruned: tuple[str, ...]
    constant_mlps: tuple[str, ...]
    readout_exact_float64: bool

    def details(self) -> dict[str, Any]:
        """What lifting did, as the certificate's ``lifting`` details."""
        return {
            "pruned": list(self.pruned),
            "constant_mlps": list(self.constant_mlps),
            "readout_exact_float64": self.readout_exact_float64,
        }


def lift_model(model: TransformerProgram, task: str | None = None) -> LiftedModel:
    """The program of the argmax ``model``, pruned to what its output depends on (not yet
    certified)."""
    config = model.config
    heads, mlps = heads_of(model), mlps_of(model)
    cat, num = variables(config)
    cat = with_encodings(cat, heads)
    header = lifted_header(config)
    bindings = [ONES, *embedding_bindings(model)]
    modules: list[str] = []
    memo = ValueSetMemo()
    for layer in range(config.n_layers):
        sets = _value_sets(header, bindings, memo)
        for head in (h for h in heads if h.layer == layer):
            bindings += head_bindings(head, cat, num, sets, config.vocab)
            modules.append(head.name)
        sets = _value_sets(header, bindings, memo)
        for mlp in (m for m in mlps if m.layer == layer):
            bindings.append(mlp_binding(model, mlp, cat, num, sets))
            modules.append(mlp.name)
    sets = _value_sets(header, bindings, memo)
    readout = Readout.from_model(model, cat, num, sets)
    if config.pool_outputs:
        bindings += readout.pooled_bindings(OUTPUT)
    else:
        bindings.append(readout.binding(OUTPUT))
    full = ir.Program(header, tuple(bindings), (OUTPUT,), comment=header_comment(config, task))
    program = eliminate_dead_code(full)
    live = live_names(program)
    constants = [b.name for b in bindings if isinstance(b.node, ir.Full) and b.name in live]
    return LiftedModel(
        program,
        pruned=tuple(name for name in modules if name not in live),
        constant_mlps=tuple(sorted(set(constants) - {ONES.name})),
        readout_exact_float64=readout_exact(model, cat, num, sets),
    )


def embedding_bindings(model: TransformerProgram) -> list[ir.Binding]:
    """The factored embedding's chunks (none for one-hot tokens): ``embedding_j`` is the
    cluster (0..k-1) the argmax model gives each input token (``<s>`` included) in chunk j, a
    lookup table of ``tokens``."""
    config = model.config
    if not config.embedding_chunks:
        return []
    clusters = model.embedding.detach().argmax(-1).tolist()
    words = [(i, w) for i, w in enumerate(config.vocab) if w != PAD]
    bindings = []
    for chunk in range(config.embedding_chunks):
        entries = tuple(((word,), int(clusters[i][chunk])) for i, word in words)
        body = ir.Lookup((ir.Param("token"),), entries)
        node = ir.Map(ir.Lambda(("token",), body), ("tokens",))
        comment = (
            f"{embedding_name(chunk)}: chunk {chunk} of the factored embedding, the learned "
            f"cluster (0..{config.d_var - 1}) of each word"
        )
        bindings.append(ir.Binding(embedding_name(chunk), node, "cat", comment=comment))
    return bindings


def _value_sets(header: ir.Header, bindings: Sequence[ir.Binding], memo: ValueSetMemo) -> ValueSets:
    """The value set of every binding so far; ``memo`` keeps the earlier bindings' sets, so
    each binding is inferred once over the whole lift."""
    return infer_value_sets(ir.Program(header, tuple(bindings), ()), memo).sets


# ---------------------------------------------------------------- certification


def content_vocab(config: ModelConfig) -> list[str]:
    """The tokens an input may hold after ``<s>``."""
    return [t for t in config.vocab if t not in (PAD, BOS)]


def exhaustive_inputs(config: ModelConfig, limit: int) -> tuple[list[list[str]], int]:
    """Every content sequence of length 1..L, L the largest with at most ``limit`` in all."""
    tokens = content_vocab(config)
    inputs: list[list[str]] = []
    length = 0
    for n in range(1, config.n_ctx):
        if len(inputs) + len(tokens) ** n > limit:
            break
        inputs.extend(list(p) for p in itertools.product(tokens, repeat=n))
        length = n
    return inputs, length


def fuzz_inputs(config: ModelConfig, count: int, seed: int) -> list[list[str]]:
    """Random content sequences of random lengths 1..N-1 (seeded)."""
    rng = random.Random(seed)
    tokens = content_vocab(config)
    return [
        [rng.choice(tokens) for _ in range(rng.randint(1, config.n_ctx - 1))] for _ in range(count)
    ]


def model_predictions(
    model: TransformerProgram, inputs: Sequence[Sequence[str]]
) -> list[list[str]]:
    """The argmax model's class at every position (``<s>`` prepended) of each input; for a
    pooled readout, its label (the class at ``<s>``) at every position, as the pooled program
    gives it."""
    index = {t: i for i, t in enumerate(model.config.vocab)}
    width = max(len(x) for x in inputs) + 1
    encoded = np.zeros((len(inputs), width), dtype=np.int64)
    for row, tokens in enumerate(inputs):
        encoded[row, : len(tokens) + 1] = [index[BOS], *(index[t] for t in tokens)]
    predicted = model.predict(torch.from_numpy(encoded)).numpy()
    if model.config.pool_outputs:
        predicted = np.repeat(predicted[:, :1], width, axis=1)
    classes = model.config.classes
    return [[classes[c] for c in predicted[row, : len(x) + 1]] for row, x in enumerate(inputs)]


def compare(
    model: TransformerProgram,
    program: ir.Program,
    inputs: Sequence[Sequence[str]],
    batch: int = 2048,
    executable: Executable | None = None,
) -> tuple[int, list[Disagreement]]:
    """Positions compared and the disagreements (input, position, model's class as the
    source's value, program's value), in batches of ``batch`` inputs; ``executable``: the
    program ready to run, when the caller already built it (its tables are built once, for
    every batch). A pooled model is compared at position 0 only (its other positions carry no
    label)."""
    runner = executable if executable is not None else Executable(program)
    positions = 1 if model.config.pool_outputs else None
    compared = 0
    found: list[Disagreement] = []
    for start in range(0, len(inputs), batch):
        chunk = list(inputs[start : start + batch])
        if not chunk:
            continue
        expected = model_predictions(model, chunk)
        got = runner(chunk).outputs()[OUTPUT]
        for tokens, full_want, full_have in zip(chunk, expected, got, strict=True):
            want, have = full_want[:positions], full_have[:positions]
            compared += len(want)
            found += [
                Disagreement(tuple(tokens), position, w, h)
                for position, (w, h) in enumerate(zip(want, have, strict=True))
                if w != h
            ]
    return compared, found


@dataclass(frozen=True)
class Checks:
    """Which inputs a certificate covers."""

    test_inputs: list[list[str]]
    exhaustive_limit: int = 5_000
    fuzz: int = 500
    seed: int = 0


def certify(
    model: TransformerProgram,
    program: ir.Program,
    checks: Checks,
    source: LiftedSource,
    details: Mapping[str, Any] | None = None,
) -> Lifted:
    """Check the program, run it against the model on the certificate's inputs; the program
    with its certificate, or a :class:`RaspError` listing the disagreeing inputs unless they
    agree everywhere."""
    checked = check_program(program)
    if checked.errors:
        raise RaspError(checked.diagnostics)
    text = format_program(program)
    if parse_program(text, "<lifted>") != program:
        raise AssertionError("the printed program does not parse back to the lifted one")
    exhaustive, length = exhaustive_inputs(model.config, checks.exhaustive_limit)
    fuzz = fuzz_inputs(model.config, checks.fuzz, checks.seed)
    groups: list[CheckedInputs] = []
    disagreements: list[Disagreement] = []
    executable = Executable(program, value_sets=checked.value_sets)
    for name, selection, inputs in (
        ("test_split", "split", checks.test_inputs),
        ("exhaustive", "exhaustive", exhaustive),
        ("fuzz", "samples", fuzz),
    ):
        compared, found = compare(model, program, inputs, executable=executable)
        groups.append(
            CheckedInputs(
                name,
                selection,  # type: ignore[arg-type]
                len(inputs),
                compared,
                max_length=length if selection == "exhaustive" else None,
                seed=checks.seed if selection == "samples" else None,
            )
        )
        disagreements += found
    certificate = make_certificate(
        FRONTEND_NAME,
        source,
        text,
        COMPARED_POOLED if model.config.pool_outputs else COMPARED,
        groups,
        disagreements,
        details={**(details or {}), "program_lines": len(text.splitlines())},
        versions=checkpoint.versions(),
    )
    return Lifted(program, certificate.check(), printed=text)


def lift(
    model: TransformerProgram,
    checks: Checks,
    task: str | None = None,
    source: LiftedSource | None = None,
) -> Lifted:
    """Lift ``model`` and certify the program on ``checks`` (``source`` says where the model
    comes from; by default, a model in memory, named by its parameters)."""
    model.set_sampling(mode="argmax")
    lifted = lift_model(model, task)
    where = source or in_memory_source(model)
    return certify(model, lifted.program, checks, where, {"lifting": lifted.details()})


def in_memory_source(model: TransformerProgram) -> LiftedSource:
    """The source record of a model that is not on disk: the SHA-256 of its parameters (names
    and bytes, in name order)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return LiftedSource.of("<in-memory model>", digest.hexdigest())


def test_inputs_of(run_dir: Path, config: ModelConfig) -> list[list[str]]:
    """The test split of a run folder as content-token lists (``<s>`` removed)."""
    from .train import load_split

    path = run_dir / "data.safetensors"
    if not path.exists():
        return []
    split = load_split(path, "test")
    return [[config.vocab[int(i)] for i in row if i != 0][1:] for row in split.x]


def run_test_inputs(run_dir: Path) -> list[list[str]]:
    """The test split of a training run folder (a population's, or one of its members'), read
    with the run's own vocabulary."""
    found = member_checkpoint(run_dir, "model", None)
    data = checkpoint.read_sidecar(found.path)
    try:
        config = ModelConfig.from_json(data["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise RaspError.single(
            "checkpoint", f"{found.path.with_suffix('.json')}: invalid model config ({error})"
        ) from None
    if not (found.run_dir / "data.safetensors").exists():
        raise RaspError.single(
            "data",
            f"{found.run_dir} holds no data.safetensors",
            hint="pass the folder 'rasp tp train' wrote",
        )
    return test_inputs_of(found.run_dir, config)


def lift_run(
    run_dir: Path,
    exhaustive_limit: int = 5_000,
    fuzz: int = 500,
    seed: int = 0,
    which: str = "model",
    member: int | None = None,
) -> Lifted:
    """Lift a model of a run folder, certified on its test split and more: ``which`` is
    ``model`` (the final one) or ``best`` (the best-validation epoch's). In a population's
    folder: that checkpoint of the member trained with seed ``member``, or of the member
    validation selected (None); in a member's folder (``RUN_DIR/seed-S``): that member's,
    certified on the population's test split."""
    found = member_checkpoint(run_dir, which, member)
    model, info, _ = checkpoint.load(found.path)
    task = info.meta.get("task")
    checks = Checks(test_inputs_of(found.run_dir, model.config), exhaustive_limit, fuzz, seed)
    weights_sha256 = str(info.meta["sha256"])
    details = {
        "task": task,
        "checkpoint": which,
        "accuracy_argmax": info.meta.get("accuracy_argmax"),
        "weights_sha256": weights_sha256,
    }
    if "epoch" in info.meta:
        details["epoch"] = info.meta["epoch"]
    if found.seed is not None:
        details["member_seed"] = found.seed
    source = LiftedSource.of(found.run_dir, weights_sha256, details)
    return lift(model, checks, task if isinstance(task, str) else None, source)
