"""The paper's whole protocol on populations (``tp_reproduce.py --protocol paper``): the
script's options in; every unit of :mod:`.tp_protocol_plan` trained (or resumed, or skipped
when finished), the member validation selects per task lifted with its certificate, and
``tp_protocol.{json,md}`` (:mod:`.tp_protocol_table`) written to the results folder.

Units are resumable one by one: a unit whose ``population.json`` records all its epochs is not
trained again; one with a ``last`` checkpoint resumes from it (``rasp tp train --resume``), so
an overnight job can be stopped and started again with the same command. Under ``torchrun
--nproc-per-node P`` each process trains its share of the units (:func:`.share_out` of their
estimated cost, the same in every process), the processes meet at a gloo barrier, and process 0
lifts and writes the results; without torchrun one process does everything. Every process reads
the units' progress before any trains (a barrier between), so all compute the same shares.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from benchmarks.recording import ROOT, load_averages, machine, write_results
from benchmarks.tp_protocol_plan import Unit, plan_units, share_out
from benchmarks.tp_protocol_table import paper_accuracy, render, selected_member, summary_section
from benchmarks.tp_runs import commit, lift_certified, processes
from rasp_ir.api import RaspError, write_text_atomically
from rasp_ir.frontends.transformer_programs import checkpoint
from rasp_ir.frontends.transformer_programs.config import TrainConfig
from rasp_ir.frontends.transformer_programs.population_folder import read_population
from rasp_ir.frontends.transformer_programs.population_train import train_population
from rasp_ir.frontends.transformer_programs.tasks import make_data

DEFAULT_RUNS = ROOT / "runs" / "tp_protocol"
SESSIONS_FILE = "protocol-sessions.json"
RESULTS_STEM = "tp_protocol"


def run_protocol(args: argparse.Namespace, command: str) -> int:
    """Train, select, lift and record the protocol the options ask for; 0 when done."""
    results_json = args.results / f"{RESULTS_STEM}.json"
    if args.render:
        results = json.loads(results_json.read_text(encoding="utf-8"))
        write_results(args.results, RESULTS_STEM, results, render(results))
        return 0
    units = plan_units(
        args.recipe, args.tasks, args.seeds, args.architectures, args.epochs, args.dataset_size
    )
    runs: Path = args.runs or DEFAULT_RUNS
    rank, world = processes()
    load_before = load_averages()
    started = [epochs_started(runs / unit.folder, unit) for unit in units]
    if world > 1:
        dist.barrier()  # every process has read the units' progress: no one has trained yet
    costs = [
        0.0 if start is None else unit.cost(unit.settings.epochs - start)
        for unit, start in zip(units, started, strict=True)
    ]
    for index in share_out(costs, world)[rank]:
        start = started[index]
        if start is not None:
            train_unit(units[index], runs / units[index].folder, start, args.threads, rank)
    if world > 1:
        dist.barrier()  # every unit is trained
        dist.destroy_process_group()
        if rank != 0:
            return 0
    invocation = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "torch": torch.__version__,
        "threads": args.threads,
        "processes": world,
        "load_before": load_before,
    }
    results = json.loads(results_json.read_text(encoding="utf-8")) if results_json.exists() else {}
    recorded = results.setdefault("recipes", {})
    for (recipe, task), task_units in _by_task(units).items():
        entry = task_entry(task_units, runs, args, invocation)
        recorded.setdefault(recipe, {})[task] = entry
    write_results(args.results, RESULTS_STEM, results, render(results))
    print("\n".join(summary_section(results)), flush=True)
    return 0


def _by_task(units: list[Unit]) -> dict[tuple[str, str], list[Unit]]:
    grouped: dict[tuple[str, str], list[Unit]] = {}
    for unit in units:
        grouped.setdefault((unit.recipe, unit.task), []).append(unit)
    return grouped


def epochs_started(run_dir: Path, unit: Unit) -> int | None:
    """None when ``unit`` is finished in ``run_dir`` (its ``population.json`` records all its
    epochs); otherwise the epochs its ``last`` checkpoint holds (0 for none). A checkpoint error
    when the folder holds a run with other settings or seeds."""
    population = read_population(run_dir)
    if population is not None:
        _refuse_other_settings(run_dir, unit, population.get("train", {}), population["seeds"])
        if int(population.get("epochs_run", -1)) == unit.settings.epochs:
            return None
    last = run_dir / "last"
    if not last.with_suffix(".json").exists():
        return 0
    saved = checkpoint.read_sidecar(last)
    _refuse_other_settings(run_dir, unit, saved.get("train", {}), saved.get("seeds", []))
    return int(saved.get("epoch", 0))


def _refuse_other_settings(
    run_dir: Path, unit: Unit, train: dict[str, Any], seeds: list[int]
) -> None:
    try:
        settings = TrainConfig.from_json(train)
    except TypeError:
        settings = None
    if settings != unit.settings or list(seeds) != list(unit.seeds):
        raise RaspError.single(
            "checkpoint",
            f"{run_dir} holds a {unit.task} population trained with other settings or seeds "
            f"than the {unit.recipe!r} recipe's now",
            hint="pass another --runs folder, or remove that run folder to train it again",
        )


def train_unit(
    unit: Unit, run_dir: Path, start: int, threads: int, rank: int = 0
) -> dict[str, Any]:
    """Train ``unit`` into ``run_dir`` from epoch ``start`` (resuming its ``last`` checkpoint
    when past 0) in process ``rank``; the session (epochs, wall seconds, the optimiser steps'
    seconds, seconds generating data, the process) is added to the folder's sessions file and
    returned."""
    load = load_averages()
    began = time.perf_counter()
    data = make_data(unit.task, unit.settings.dataset_size, unit.settings.seed)
    data_seconds = time.perf_counter() - began
    began = time.perf_counter()
    result = train_population(
        unit.task,
        run_dir,
        unit.seeds,
        unit.arch,
        unit.settings,
        resume=start > 0,
        progress=False,
        threads=threads,
        data=data,
        own_population=True,
    )
    seconds = time.perf_counter() - began
    session = {
        "epochs": [start, result.epochs],
        "seconds": seconds,
        "step_seconds": _step_seconds(run_dir, start, result.epochs),
        "data_seconds": data_seconds,
        "threads": threads,
        "rank": rank,
        "load_before": load,
        "load_after": load_averages(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    sessions = [*_sessions(run_dir), session]
    write_text_atomically(run_dir / SESSIONS_FILE, json.dumps(sessions, indent=2) + "\n")
    per_epoch = seconds / max(1, result.epochs - start)
    print(
        f"{unit.recipe} {unit.task} {unit.arch.label()}: epochs {start}-{result.epochs} of "
        f"{len(unit.seeds)} members in {seconds:.1f} s ({per_epoch:.2f} s/epoch)",
        flush=True,
    )
    return session


def _step_seconds(run_dir: Path, start: int, end: int) -> float:
    """The seconds the optimiser steps of epochs ``start + 1`` to ``end`` took (``metrics.json``:
    training only, without the per-epoch validation, saving and final evaluation)."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    return float(sum(row["seconds"] for row in metrics["epochs"] if start < row["epoch"] <= end))


def _sessions(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / SESSIONS_FILE
    if not path.exists():
        return []
    sessions = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(sessions, list)
    return sessions


def unit_record(unit: Unit, run_dir: Path) -> dict[str, Any]:
    """A finished unit as the report reads it: its configuration, epochs, sessions and every
    member's final validation and test accuracy, and the training states it took from other
    members (exploit rounds)."""
    population = read_population(run_dir)
    if population is None:
        raise RaspError.single("checkpoint", f"{run_dir}: the population was not trained")
    members = [
        {
            "seed": member["seed"],
            "val": member["accuracy_argmax"]["val"],
            "test": member["accuracy_argmax"]["test"],
            "diverged": member["diverged"] is not None,
            "copies": len(member["exploits"]),
        }
        for member in population["members"]
    ]
    return {
        "architecture": unit.arch.label(),
        "folder": str(unit.folder),
        "epochs": unit.settings.epochs,
        "protocol_epochs": unit.protocol_epochs,
        "sizes": population["sizes"],
        "sessions": _sessions(run_dir),
        "members": members,
    }


def task_entry(
    units: list[Unit], runs: Path, args: argparse.Namespace, invocation: dict[str, Any]
) -> dict[str, Any]:
    """One task's entry in the results: its units, the member validation selects over all of
    them, and that member lifted with its certificate (as ``rasp tp lift RUN --member SEED``;
    a lift already made with the same checks is reused)."""
    first = units[0]
    records = [unit_record(unit, runs / unit.folder) for unit in units]
    unit, member = selected_member(records)
    run_dir = runs / unit["folder"]
    lift = _lift(run_dir, member["seed"], args.exhaustive_limit, args.fuzz)
    return {
        **invocation,
        "load_after": load_averages(),
        "recipe": first.recipe,
        "task": first.task,
        "paper_accuracy": paper_accuracy(first.task),
        "epochs": first.settings.epochs,
        "protocol_epochs": first.protocol_epochs,
        "dataset_size": first.settings.dataset_size,
        "seeds": list(first.seeds),
        "units": records,
        "selected": {
            "architecture": unit["architecture"],
            "seed": member["seed"],
            "val": member["val"],
            "test": member["test"],
            "folder": unit["folder"],
        },
        "lift": lift,
    }


def _lift(run_dir: Path, seed: int, exhaustive_limit: int, fuzz: int) -> dict[str, Any]:
    """The certified lift of member ``seed`` (cached in the run folder per checks)."""
    cache = run_dir / f"lift-seed-{seed}.json"
    checks = {"exhaustive_limit": exhaustive_limit, "fuzz": fuzz}
    if cache.exists():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("checks") == checks:
            return dict(cached["lift"])
    began = time.perf_counter()
    program = run_dir / f"program-seed-{seed}.rasp"
    lift = lift_certified(run_dir, "model", program, exhaustive_limit, fuzz, member=seed)
    lift.update(seconds=time.perf_counter() - began, member=seed)
    if lift["agreement"] is not None:
        lift["program"] = str(program)
    write_text_atomically(cache, json.dumps({"checks": checks, "lift": lift}, indent=2) + "\n")
    return lift
