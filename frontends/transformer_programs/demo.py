"""The whole round trip on one built-in task, on CPU in a few minutes: train a small Transformer
Program, lift it exactly (certified), print the program, emit Python, compile the program back
into weights, compile an edited copy, and check every step; a folder of artifacts and a summary
table out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from rasp_ir.api import (
    Certificate,
    Lifted,
    RaspError,
    format_program,
    ir,
    load_backend,
    load_program,
    write_text_atomically,
)

from . import checkpoint
from .compile_back import compile_program
from .config import Architecture, TrainConfig
from .lift import OUTPUT, compare, exhaustive_inputs, fuzz_inputs, lift_run, model_predictions
from .model import TransformerProgram
from .train import train

# A configuration that trains to (near) 100% on hist in about a minute of CPU time.
DEMO_TASK = "hist"
DEMO_ARCHITECTURE = Architecture(
    n_layers=1, n_heads_cat=0, n_heads_num=2, n_cat_mlps=0, n_num_mlps=1
)
DEMO_TRAINING = TrainConfig(epochs=40, batch_size=128, lr=0.05, seed=0, dataset_size=3000)
# The default of a lifted table, ``}, default=3)``, as it prints at the end of a lookup.


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


def edit_program(program: ir.Program) -> tuple[ir.Program, str]:
    """A user edit of a lifted program, made on the IR as a person would make it in the text:
    the first MLP table with a whole-number default gets another default, else the first head
    selecting a variable against itself gets the predicate ``==``. Returns the edited program
    (the same one when neither applies) and what changed."""
    for binding in program.bindings:
        edited = _table_default_edit(binding)
        if edited is not None:
            node, what = edited
            return _with_node(program, binding.name, node), f"{binding.name}: {what}"
    for binding in program.bindings:
        selector = _self_comparison(program, binding)
        if selector is not None:
            name, node = selector
            edited_program = _with_node(program, name, replace(node, predicate=ir.Comparison("==")))
            return edited_program, f"{binding.name}: predicate -> key == query"
    return program, "nothing to edit"


def _with_node(program: ir.Program, name: str, node: ir.Node) -> ir.Program:
    bindings = tuple(replace(b, node=node) if b.name == name else b for b in program.bindings)
    return replace(program, bindings=bindings)


def _table_default_edit(binding: ir.Binding) -> tuple[ir.Node, str] | None:
    """An MLP's map whose table (a ``lookup``) has a whole-number default, with that default
    changed; None for any other binding."""
    node = binding.node
    if not binding.name.startswith(("mlp_", "num_mlp_")) or not isinstance(node, ir.Map):
        return None
    body = node.fn.body
    if not isinstance(body, ir.Lookup) or not isinstance(body.default, ir.Const):
        return None
    old = body.default.value
    if not isinstance(old, int) or isinstance(old, bool):
        return None
    new = (old + 1) % 8
    fn = replace(node.fn, body=replace(body, default=ir.Const(new)))
    return replace(node, fn=fn), f"table default {old} -> {new}"


def _self_comparison(
    program: ir.Program, binding: ir.Binding
) -> tuple[str, ir.Select | ir.SelectClosest] | None:
    """The selector (name and node) of a head that compares a variable with itself by a
    function (not already ``==``); None for any other binding."""
    node = binding.node
    if not binding.name.startswith(("attn_", "num_attn_")):
        return None
    if not isinstance(node, (ir.Aggregate, ir.SelectorWidth)):
        return None
    selector = program.binding(node.selector)
    chosen = selector.node
    if not isinstance(chosen, (ir.Select, ir.SelectClosest)) or chosen.keys != chosen.queries:
        return None
    return (selector.name, chosen) if isinstance(chosen.predicate, ir.Lambda) else None


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
    settings = DEMO_TRAINING
    if epochs is not None or seed is not None:
        settings = replace(
            settings,
            epochs=epochs or settings.epochs,
            seed=settings.seed if seed is None else seed,
        )
    demo = _Demo(out_dir, settings)
    report = DemoReport()
    report.step("train", demo.train)
    report.step("lift + certify", demo.lift)
    echo(demo.lifted.text)
    report.step("python backend", demo.python)
    report.step("compile back", demo.compile)
    report.step("edit + compile", demo.edit)
    table = report.table()
    echo(table)
    write_text_atomically(out_dir / "summary.md", table + "\n")
    return {"rows": report.rows, "certificate": demo.lifted.certificate}


class _Demo:
    """The steps of the demo; each returns its outcome in words or raises
    :class:`RaspError`."""

    def __init__(self, out_dir: Path, settings: TrainConfig) -> None:
        self.out_dir = out_dir
        self.run_dir = out_dir / "run"
        self.settings = settings
        self._lifted: Lifted | None = None

    @property
    def lifted(self) -> Lifted:
        """The lifted program (after the lift step)."""
        assert self._lifted is not None, "the lift step has not run"
        return self._lifted

    def train(self) -> str:
        result = train(DEMO_TASK, self.run_dir, DEMO_ARCHITECTURE, self.settings, progress=True)
        acc = result.accuracy
        return (
            f"argmax accuracy train {acc['train']:.2%}, val {acc['val']:.2%}, "
            f"test {acc['test']:.2%}"
        )

    def lift(self) -> str:
        lifted = lift_run(self.run_dir, exhaustive_limit=3000, fuzz=300)
        self._lifted = lifted
        text = lifted.text
        write_text_atomically(self.out_dir / "program.rasp", text)
        certificate = lifted.certificate
        certificate.write(self.out_dir / "program.certificate.json")
        return (
            f"{len(text.splitlines())} lines; agreement {certificate.agreement:.0%} on "
            f"{certificate.positions_compared} positions"
        )

    def _original(self) -> TransformerProgram:
        original, _, _ = checkpoint.load(self.run_dir / "model")
        original.set_sampling(mode="argmax")
        return original

    def python(self) -> str:
        try:
            backend = load_backend("python")
        except RaspError:
            return "skipped: the python backend is not installed yet"
        program = self.lifted.program
        source = str(backend.lower(program))
        write_text_atomically(self.out_dir / "program.py", source)
        original = self._original()
        inputs = _checked_inputs(self.lifted.certificate, original)
        lines = len(source.splitlines())
        try:
            emitted = backend.runner(program, source)(inputs)[OUTPUT]
        except Exception as error:  # a bug in the backend must not hide the rest of the demo
            return f"program.py ({lines} lines) written; running it failed: {error!r}"
        if emitted != model_predictions(original, inputs):
            raise RaspError.single("demo", "the emitted Python disagrees with the model")
        return f"program.py ({lines} lines) = model on {len(inputs)} inputs"

    def compile(self) -> str:
        original = self._original()
        compiled = compile_program(self.lifted.program)
        meta = {"compiled_from": "program.rasp"}
        checkpoint.save(self.out_dir / "compiled" / "model", compiled, meta)
        inputs = _checked_inputs(self.lifted.certificate, compiled)
        if model_predictions(original, inputs) != model_predictions(compiled, inputs):
            raise RaspError.single(
                "demo", "the compiled model's predictions differ from the original"
            )
        return f"identical predictions to the trained model on {len(inputs)} inputs"

    def edit(self) -> str:
        edited, what = edit_program(self.lifted.program)
        text = format_program(edited)
        program = load_program(text=text, path="edited.rasp").program
        write_text_atomically(self.out_dir / "edited.rasp", text)
        compiled = compile_program(program)
        inputs = _checked_inputs(self.lifted.certificate, compiled)
        _, found = compare(compiled, program, inputs)
        if found:
            raise RaspError.single("demo", f"the edited program's model disagrees at {found[:3]}")
        return f"{what}; compiled model = edited program on {len(inputs)} inputs"


def _checked_inputs(certificate: Certificate, model: TransformerProgram) -> list[list[str]]:
    """Inputs like the certificate's: as many exhaustive and random ones (another seed)."""
    config = model.config
    counts = {group.name: group.inputs for group in certificate.checks}
    exhaustive, _ = exhaustive_inputs(config, counts["exhaustive"])
    return exhaustive + fuzz_inputs(config, counts["fuzz"], 1)
