"""The whole round trip on one built-in task, on CPU in a few minutes: train a small Transformer
Program, lift it exactly (certified), print the program, emit Python, compile the program back
into weights, compile an edited copy, and check every step; a folder of artifacts and a summary
table out.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import load_backend

from . import checkpoint
from .compile_back import compile_program
from .config import Architecture, TrainConfig
from .lift import OUTPUT, compare, exhaustive_inputs, fuzz_inputs, lift_run, model_predictions
from .train import train

# A configuration that trains to (near) 100% on hist in about a minute of CPU time.
DEMO_TASK = "hist"
DEMO_ARCHITECTURE = Architecture(
    n_layers=1, n_heads_cat=0, n_heads_num=2, n_cat_mlps=0, n_num_mlps=1
)
DEMO_TRAINING = TrainConfig(epochs=40, batch_size=128, lr=0.05, seed=0, dataset_size=3000)


@dataclass
class DemoReport:
    """One row per step: what was done, the outcome, seconds."""

    rows: list[tuple[str, str, float]] = field(default_factory=list)

    def step(self, name: str, action: Callable[[], str]) -> None:
        began = time.perf_counter()
        outcome = action()
        self.rows.append((name, outcome, time.perf_counter() - began))

    def table(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [f"| {'step':<{width}} | outcome | seconds |", f"|{'-' * (width + 2)}|---|---:|"]
        lines += [f"| {n:<{width}} | {o} | {s:.1f} |" for n, o, s in self.rows]
        return "\n".join(lines)


def edit_program(text: str) -> tuple[str, str]:
    """A user edit of a lifted program: the first MLP table's default changes to another value,
    else the first head comparing a variable with itself gets the predicate ``==``.
    Returns (text, what changed)."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.lstrip().startswith("}") and "}, default=" in line:
            old = line.rsplit("default=", 1)[1].split(")", 1)[0]
            if old.isdigit():
                new = str((int(old) + 1) % 8)
                lines[number] = line.replace(f"default={old})", f"default={new})")
                return "\n".join(lines) + "\n", f"MLP table default {old} -> {new}"
    marker = "fn(key, query) -> "
    for number, line in enumerate(lines):
        head = line.split(" ", 1)[0]
        if not head.startswith(("attn_", "num_attn_")) or marker not in line:
            continue
        start = line.index(marker)
        found = re.search(r"select(?:_closest)?\((\w+), (\w+), ", line)
        if found is None or found.group(1) != found.group(2):
            continue
        depth, end = 0, start
        while depth >= 0:
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            end += 1
        lines[number] = line[:start] + "==" + line[end - 1 :]
        return "\n".join(lines) + "\n", f"{head}: predicate -> key == query"
    return text, "nothing to edit"


def run_demo(
    out_dir: Path,
    *,
    epochs: int | None = None,
    seed: int | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the round trip into ``out_dir``; raises :class:`RaspError` when a check fails."""
    # Models this small train fastest on one thread, which other processes competing for the
    # cores also slow down least.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_demo(out_dir, epochs, seed, echo)
    finally:
        torch.set_num_threads(threads)


def _run_demo(
    out_dir: Path, epochs: int | None, seed: int | None, echo: Callable[[str], None]
) -> dict[str, Any]:
    report = DemoReport()
    settings = DEMO_TRAINING
    if epochs is not None or seed is not None:
        settings = TrainConfig(
            epochs=epochs or settings.epochs,
            batch_size=settings.batch_size,
            lr=settings.lr,
            seed=settings.seed if seed is None else seed,
            dataset_size=settings.dataset_size,
        )
    run_dir = out_dir / "run"
    state: dict[str, Any] = {}

    def do_train() -> str:
        result = train(DEMO_TASK, run_dir, DEMO_ARCHITECTURE, settings, progress=True)
        state["train"] = result
        acc = result.accuracy
        return (
            f"argmax accuracy train {acc['train']:.2%}, val {acc['val']:.2%}, "
            f"test {acc['test']:.2%}"
        )

    def do_lift() -> str:
        lifted = lift_run(run_dir, exhaustive_limit=3000, fuzz=300)
        state["lifted"] = lifted
        (out_dir / "program.rasp").write_text(lifted.text, encoding="utf-8")
        (out_dir / "program.certificate.json").write_text(
            json.dumps(lifted.certificate, indent=2) + "\n", encoding="utf-8"
        )
        cert = lifted.certificate
        return (
            f"{cert['program_lines']} lines; agreement {cert['agreement']:.0%} on "
            f"{cert['positions_compared']} positions"
        )

    def do_python() -> str:
        try:
            backend = load_backend("python")
        except RaspError:
            return "skipped: the python backend is not installed yet"
        program = state["lifted"].program
        source = str(backend.lower(program))
        (out_dir / "program.py").write_text(source, encoding="utf-8")
        original, _, _ = checkpoint.load(run_dir / "model")
        original.set_sampling(mode="argmax")
        inputs = _checked_inputs(state["lifted"].certificate, original)
        lines = len(source.splitlines())
        try:
            emitted = backend.runner(program, source)(inputs)[OUTPUT]
        except Exception as error:  # a bug in the backend must not hide the rest of the demo
            return f"program.py ({lines} lines) written; running it failed: {error!r}"
        if emitted != model_predictions(original, inputs):
            raise RaspError.single("demo", "the emitted Python disagrees with the model")
        return f"program.py ({lines} lines) = model on {len(inputs)} inputs"

    def do_compile() -> str:
        original, _, _ = checkpoint.load(run_dir / "model")
        original.set_sampling(mode="argmax")
        compiled = compile_program(state["lifted"].program)
        checkpoint.save(out_dir / "compiled" / "model", compiled, {"compiled_from": "program.rasp"})
        inputs = _checked_inputs(state["lifted"].certificate, compiled)
        same = model_predictions(original, inputs) == model_predictions(compiled, inputs)
        if not same:
            raise RaspError.single(
                "demo", "the compiled model's predictions differ from the original"
            )
        return f"identical predictions to the trained model on {len(inputs)} inputs"

    def do_edit() -> str:
        edited, what = edit_program(state["lifted"].text)
        program = load_program(text=edited, path="edited.rasp").program
        (out_dir / "edited.rasp").write_text(edited, encoding="utf-8")
        compiled = compile_program(program)
        inputs = _checked_inputs(state["lifted"].certificate, compiled)
        _, found = compare(compiled, program, inputs)
        if found:
            raise RaspError.single("demo", f"the edited program's model disagrees at {found[:3]}")
        return f"{what}; compiled model = edited program on {len(inputs)} inputs"

    report.step("train", do_train)
    report.step("lift + certify", do_lift)
    echo(state["lifted"].text)
    report.step("python backend", do_python)
    report.step("compile back", do_compile)
    report.step("edit + compile", do_edit)
    table = report.table()
    echo(table)
    (out_dir / "summary.md").write_text(table + "\n", encoding="utf-8")
    return {"rows": report.rows, "certificate": state["lifted"].certificate}


def _checked_inputs(certificate: dict[str, Any], model: Any) -> list[list[str]]:
    config = model.config
    exhaustive, _ = exhaustive_inputs(config, certificate["inputs"]["exhaustive"]["inputs"])
    return exhaustive + fuzz_inputs(config, certificate["inputs"]["fuzz"]["inputs"], 1)
