"""The paper's protocol as a report: the recorded task entries of every recipe in (each
population's members and timings, the selected member and its lift); the selection by
validation, the distributions over seeds and configurations, the time estimate and the Markdown
report out. No torch here.

An entry (one recipe, one task) holds ``units``, one per configuration trained: its label
(``L/H/M``), ``epochs``, ``protocol_epochs``, ``sessions`` (each call that trained it: epochs
from and to, wall seconds, the seconds spent generating data) and ``members`` (seed, final
model's ``val`` and ``test`` accuracy as fractions, ``diverged``, ``copies``: the training
states it took in exploit rounds, absent in records made before they were counted, when no
recipe had them); ``selected`` and ``lift``
(the certified program of the selected member, its ``seconds``); and what was run (command,
commit, epochs, seeds, data set size, processes, threads, load).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.tp_protocol_plan import IN_CONTEXT_TASK, seeds_text, share_out
from rasp_ir.frontends.transformer_programs.config import PAPER_ACCURACY, PAPER_GRID
from rasp_ir.frontends.transformer_programs.tasks import RASP_TASKS

# §15.3: "perfect accuracy on a held-out test set" for the in-context task (no Table 1 figure)
IN_CONTEXT_PAPER_ACCURACY = 100.0
PROTOCOL_TASKS = (*RASP_TASKS, IN_CONTEXT_TASK)
UNITS_PER_RECIPE = len(RASP_TASKS) * len(PAPER_GRID) + 1
WITHIN = 1.0  # points


def paper_accuracy(task: str) -> float:
    """The paper's test accuracy for ``task``, in percent (Table 1; the in-context task's
    perfect accuracy)."""
    return IN_CONTEXT_PAPER_ACCURACY if task == IN_CONTEXT_TASK else PAPER_ACCURACY[task]


@dataclass(frozen=True)
class Distribution:
    """Test accuracies (percent) of some runs: their median and best, and how many are at most
    :data:`WITHIN` points below the paper (or above it)."""

    runs: int
    median: float
    best: float
    within: int

    @classmethod
    def of(cls, tests: Sequence[float], paper: float) -> Distribution:
        """The distribution of ``tests`` (fractions) against ``paper`` (percent)."""
        percents = [100 * test for test in tests]
        close = sum(1 for p in percents if p >= paper - WITHIN - 1e-9)
        return cls(len(percents), statistics.median(percents), max(percents), close)

    def cells(self) -> list[str]:
        """Median, best and the share within a point, as table cells."""
        share = f"{self.within}/{self.runs} ({self.within / self.runs:.0%})"
        return [f"{self.median:.2f}", f"{self.best:.2f}", share]


def selected_member(units: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paper's selection: the unit and member whose final model has the best validation
    accuracy over every configuration and seed (the first of equals, in the grid's order and
    then the seeds')."""
    best: tuple[dict[str, Any], dict[str, Any]] | None = None
    for unit in units:
        for member in unit["members"]:
            if best is None or member["val"] > best[1]["val"]:
                best = (unit, member)
    if best is None:
        raise ValueError("no member to select from")
    return best


def task_distribution(entry: dict[str, Any]) -> Distribution:
    """The distribution of the final models' test accuracies over every configuration and seed
    of a task entry."""
    tests = [member["test"] for unit in entry["units"] for member in unit["members"]]
    return Distribution.of(tests, entry["paper_accuracy"])


def unit_distribution(unit: dict[str, Any], paper: float) -> Distribution:
    """The distribution over the seeds of one configuration."""
    return Distribution.of([member["test"] for member in unit["members"]], paper)


def timed_epochs(unit: dict[str, Any]) -> int:
    """The epochs the unit's recorded sessions trained (0 when it was only finished after
    being stopped past its last epoch: nothing to time)."""
    return sum(session["epochs"][1] - session["epochs"][0] for session in unit["sessions"])


def seconds_per_epoch(unit: dict[str, Any]) -> float | None:
    """The unit's measured wall seconds per epoch (every member together), over every session
    that trained it: training, per-epoch validation, saving and final evaluation; None when no
    epoch was timed."""
    epochs = timed_epochs(unit)
    return sum(session["seconds"] for session in unit["sessions"]) / epochs if epochs else None


def estimated_seconds(unit: dict[str, Any]) -> tuple[float, float]:
    """The wall time of a unit with timed epochs at the protocol's epochs, from below and from
    above: its data generation plus either its optimiser steps' seconds per epoch times the
    protocol's epochs and the rest of a session's time once (per-epoch validation counted
    once: a little low), or its wall seconds per epoch times the protocol's epochs (the final
    evaluation counted every epoch: high when few epochs were measured)."""
    sessions = unit["sessions"]
    epochs = timed_epochs(unit)
    steps = sum(float(s["step_seconds"]) for s in sessions)
    wall = sum(float(s["seconds"]) for s in sessions)
    data = statistics.mean(float(s["data_seconds"]) for s in sessions)
    target = int(unit["protocol_epochs"])
    low = data + steps / epochs * target + (wall - steps) / len(sessions)
    return low, data + wall / epochs * target


def task_seconds(entry: dict[str, Any]) -> float:
    """How long a task entry took: every session of its units and its lift."""
    trained = sum(s["seconds"] + s["data_seconds"] for u in entry["units"] for s in u["sessions"])
    return float(trained + entry["lift"]["seconds"])


def estimate_line(recipe: str, entries: dict[str, dict[str, Any]]) -> str:
    """One recipe's estimate of the whole protocol's wall time at the paper's epochs, from the
    units measured (:func:`estimated_seconds`, low to high), for one process and for two (the
    deterministic split; the lifts after it)."""
    every = [unit for entry in entries.values() for unit in entry["units"]]
    units = [unit for unit in every if timed_epochs(unit)]
    bounds = [estimated_seconds(unit) for unit in units]
    lifts = sum(entry["lift"]["seconds"] for entry in entries.values())
    epochs = sorted({unit["protocol_epochs"] for unit in units})
    walls = []
    for processes in (1, 2):
        longest = []
        for side in (0, 1):
            costs = [bound[side] for bound in bounds]
            shares = share_out(costs, processes)
            longest.append(max(sum(costs[i] for i in share) for share in shares) + lifts)
        plural = "es" if processes > 1 else ""
        walls.append(f"{processes} process{plural} {_span(*longest)}")
    missing = [task for task in PROTOCOL_TASKS if task not in entries]
    line = (
        f"- `{recipe}`: {len(units)} of the whole protocol's {UNITS_PER_RECIPE} populations "
        f"measured; at {' and '.join(map(str, epochs))} epochs they take {', '.join(walls)}"
    )
    untimed = len(every) - len(units)
    if untimed:
        line += f"; {untimed} more trained but without a timed epoch (resumed after their last)"
    if missing:
        line += f" (not measured, not counted: {', '.join(missing)})"
    return line + "."


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds / 60:.1f} min"


def _seconds(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def _span(low: float, high: float) -> str:
    """``low`` to ``high`` seconds in the unit :func:`_hours` gives ``high``."""
    if high >= 360:
        return f"{low / 3600:.1f} to {high / 3600:.1f} h"
    return f"{low / 60:.1f} to {high / 60:.1f} min"


def lift_cell(lift: dict[str, Any]) -> str:
    """The selected member's certificate: agreement, positions compared and program lines."""
    if lift.get("agreement") is None:
        return "lift failed"
    agreement = lift["agreement"]
    text = "100%" if agreement == 1.0 else f"NOT 100%: {100 * agreement:.3f}%"
    return f"{text} ({lift['positions_compared']} positions, {lift['program_lines']} lines)"


def _recipes(results: dict[str, Any]) -> list[str]:
    return list(results.get("recipes", {}))


def summary_section(results: dict[str, Any]) -> list[str]:
    """Ours against the paper per task, one column group per recipe: the selected
    configuration and seed, its test accuracy, the gap, and the distribution over every run."""
    recipes = _recipes(results)
    header = ["task", "paper"]
    for recipe in recipes:
        header += [
            f"{recipe}: selected L/H/M, seed",
            f"{recipe}: val",
            f"{recipe}: test",
            f"{recipe}: ours - paper",
            f"{recipe}: median",
            f"{recipe}: best",
            f"{recipe}: within 1 point",
            f"{recipe}: lifted (selected)",
        ]
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for task in PROTOCOL_TASKS:
        row = [task, f"{paper_accuracy(task):.2f}"]
        present = False
        for recipe in recipes:
            entry = results["recipes"][recipe].get(task)
            if entry is None:
                row += ["-"] * 8
                continue
            present = True
            selected = entry["selected"]
            gap = 100 * selected["test"] - entry["paper_accuracy"]
            row += [
                f"{selected['architecture']}, {selected['seed']}",
                f"{100 * selected['val']:.2f}",
                f"{100 * selected['test']:.2f}",
                f"{gap:+.2f}",
                *task_distribution(entry).cells(),
                lift_cell(entry["lift"]),
            ]
        if present:
            lines.append(_row(row))
    return lines


def recipe_sections(recipe: str, entries: dict[str, dict[str, Any]]) -> list[str]:
    """What was run with one recipe (per task: epochs, seeds, configurations, commit, how long
    it took) and its distribution per configuration."""
    ordered = [entries[task] for task in PROTOCOL_TASKS if task in entries]
    lines = [
        "",
        f"## Recipe `{recipe}`: what was run",
        "",
        _header_line(recipe, ordered),
        "",
        "| task | epochs | seeds | configurations | data set | commit | processes x threads "
        "| load before / after | training s | lift s | total |",
        "|---|---:|---|---:|---:|---|---|---|---:|---:|---:|",
    ]
    for entry in ordered:
        trained = task_seconds(entry) - entry["lift"]["seconds"]
        lines.append(
            f"| {entry['task']} | {entry['epochs']} | {seeds_text(entry['seeds'])} "
            f"| {len(entry['units'])} | {entry['dataset_size']} | {entry['commit']} "
            f"| {entry['processes']} x {entry['threads']} "
            f"| {entry['load_before']} / {entry['load_after']} | {trained:.1f} "
            f"| {entry['lift']['seconds']:.1f} | {_hours(task_seconds(entry))} |"
        )
    lines += [
        "",
        f"## Recipe `{recipe}`: per configuration",
        "",
        "Final models' test accuracy over the seeds of each configuration; `selected by val`: "
        "the configuration's best validation member. Copies: the training states members took "
        "from others in exploit rounds (a member that took one is no longer an independent "
        "seed). Seconds per epoch: wall time of the population (every member together).",
        "",
        "| task | L/H/M | seeds | median | best | within 1 point | selected by val: seed, val, "
        "test | diverged | copies | s/epoch |",
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for entry in ordered:
        for unit in entry["units"]:
            cells = unit_distribution(unit, entry["paper_accuracy"]).cells()
            _, best = selected_member([unit])
            diverged = sum(1 for member in unit["members"] if member["diverged"])
            copies = sum(member.get("copies", 0) for member in unit["members"])
            lines.append(
                f"| {entry['task']} | {unit['architecture']} "
                f"| {seeds_text([m['seed'] for m in unit['members']])} | {' | '.join(cells)} "
                f"| {best['seed']}, {100 * best['val']:.2f}, {100 * best['test']:.2f} "
                f"| {diverged} | {copies} | {_seconds(seconds_per_epoch(unit))} |"
            )
    return lines


def _header_line(recipe: str, entries: Sequence[dict[str, Any]]) -> str:
    """What every task of a recipe had in common, or each value with its tasks where they
    differ."""
    facts = []
    for name, key in (("epochs", "epochs"), ("seeds", "seeds"), ("commit", "commit")):
        values: dict[str, list[str]] = {}
        for entry in entries:
            value = seeds_text(entry[key]) if key == "seeds" else str(entry[key])
            values.setdefault(value, []).append(entry["task"])
        if len(values) == 1:
            facts.append(f"{name} {next(iter(values))}")
        else:
            facts.append(f"{name} " + "; ".join(f"{v} ({', '.join(t)})" for v, t in values.items()))
    return f"Recipe `{recipe}`: " + ", ".join(facts) + "."


def render(results: dict[str, Any]) -> str:
    """The whole Markdown report of the protocol's recorded results."""
    recipes = _recipes(results)
    lines = [
        "# Transformer Programs: the paper's whole protocol, on populations",
        "",
        "Each Table 1 task is trained at every configuration of the paper's grid (layers 2, 3 x "
        "heads 4, 8 x MLPs 2, 4 per layer, split evenly between categorical and numerical), the "
        "in-context task at its own (2 layers, 1 categorical head); each (task, configuration) "
        "is one population run whose members are the seeds. As the paper does, the final model "
        "with the best validation accuracy over the whole grid and every seed is selected and "
        "its test accuracy reported; it is lifted with a certificate (the lifted program "
        "against the argmax model on the whole test split, every input up to a length and "
        "random inputs: it must agree at every position). Beside it, the distribution over "
        "every run (configuration x seed) of the task: the median and best test accuracy, and "
        f"how many runs are at most {WITHIN:g} point below the paper (or above). The in-context "
        "task's paper figure is its reported perfect accuracy. Commands: "
        f"{'; '.join(_commands(results))}.",
        "",
        *summary_section(results),
    ]
    for recipe in recipes:
        lines += recipe_sections(recipe, results["recipes"][recipe])
    lines += [
        "",
        "## Time of the whole protocol",
        "",
        "Estimated from each measured population: its data generation, plus from below its "
        "optimiser steps' seconds per epoch times its epochs in the whole protocol and the rest "
        "of its measured time once, from above its wall seconds per epoch times those epochs; "
        "and the lifts. The machine was shared with other jobs (load above).",
        "",
    ]
    lines += [estimate_line(recipe, results["recipes"][recipe]) for recipe in recipes]
    return "\n".join(lines) + "\n"


def _commands(results: dict[str, Any]) -> list[str]:
    commands: list[str] = []
    for entries in results.get("recipes", {}).values():
        for entry in entries.values():
            if f"`{entry['command']}`" not in commands:
                commands.append(f"`{entry['command']}`")
    return commands


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
