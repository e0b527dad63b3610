"""Lifting: a trained Transformer Program in, IR text that is exactly its argmax model out,
with a certificate of the inputs on which the two were run and compared.

Heads become ``select_closest``/``aggregate`` (categorical) and ``select`` with
``selector_width`` or a ``sum`` aggregate (numerical); MLPs become tables over the exact
reachable input sets that value-set inference gives (numerical inputs over their whole count
range, §17 M2); the readout is the learned linear vote written as exact decimals of its float32
weights inside ``argmax``. Modules that cannot change the output are pruned; MLPs that are
constant on their reachable inputs become constants. The program is parsed, checked and run by
the reference interpreter; any disagreement with the model fails the lift, listing the inputs.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rasp_ir import ir
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import interpret
from rasp_ir.syntax import parse_program
from rasp_ir.values import Value, format_value, same_value, value_key
from rasp_ir.valuesets import infer_value_sets

from . import checkpoint
from .config import BOS, PAD, ModelConfig
from .model import TransformerProgram, mlp_logits
from .readout import Readout, readout_exact
from .structure import Head, Mlp, Variable, variables, with_encodings
from .tables import table_expression

CERTIFICATE_FORMAT = "rasp-ir/tp-certificate"
OUTPUT = "prediction"
SHOWN_DISAGREEMENTS = 10


@dataclass(frozen=True)
class LiftResult:
    """The lifted program (text and checked IR) and its certificate."""

    text: str
    program: ir.Program
    certificate: dict[str, Any]


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


def ir_value(variable: Variable, index: int, vocab: Sequence[str]) -> Value:
    """The IR value of a categorical value index (``None`` when no input can carry it)."""
    if variable.encoding == "int":
        return index
    return vocab[index] if 0 < index < len(vocab) else None


def tp_index(variable: Variable, value: Value, vocab: Sequence[str]) -> int:
    """The model's value index of an IR value of a categorical variable."""
    if variable.encoding == "token":
        return list(vocab).index(str(value))
    assert isinstance(value, int)
    return value


# ---------------------------------------------------------------- text of one module


def header_text(config: ModelConfig, task: str | None) -> list[str]:
    """Comment, ``%vocab``, ``%max_len``, ``%bos`` (and ``%causal``) lines."""
    content = [t for t in config.vocab if t not in (PAD, BOS)]
    about = f"task {task}, " if task else ""
    lines = [
        f"# Lifted by 'rasp tp lift' from a Transformer Program ({about}N = {config.n_ctx}, "
        f"k = {config.d_var}, {config.n_layers} layers).",
        "# This is exactly the argmax model: heads, MLP tables and readout weights are read off",
        "# the trained parameters, and the certificate beside this file lists the inputs on",
        "# which program and model were run and agree.",
        "",
        "%vocab {" + ", ".join(format_value(t) for t in content) + "}",
        f"%max_len {config.n_ctx - 1}",
        f"%bos {format_value(BOS)}",
    ]
    if config.causal:
        lines.append("%causal")
    return lines


def predicate_text(
    head: Head,
    key: Variable,
    query: Variable,
    key_values: Sequence[Value],
    query_values: Sequence[Value],
    vocab: Sequence[str],
) -> str:
    """The simplest predicate that agrees with ``key == f(query)`` on every reachable pair:
    ``==``, ``key == query + d``, or ``key == lookup(query, {...}, default=most common)``."""
    targets = {
        _key(q): ir_value(key, head.predicate[tp_index(query, q, vocab)], vocab)
        for q in query_values
    }

    def agrees(rule: Any) -> bool:
        for q in query_values:
            target = targets[_key(q)]
            for k in key_values:
                wanted = target is not None and same_value(k, target)
                if rule(k, q) != wanted:
                    return False
        return True

    if agrees(same_value):
        return "=="
    numbers = all(isinstance(v, int) for v in (*key_values, *query_values))
    if numbers:
        span = max((abs(int(v)) for v in (*key_values, *query_values)), default=0) + 1  # type: ignore[arg-type]
        for d in sorted(range(-span, span + 1), key=abs):
            if d and agrees(lambda k, q, d=d: k == q + d):
                sign = "+" if d > 0 else "-"
                return f"fn(key, query) -> key == query {sign} {abs(d)}"
    return _lookup_predicate(targets, query_values, set(map(_key, key_values)))


def _lookup_predicate(
    targets: dict[tuple[int, object], Value], query_values: Sequence[Value], reachable: set[Any]
) -> str:
    """``key == lookup(query, {exceptions}, default=d)``, d the most common target, or the
    query itself when that needs fewer exceptions. Targets no key can hold print as none."""
    shown = {q: t if t is not None and _key(t) in reachable else None for q, t in targets.items()}
    counts = Counter(_key(t) for t in shown.values() if t is not None)
    default: Value = None
    if counts:
        best = max(counts.values())
        default = next(t for t in shown.values() if t is not None and counts[_key(t)] == best)
    same = [q for q in query_values if shown[_key(q)] is not None and same_value(shown[_key(q)], q)]
    by_query = len(same) > max(counts.values(), default=0)

    def fallback(q: Value) -> Value:
        return q if by_query else default

    entries = [
        f"{format_value(q)}: {format_value(shown[_key(q)])}"
        for q in query_values
        if shown[_key(q)] is None or not same_value(shown[_key(q)], fallback(q))
    ]
    default_text = "query" if by_query else format_value(default)
    if not entries:
        return f"fn(key, query) -> key == {default_text}"
    table = "{" + ", ".join(entries) + "}"
    return f"fn(key, query) -> key == lookup(query, {table}, default={default_text})"


def _key(v: Value) -> tuple[int, object]:
    return value_key(v)


def head_text(
    head: Head,
    cat: list[Variable],
    num: list[Variable],
    sets: dict[str, tuple[Value, ...]],
    vocab: Sequence[str],
) -> str:
    """The binding of one head (a comment line, then the statement)."""
    key, query = cat[head.key], cat[head.query]
    predicate = predicate_text(head, key, query, sets[key.name], sets[query.name], vocab)
    if head.kind == "cat":
        value = cat[head.value]
        comment = (
            f"# {head.name}: nearest {key.name} key matching {query.name}; copies {value.name}"
        )
        select = f"select_closest({key.name}, {query.name}, {predicate})"
        return f"{comment}\n{head.name} = aggregate({select}, {value.name});"
    value = num[head.value]
    select = f"select({key.name}, {query.name}, {predicate})"
    if value.name == "ones":
        comment = f"# {head.name}: counts {key.name} keys matching {query.name}"
        return f"{comment}\n{head.name} : num = selector_width({select});"
    comment = f"# {head.name}: sums {value.name} over {key.name} keys matching {query.name}"
    return f"{comment}\n{head.name} : num = aggregate({select}, {value.name}, reduce=sum);"


def mlp_outputs(
    model: TransformerProgram,
    mlp: Mlp,
    inputs: Sequence[tuple[Value, ...]],
    variables_read: tuple[Variable, Variable],
    vocab: Sequence[str],
) -> list[int]:
    """The argmax MLP's output index on each input pair (computed as the model does, float64)."""
    layer = model.layer(mlp.layer)
    k = model.config.d_var
    if mlp.kind == "cat":
        u = torch.zeros(len(inputs), 1, 2 * k, dtype=torch.float64)
        for row, pair in enumerate(inputs):
            for slot, (variable, value) in enumerate(zip(variables_read, pair, strict=True)):
                u[row, 0, slot * k + tp_index(variable, value, vocab)] = 1.0
        names = ("mlp_w_in", "mlp_b_in", "mlp_w_out", "mlp_b_out")
    else:
        u = torch.tensor([[[_as_float(v) for v in pair]] for pair in inputs], dtype=torch.float64)
        names = ("num_mlp_w_in", "num_mlp_b_in", "num_mlp_w_out", "num_mlp_b_out")
    weights = [getattr(layer, n)[mlp.slot : mlp.slot + 1].detach().double() for n in names]
    with torch.no_grad():
        logits = mlp_logits(u, *weights)
    return [int(i) for i in logits[:, 0].argmax(-1)]


def _as_float(v: Value) -> float:
    assert isinstance(v, (int, Fraction))
    return float(v)


def mlp_text(
    model: TransformerProgram,
    mlp: Mlp,
    cat: list[Variable],
    num: list[Variable],
    sets: dict[str, tuple[Value, ...]],
) -> tuple[str, bool]:
    """The binding of one MLP and whether it is constant on its reachable inputs."""
    stream = cat if mlp.kind == "cat" else num
    a, b = stream[mlp.reads[0]], stream[mlp.reads[1]]
    vocab = model.config.vocab
    if a.name == b.name:
        pairs = [(v, v) for v in sets[a.name]]
        keys: list[tuple[Value, ...]] = [(v,) for v in sets[a.name]]
        params, inputs = [a.param], [a.name]
    else:
        pairs = list(itertools.product(sets[a.name], sets[b.name]))
        keys = [tuple(p) for p in pairs]
        params, inputs = [a.param, b.param], [a.name, b.name]
    outputs = mlp_outputs(model, mlp, pairs, (a, b), vocab)
    reads = " and ".join(dict.fromkeys(inputs))
    if len(set(outputs)) == 1:
        comment = f"# {mlp.name}: the same value on every reachable input"
        return f"{comment}\n{mlp.name} = {outputs[0]};", True
    table = dict(zip(keys, outputs, strict=True))
    axes = [list(sets[name]) for name in dict.fromkeys(inputs)]
    body = table_expression(params, axes, table, numeric=mlp.kind == "num")
    comment = f"# {mlp.name}: a table over every reachable value of {reads}"
    fn = f"fn({', '.join(params)}) -> {body}"
    return f"{comment}\n{mlp.name} = map({fn}, {', '.join(inputs)});", False


# ---------------------------------------------------------------- the whole program


def _value_sets(lines: list[str], last: str) -> dict[str, tuple[Value, ...]]:
    program = parse_program("\n".join([*lines, f"output {last};"]), "<lift>")
    return infer_value_sets(program).sets


def lift_model(model: TransformerProgram, task: str | None = None) -> tuple[str, dict[str, Any]]:
    """The program text of the argmax ``model`` and what was pruned (not yet certified)."""
    config = model.config
    heads, mlps = heads_of(model), mlps_of(model)
    cat, num = variables(config)
    cat = with_encodings(cat, heads)
    header = header_text(config, task)
    texts = {"ones": "# ones: 1 at every position (what numerical heads count)\nones : num = 1;"}
    constants: set[str] = set()
    reads: dict[str, set[str]] = {"ones": set()}
    for layer in range(config.n_layers):
        layer_heads = [h for h in heads if h.layer == layer]
        sets = _value_sets([*header, *texts.values()], "tokens")
        for head in layer_heads:
            texts[head.name] = head_text(head, cat, num, sets, config.vocab)
            value = (cat if head.kind == "cat" else num)[head.value]
            # a head counting `ones` is written as selector_width: it reads only its selector
            counted = {value.name} - {"ones"}
            reads[head.name] = {cat[head.key].name, cat[head.query].name, *counted}
        sets = _value_sets([*header, *texts.values()], "tokens")
        for mlp in (m for m in mlps if m.layer == layer):
            text, constant = mlp_text(model, mlp, cat, num, sets)
            texts[mlp.name] = text
            stream = cat if mlp.kind == "cat" else num
            reads[mlp.name] = set() if constant else {stream[i].name for i in mlp.reads}
            if constant:
                constants.add(mlp.name)
    sets = _value_sets([*header, *texts.values()], "tokens")
    readout = Readout.from_model(model, cat, num, sets)
    live = _live(readout.relevant(), reads)
    pruned = [name for name in texts if name not in live and name != "ones"]
    body = [texts[name] for name in texts if name in live]
    lines = [*header, "", *("\n" + t if i else t for i, t in enumerate(body))]
    lines += ["", readout.text(OUTPUT, live), "", f"output {OUTPUT};", ""]
    info = {
        "pruned": pruned,
        "constant_mlps": sorted(constants & live),
        "readout_exact_float64": readout_exact(model, cat, num, sets),
    }
    return "\n".join(lines), info


def _live(relevant: set[str], reads: dict[str, set[str]]) -> set[str]:
    live = set(relevant)
    for name in reversed(list(reads)):
        if name in live:
            live |= reads[name]
    return live


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
    """The argmax model's class at every position (``<s>`` prepended) of each input."""
    index = {t: i for i, t in enumerate(model.config.vocab)}
    width = max(len(x) for x in inputs) + 1
    encoded = np.zeros((len(inputs), width), dtype=np.int64)
    for row, tokens in enumerate(inputs):
        encoded[row, : len(tokens) + 1] = [index[BOS], *(index[t] for t in tokens)]
    predicted = model.predict(torch.from_numpy(encoded)).numpy()
    classes = model.config.classes
    return [[classes[c] for c in predicted[row, : len(x) + 1]] for row, x in enumerate(inputs)]


def compare(
    model: TransformerProgram,
    program: ir.Program,
    inputs: Sequence[Sequence[str]],
    batch: int = 2048,
) -> tuple[int, list[dict[str, Any]]]:
    """Positions compared and the disagreements (input, position, model, program)."""
    sets = infer_value_sets(program)
    compared = 0
    found: list[dict[str, Any]] = []
    for start in range(0, len(inputs), batch):
        chunk = list(inputs[start : start + batch])
        if not chunk:
            continue
        expected = model_predictions(model, chunk)
        got = interpret(program, chunk, value_sets=sets).outputs()[OUTPUT]
        for tokens, want, have in zip(chunk, expected, got, strict=True):
            compared += len(want)
            for position, (w, h) in enumerate(zip(want, have, strict=True)):
                if w != h:
                    found.append(
                        {"input": list(tokens), "position": position, "model": w, "program": h}
                    )
    return compared, found


@dataclass(frozen=True)
class Checks:
    """Which inputs a certificate covers."""

    test_inputs: list[list[str]]
    exhaustive_limit: int = 5_000
    fuzz: int = 500
    seed: int = 0


def certify(
    model: TransformerProgram, text: str, checks: Checks, source: dict[str, Any]
) -> tuple[ir.Program, dict[str, Any]]:
    """Check the program text, run it against the model on the certificate's inputs; a
    :class:`RaspError` listing the disagreeing inputs unless they agree everywhere."""
    program = load_program(text=text, path="<lifted>").program
    exhaustive, length = exhaustive_inputs(model.config, checks.exhaustive_limit)
    fuzz = fuzz_inputs(model.config, checks.fuzz, checks.seed)
    groups = {"test_split": checks.test_inputs, "exhaustive": exhaustive, "fuzz": fuzz}
    counts: dict[str, Any] = {}
    disagreements: list[dict[str, Any]] = []
    total = 0
    for name, inputs in groups.items():
        compared, found = compare(model, program, inputs)
        counts[name] = {"inputs": len(inputs), "positions": compared}
        total += compared
        disagreements += found
    counts["exhaustive"]["max_length"] = length
    counts["fuzz"]["seed"] = checks.seed
    certificate = {
        "format": CERTIFICATE_FORMAT,
        "format_version": 1,
        "program_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "source": source,
        "compared": "the argmax model's class and the program's output at every position of "
        "every input (BOS included)",
        "inputs": counts,
        "positions_compared": total,
        "agreement": 1.0 - len(disagreements) / max(total, 1),
        "disagreements": disagreements[:SHOWN_DISAGREEMENTS],
        "versions": checkpoint.versions(),
    }
    if disagreements:
        shown = "; ".join(
            f"{' '.join(d['input'])} @ {d['position']}: model {d['model']}, program {d['program']}"
            for d in disagreements[:SHOWN_DISAGREEMENTS]
        )
        raise RaspError.single(
            "lift-disagreement",
            f"the lifted program disagrees with the model at {len(disagreements)} of {total} "
            f"positions: {shown}",
            hint="this is a bug in lifting; please report it with the run folder",
        )
    return program, certificate


def lift(
    model: TransformerProgram,
    checks: Checks,
    task: str | None = None,
    source: dict[str, Any] | None = None,
) -> LiftResult:
    """Lift ``model`` and certify the program on ``checks``."""
    model.set_sampling(mode="argmax")
    text, info = lift_model(model, task)
    program, certificate = certify(model, text, checks, source or {})
    certificate["lifting"] = info
    certificate["program_lines"] = len(text.splitlines())
    return LiftResult(text, program, certificate)


def test_inputs_of(run_dir: Path, config: ModelConfig) -> list[list[str]]:
    """The test split of a run folder as content-token lists (``<s>`` removed)."""
    from .train import load_split

    path = run_dir / "data.safetensors"
    if not path.exists():
        return []
    split = load_split(path, "test")
    return [[config.vocab[int(i)] for i in row if i != 0][1:] for row in split.x]


def lift_run(
    run_dir: Path,
    exhaustive_limit: int = 5_000,
    fuzz: int = 500,
    seed: int = 0,
    which: str = "model",
) -> LiftResult:
    """Lift a model of a run folder, certified on its test split and more: ``which`` is
    ``model`` (the final one) or ``best`` (the best-validation epoch's)."""
    model, info, _ = checkpoint.load(run_dir / which)
    task = info.meta.get("task")
    checks = Checks(test_inputs_of(run_dir, model.config), exhaustive_limit, fuzz, seed)
    source = {
        "run_dir": str(run_dir),
        "checkpoint": which,
        "task": task,
        "weights_sha256": info.meta.get("sha256"),
        "accuracy_argmax": info.meta.get("accuracy_argmax"),
    }
    if "epoch" in info.meta:
        source["epoch"] = info.meta["epoch"]
    return lift(model, checks, task if isinstance(task, str) else None, source)
