"""The whole MIPS pipeline for one task: a task and :class:`SolveSettings` in; a folder with the
search's runs, the verified machine, the lifted programs, the compiled transformer, the emitted
Python and ``result.json`` out, and a :class:`SolveResult`.

Stages, each recorded with its seconds; the first that fails ends the pipeline with a typed
failure (``failed_stage`` and ``reason`` in ``result.json``), never a placeholder artifact:

1. ``search`` (:mod:`.search`): an architecture one of whose seeds is perfect on the whole test
   split.
2. ``extract``: every perfect seed, and for each the methods of :func:`methods` in order:
   integer-affine (:mod:`.extract_affine`), impulse response (:mod:`.extract_impulse`, RNNs
   linear end to end), behaviour classes and geometric clusters (finite machines, alphabets
   of at most :data:`MAX_FINITE_SYMBOLS` symbols), the linear recurrence of the RNN's outputs
   (:mod:`.extract_recurrence`); the first machine that passes verification is kept.
3. ``verify`` (part of ``extract``): the machine equals the task's targets on every test
   sequence, on every input up to a length where the alphabet allows, on random inputs of 2T
   and 4T, and the RNN's rounded outputs on every test sequence (``machine.verify.json``, a hub
   certificate). A task is **solved** when this passes.
4. ``lift``: ``program.rasp`` at the task's length T and ``program-4T.rasp`` at 4T, each
   certified against the machine and, on the test split, the RNN.
5. ``compile``: ``program.rasp`` into transformer weights (``model.safetensors`` and
   ``model.json``) with the ``torch`` backend, and into Python (``program.py``) with the
   ``python`` backend: the program MIPS would print, checked.
6. ``transformer``: the compiled transformer against the machine, the task's targets and the
   RNN on every test sequence and on random 2T and 4T inputs (``transformer.verify.json``).
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rasp_ir.api import (
    BatchRunner,
    LiftedSource,
    LiftOptions,
    RaspError,
    ir,
    load_backend,
    save_artifact,
    sha256_of_path,
    write_lifted,
)

from .affine import AffineMachine, save_affine
from .extract import alphabet_symbols, extract_machine
from .extract_affine import extract_affine
from .extract_behaviour import MAX_CONTINUATIONS
from .extract_impulse import extract_impulse
from .extract_recurrence import extract_recurrence
from .json_files import write_json_atomically
from .machine import FiniteMachine, save_machine
from .run_files import Run, load_run
from .search import SearchOutcome, Trial, search
from .task_spec import Task, make_split
from .train import TrainSettings, seed_dir

MAX_FINITE_SYMBOLS = 256
"""Alphabets larger than this are not tabulated as finite machines."""
EXTRACT_SEQUENCES = 4000
"""Training sequences traced for extraction."""
MIN_SEQUENCES = 200
"""The fewest training sequences a deeper behaviour extraction traces."""
DEPTH0_SEQUENCES = 40_000
"""Training sequences traced by behaviour extraction at depth 0."""
HORIZON_DEPTH = 6
"""The deepest behaviour comparison confined to the first T - depth steps."""
GENERALISATION = 4
"""The lifted program's second length, as a multiple of T."""

Machine = FiniteMachine | AffineMachine
Result = TypeVar("Result")


@dataclass(frozen=True)
class SolveSettings:
    """How to solve: the search's strategy, budget and seeds; training settings; device; the
    most seconds compiling the transformer and checking it may take (see :func:`time_limit`)."""

    train: TrainSettings
    strategy: str = "ladder"
    budget_s: float = 3600.0
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    device: str = "cpu"
    progress: bool = False
    compile_timeout_s: float = 600.0


@dataclass
class SolveResult:
    """What the pipeline reached: ``solved`` (a verified machine), the stage that failed and
    why (``None`` when none did), the facts of each stage and their seconds."""

    task: str
    solved: bool = False
    failed_stage: str | None = None
    reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data."""
        return {
            "task": self.task,
            "solved": self.solved,
            "failed_stage": self.failed_stage,
            "reason": self.reason,
            **self.facts,
            "seconds": self.seconds | {"total": round(sum(self.seconds.values()), 2)},
        }


class _StageFailed(Exception):
    """A stage could not produce its artifact; the message says why."""


def solve(task: Task, out_dir: Path, settings: SolveSettings) -> SolveResult:
    """Run the pipeline of the module docstring for ``task`` into ``out_dir``; write and
    return the result."""
    result = SolveResult(task.name)
    stage = "search"
    try:
        outcome = _timed(result, stage, lambda: _search(task, out_dir, settings, result))
        stage = "extract"
        verified = _timed(
            result, stage, lambda: _extract_verified(task, out_dir, outcome, settings, result)
        )
        result.solved = True
        stage = "lift"
        program = _timed(result, stage, lambda: _lift(task, verified, settings, out_dir, result))
        stage = "compile"
        with time_limit(settings.compile_timeout_s, "compiling and checking the transformer"):
            runner = _timed(result, stage, lambda: _compile(program, out_dir, result))
            stage = "transformer"
            _timed(
                result,
                stage,
                lambda: _check_transformer(program, runner, verified, settings, out_dir),
            )
    except (_StageFailed, RaspError) as error:
        result.failed_stage, result.reason = stage, str(error).strip()
    write_result(out_dir, result)
    return result


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Fail the stage under way (a :class:`_StageFailed`) when the block takes more than
    ``seconds``, by SIGALRM: only in the main thread of a process on a system that has it;
    elsewhere the block runs without a limit."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or seconds == math.inf:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _StageFailed(f"{what} took more than {seconds:g} s (the --compile-timeout)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def write_result(out_dir: Path, result: SolveResult) -> None:
    """Write ``result.json`` (through a temporary file, so a reader never sees half)."""
    write_json_atomically(out_dir / "result.json", result.to_json())


def _timed(result: SolveResult, stage: str, work: Callable[[], Result]) -> Result:
    """Run ``work`` and record its seconds for ``stage`` (or more, when the stage recorded a
    longer time of its own: a resumed search counts its recorded trials)."""
    started = time.perf_counter()
    try:
        return work()
    finally:
        elapsed = time.perf_counter() - started
        result.seconds[stage] = round(max(result.seconds.get(stage, 0.0), elapsed), 2)


def _search(task: Task, out_dir: Path, settings: SolveSettings, result: SolveResult) -> Trial:
    outcome: SearchOutcome = search(
        task,
        out_dir / "search",
        strategy=settings.strategy,
        settings=settings.train,
        seeds=settings.seeds,
        budget_s=settings.budget_s,
        device=settings.device,
        progress=settings.progress,
    )
    result.facts["search"] = {
        "strategy": outcome.strategy,
        "trials": len(outcome.trials),
        "complete": outcome.complete,
        "trial_seconds": outcome.seconds,
        "assumption": outcome.assumption,
    }
    result.seconds["search"] = outcome.seconds
    if outcome.smallest is None:
        tried = ", ".join(t.architecture.describe() for t in outcome.trials) or "none"
        raise _StageFailed(f"no architecture learned the task (tried: {tried})")
    trial = outcome.smallest
    result.facts["architecture"] = trial.architecture.to_json() | {
        "description": trial.architecture.describe()
    }
    return trial


@dataclass(frozen=True)
class Verified:
    """A machine that passed verification: its file, the machine and the RNN run it came from
    (``run_dir`` its folder)."""

    path: Path
    machine: Machine
    run: Run
    run_dir: Path


def _extract_verified(
    task: Task, out_dir: Path, trial: Trial, settings: SolveSettings, result: SolveResult
) -> Verified:
    """The first extracted machine that verifies, written to ``machine.json`` with its
    certificate ``machine.verify.json``."""
    from .verify_cmds import verify_machine_file

    attempts: list[str] = []
    machine_path = out_dir / "machine.json"
    for seed in trial.perfect_seeds():
        run_dir = seed_dir(out_dir / "search" / trial.run_dir, trial.seeds, seed)
        run = load_run(run_dir)
        for method, machine in _candidates(run, task, attempts):
            _save(machine, machine_path)
            certificate, _ = verify_machine_file(
                machine_path,
                machine,
                task,
                run_dir,
                settings.train.dataset_size,
                settings.train.data_seed,
            )
            if certificate.ok:
                certificate.write(out_dir / "machine.verify.json")
                result.facts["machine"] = _machine_facts(machine, method, seed)
                result.facts["verified_positions"] = certificate.positions_compared
                result.facts["run"] = str(run_dir.relative_to(out_dir))
                return Verified(machine_path, machine, run, run_dir)
            attempts.append(
                f"seed {seed}, {method}: {certificate.disagreement_count} disagreeing positions"
            )
    machine_path.unlink(missing_ok=True)
    result.facts["extraction_attempts"] = attempts
    raise _StageFailed("no extracted machine verified: " + "; ".join(attempts))


def _save(machine: Machine, path: Path) -> None:
    if isinstance(machine, AffineMachine):
        save_affine(machine, path)
    else:
        save_machine(machine, path)


def methods(run: Run, task: Task) -> list[str]:
    """The extraction methods to try on ``run``, in order: integer-affine first for a linear
    RNN (hidden MLP of depth 1), then impulse response when its readout is linear too; affine
    after the finite methods for other RNNs; the finite methods only for alphabets of at most
    :data:`MAX_FINITE_SYMBOLS` symbols; the recurrence of the RNN's outputs last for every
    RNN (it reads no hidden state)."""
    finite = ["behaviour", "geometric"]
    if len(alphabet_symbols(task.alphabet)) > MAX_FINITE_SYMBOLS:
        finite = []
    config = run.model.config
    if config.hidden_depth != 1:
        return [*finite, "affine", "recurrence"]
    impulse = ["impulse"] if config.output_depth == 1 else []
    return ["affine", *impulse, *finite, "recurrence"]


@dataclass(frozen=True)
class Plan:
    """One extraction attempt: the method, how many training sequences to trace and how many
    of their first steps (``length``), and the behaviour depth (behaviour only)."""

    method: str
    sequences: int
    length: int
    depth: int | None = None

    def describe(self) -> str:
        """``behaviour depth 4 on 6 steps`` (the method alone when it has no depth)."""
        if self.depth is None:
            return self.method
        return f"{self.method} depth {self.depth} on {self.length} steps"


def _fitting(symbols: int, depth: int, length: int, most: int) -> int:
    """The most sequences (at most ``most``) whose traced states, ``sequences x length + 1``,
    times ``symbols^depth`` continuations stay within the behaviour extractor's bound."""
    continuations: int = symbols**depth
    return min(most, (MAX_CONTINUATIONS // continuations - 1) // length)


def behaviour_plans(symbols: int, length: int) -> list[Plan]:
    """Behaviour attempts, in order: depth 0 (the output is the state) on many sequences; the
    deepest depth the bound allows on :data:`EXTRACT_SEQUENCES` sequences, then deeper on fewer
    (at least :data:`MIN_SEQUENCES`) up to depth T, since states that agree for a few steps
    may part later; then depth d on the first T - d steps only (d from 2 to
    :data:`HORIZON_DEPTH`), so that every continuation stays within the T steps the RNN was
    trained on: an RNN may tell apart, beyond T, states that its task does not."""
    plans = [Plan("behaviour", _fitting(symbols, 0, length, DEPTH0_SEQUENCES), length, 0)]
    first = behaviour_depth(symbols, EXTRACT_SEQUENCES * length + 1)
    for depth in range(first, max(first, length) + 1):
        sequences = _fitting(symbols, depth, length, EXTRACT_SEQUENCES)
        if sequences >= MIN_SEQUENCES or depth == first:
            plans.append(Plan("behaviour", max(sequences, MIN_SEQUENCES), length, depth))
    for depth in range(2, min(HORIZON_DEPTH, length - 2) + 1):
        sequences = _fitting(symbols, depth, length - depth, EXTRACT_SEQUENCES)
        if sequences >= MIN_SEQUENCES:
            plans.append(Plan("behaviour", sequences, length - depth, depth))
    return plans


def extraction_plans(run: Run, task: Task) -> list[Plan]:
    """The attempts for ``run``, in the order of :func:`methods`; behaviour extraction as
    :func:`behaviour_plans` says."""
    plans = []
    for method in methods(run, task):
        if method == "behaviour":
            plans += behaviour_plans(len(alphabet_symbols(task.alphabet)), task.length)
        else:
            plans.append(Plan(method, EXTRACT_SEQUENCES, task.length))
    return plans


def _candidates(run: Run, task: Task, attempts: list[str]) -> Iterator[tuple[str, Machine]]:
    """Machines extracted from ``run``'s RNN by each plan of :func:`extraction_plans`; an
    attempt that refuses is recorded in ``attempts``."""
    symbols = alphabet_symbols(task.alphabet)
    plans = extraction_plans(run, task)
    most = max(plan.sequences for plan in plans)
    x = make_split(task, 2 * most, 1).x_train[:most]
    for plan in plans:
        name = plan.describe()
        source = f"rasp mips solve, {name} extraction"
        traced = x[: plan.sequences, : plan.length]
        try:
            if plan.method == "affine":
                found = extract_affine(run.model, traced, symbols, task=task.name, source=source)
                machine: Machine = found.machine
            elif plan.method == "impulse":
                machine = extract_impulse(
                    run.model, symbols, plan.length, task=task.name, source=source
                ).machine
            elif plan.method == "recurrence":
                machine = extract_recurrence(
                    run.model, traced, symbols, task=task.name, source=source
                ).machine
            else:
                machine = extract_machine(
                    run.model,
                    traced,
                    symbols,
                    task=task.name,
                    source=source,
                    method=plan.method,
                    depth=plan.depth,
                ).machine
        except RaspError as error:
            attempts.append(f"{name}: {str(error).strip().splitlines()[0]}")
            continue
        yield name, machine


def behaviour_depth(symbols: int, traced: int) -> int:
    """The deepest behaviour comparison whose last level, ``traced x symbols^depth``, stays
    within the extractor's bound; at least 1."""
    depth = 1
    while traced * symbols ** (depth + 1) <= MAX_CONTINUATIONS:
        depth += 1
    return depth


def _machine_facts(machine: Machine, method: str, seed: int) -> dict[str, Any]:
    if isinstance(machine, AffineMachine):
        return {"kind": "affine", "state_dim": machine.state_dim, "method": method, "seed": seed}
    return {"kind": "finite", "states": machine.n_states, "method": method, "seed": seed}


def _lift(
    task: Task, verified: Verified, settings: SolveSettings, out_dir: Path, result: SolveResult
) -> ir.Program:
    """``program.rasp`` at T and ``program-4T.rasp`` at 4T, each certified against the
    machine and (on the test split) the RNN; the program at T."""
    from .lift import lift_file

    lengths = {"program": task.length, f"program-{GENERALISATION}T": GENERALISATION * task.length}
    programs = []
    for name, max_len in lengths.items():
        options = LiftOptions(max_len=max_len, seed=settings.train.data_seed)
        lifted = lift_file(
            verified.path, options, verified.run, settings.train.dataset_size, str(verified.run_dir)
        )
        write_lifted(lifted, out_dir / f"{name}.rasp", None)
        programs.append(lifted.program)
    result.facts["construction"] = lifted.certificate.details.get("construction")
    return programs[0]


def _compile(program: ir.Program, out_dir: Path, result: SolveResult) -> BatchRunner:
    """``program`` compiled to transformer weights (``model``) and to Python (``program.py``);
    a runner of the transformer. The facts record the transformer's shape as its
    ``model.json`` states it."""
    torch_backend, python_backend = load_backend("torch"), load_backend("python")
    model = torch_backend.lower(program)
    save_artifact(torch_backend, model, out_dir / "model")
    save_artifact(python_backend, python_backend.lower(program), out_dir / "program")
    config = json.loads((out_dir / "model.json").read_text(encoding="utf-8"))["config"]
    shape = ("n_layers", "n_heads", "d_model", "d_mlp")
    result.facts["transformer"] = {key: config[key] for key in shape}
    return torch_backend.runner(program, model)


def _check_transformer(
    program: ir.Program,
    runner: BatchRunner,
    verified: Verified,
    settings: SolveSettings,
    out_dir: Path,
) -> None:
    """The compiled transformer against the machine, the task and the RNN
    (``transformer.verify.json``); a failure when anything disagrees."""
    from .transformer_check import require_agreement, verify_transformer

    path = out_dir / "program.rasp"
    certificate = verify_transformer(
        program,
        verified.machine,
        verified.run.task,
        model=verified.run.model,
        sequences=settings.train.dataset_size,
        seed=settings.train.data_seed,
        source=LiftedSource.of(path, sha256_of_path(path), {"machine": str(verified.path)}),
        model_name=f"RNN {verified.run_dir}",
        runner=runner,
    )
    certificate.write(out_dir / "transformer.verify.json")
    require_agreement(certificate, "the compiled transformer")
