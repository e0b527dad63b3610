"""The wall time of the paper's whole protocol (``tp_reproduce.py --protocol paper``), estimated
from a few timed steps of every unit: the protocol's unit options in; per unit the seconds of an
optimiser step and of an epoch, its hours, and the whole protocol's hours in one process and in
P processes out.

    .venv/bin/python benchmarks/tp_protocol_time.py [--tasks sort hist] [--steps 3]
        [--processes 1 2] [--recipe paper robust] [--epochs 250]

The units are the protocol's (:func:`.tp_protocol_plan.plan_units`, the options meaning what
they mean to ``tp_reproduce.py --protocol paper``: every Table 1 task at the paper's 8 grid
configurations and induction at its own, seeds 0-4, the paper's 250 or 500 epochs, 20,000
samples). Each task's data is generated once, as the protocol's training generates it (same
size, the first seed). Each unit's population is the one training builds
(:class:`~rasp_ir.frontends.transformer_programs.population_train.PopulationTrainer`, the
recipe's settings, clipping included), and what is timed is that trainer's own code: one
warm-up step, then ``--steps`` steps (``PopulationTrainer.step``) on the first batch of epochs
spread evenly over the schedule (the first, ..., the last), so that they see its temperatures
and learning rates; each step at the unit's batch size and sequence length, every member on its
own batch. After them, one validation pass of every member (``validate``: training evaluates
every epoch) and one save of the run's progress (``save_progress``: done every epoch).

    s/epoch = median s/step x steps per epoch of the training split + validation + save
    hours   = s/epoch x the unit's epochs / 3600

Not counted: generating the data (once per unit; its seconds per task are recorded), saving a
member's best epoch when it improves, the final evaluation and the lifts (once per unit or
task), and the smaller last batch of an epoch (timed as a full one: a little high).

Totals: the sum of every unit's hours (one process), and for each P of ``--processes`` the
longest share of units when P processes train them: the protocol's own split
(:func:`.tp_protocol_plan.share_out` of the units' estimated costs, as ``tp_protocol`` shares
them at the start of a run) and the greedy longest-first split of the measured hours (what the
same split would give with these measurements as costs). Both assume every process trains at
the speed one process measured here (one process per core, no other load).

Prints a Markdown table, with ``uptime``'s load before and after and the torch thread count,
and writes benchmarks/results/tp_protocol_time.{json,md}.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from benchmarks.tp_protocol_plan import Unit, plan_units, share_out  # noqa: E402
from benchmarks.tp_protocol_table import PROTOCOL_TASKS, UNITS_PER_RECIPE  # noqa: E402
from benchmarks.tp_reproduce import architecture_argument, seeds_argument  # noqa: E402
from benchmarks.tp_reproduce_report import PAPER_DATASET_SIZE  # noqa: E402
from rasp_ir.frontends.transformer_programs.population_train import (  # noqa: E402
    PopulationTrainer,
)
from rasp_ir.frontends.transformer_programs.recipes import RECIPE_NAMES  # noqa: E402
from rasp_ir.frontends.transformer_programs.tasks import TaskData, make_data  # noqa: E402
from rasp_ir.frontends.transformer_programs.train import (  # noqa: E402
    run_setup,
    training_environment,
)

STEM = "tp_protocol_time"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", nargs="+", choices=RECIPE_NAMES, default=["paper"])
    parser.add_argument("--tasks", nargs="+", choices=PROTOCOL_TASKS, default=list(PROTOCOL_TASKS))
    parser.add_argument(
        "--architectures",
        nargs="+",
        type=architecture_argument,
        metavar="L/H/M",
        help="the Table 1 tasks' configurations (default: the paper's grid)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=seeds_argument,
        metavar="SEEDS",
        help="the members: seeds, ranges or lists (default: 0-4)",
    )
    parser.add_argument("--epochs", type=int, help="override the paper's 250 (induction: 500)")
    parser.add_argument("--dataset-size", type=int, default=PAPER_DATASET_SIZE)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per unit")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--processes", nargs="+", type=int, default=[1, 2], help="process counts to report"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if min(args.processes) < 1:
        parser.error("--processes must be at least 1")
    seeds = [seed for group in args.seeds or [(0, 1, 2, 3, 4)] for seed in group]
    if len(set(seeds)) != len(seeds):
        parser.error(f"--seeds names a seed twice: {seeds}")
    args.seeds = seeds
    return args


@dataclass(frozen=True)
class UnitTime:
    """What one unit's timed steps measured: the median seconds of an optimiser step, the steps
    of an epoch, and the seconds of one validation pass and one progress save."""

    unit: Unit
    step_seconds: float
    steps_per_epoch: int
    validation_seconds: float
    save_seconds: float

    @property
    def epoch_seconds(self) -> float:
        """An epoch's seconds: its steps, its validation and its save."""
        steps = self.step_seconds * self.steps_per_epoch
        return steps + self.validation_seconds + self.save_seconds

    @property
    def hours(self) -> float:
        """The unit's training time at its epochs."""
        return self.epoch_seconds * self.unit.settings.epochs / 3600

    def row(self) -> dict[str, object]:
        """The unit's row of the results."""
        unit = self.unit
        return {
            "recipe": unit.recipe,
            "task": unit.task,
            "architecture": unit.arch.label(),
            "members": len(unit.seeds),
            "batch_size": unit.settings.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
            "step_seconds": self.step_seconds,
            "validation_seconds": self.validation_seconds,
            "save_seconds": self.save_seconds,
            "epoch_seconds": self.epoch_seconds,
            "epochs": unit.settings.epochs,
            "hours": self.hours,
        }


def timed_epochs(epochs: int, steps: int) -> list[int]:
    """The epochs whose first step is timed: ``steps`` spread evenly from the first to the
    last (the first alone for one step)."""
    if steps == 1:
        return [0]
    return [round(i * (epochs - 1) / (steps - 1)) for i in range(steps)]


def time_unit(unit: Unit, data: TaskData, steps: int) -> UnitTime:
    """Build ``unit``'s population as training does, on ``data``, and time it: a warm-up step,
    ``steps`` steps over the schedule, one validation pass and one progress save."""
    settings, data, config = run_setup(unit.task, unit.arch, unit.settings, data, None)
    trainer = PopulationTrainer(unit.task, data, config, settings, unit.seeds, torch.device("cpu"))
    trainer.step(0, 0, next(trainer.batches(0)))  # warm-up
    times = []
    for epoch in timed_epochs(settings.epochs, steps):
        rows = next(trainer.batches(epoch))
        began = time.perf_counter()
        trainer.step(epoch, 0, rows)
        times.append(time.perf_counter() - began)
    began = time.perf_counter()
    trainer.validate()
    validation = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        trainer.save_progress(Path(scratch))
        save = time.perf_counter() - began
    return UnitTime(unit, statistics.median(times), len(trainer.schedule[0]), validation, save)


def makespan(hours: Sequence[float], shares: Sequence[Sequence[int]]) -> float:
    """The hours of the longest share: the wall time of processes training them side by side."""
    return max(sum(hours[index] for index in share) for share in shares)


def totals(times: Sequence[UnitTime], processes: Sequence[int]) -> list[dict[str, float]]:
    """For each process count: the longest share's hours under the protocol's split (by its
    estimated costs) and under the greedy split of the measured hours."""
    hours = [timed.hours for timed in times]
    proxy = [timed.unit.cost(timed.unit.settings.epochs) for timed in times]
    return [
        {
            "processes": count,
            "protocol_split_hours": makespan(hours, share_out(proxy, count)),
            "measured_split_hours": makespan(hours, share_out(hours, count)),
        }
        for count in processes
    ]


def markdown(times: Sequence[UnitTime], spans: Sequence[dict[str, float]]) -> str:
    """The table of units and the totals."""
    lines = [
        "| recipe | task | L/H/M | members | batch | steps/epoch | s/step | validation + save s "
        "| s/epoch | epochs | hours |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for timed in times:
        row = timed.row()
        lines.append(
            f"| {row['recipe']} | {row['task']} | {row['architecture']} | {row['members']} "
            f"| {row['batch_size']} | {row['steps_per_epoch']} | {timed.step_seconds:.3f} "
            f"| {timed.validation_seconds + timed.save_seconds:.2f} | {timed.epoch_seconds:.2f} "
            f"| {row['epochs']} | {timed.hours:.2f} |"
        )
    lines += [
        "",
        f"All {len(times)} units timed (the whole protocol has {UNITS_PER_RECIPE} per recipe):",
        "",
    ]
    for span in spans:
        count = int(span["processes"])
        if count == 1:
            lines.append(f"- 1 process: {span['protocol_split_hours']:.1f} h")
            continue
        lines.append(
            f"- {count} processes: {span['protocol_split_hours']:.1f} h with the protocol's "
            f"split, {span['measured_split_hours']:.1f} h split by the measured hours"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_protocol_time.py", *(argv or sys.argv[1:])])
    units = plan_units(
        args.recipe, args.tasks, args.seeds, args.architectures, args.epochs, args.dataset_size
    )
    load_before = uptime()
    data: dict[tuple[str, int, int], TaskData] = {}
    data_seconds: dict[str, float] = {}
    times = []
    with training_environment(args.threads):  # as training: denormals flushed
        for unit in units:
            key = (unit.task, unit.settings.dataset_size, unit.settings.seed)
            if key not in data:
                began = time.perf_counter()
                data[key] = make_data(*key)
                data_seconds[unit.task] = time.perf_counter() - began
            times.append(time_unit(unit, data[key], args.steps))
            row = times[-1].row()
            print(
                f"{unit.recipe} {unit.task} {row['architecture']}: "
                f"{times[-1].step_seconds:.3f} s/step, {times[-1].epoch_seconds:.2f} s/epoch, "
                f"{times[-1].hours:.2f} h",
                flush=True,
            )
    spans = totals(times, [1, *[count for count in args.processes if count != 1]])
    load_after = uptime()
    note = (
        f"Estimated from {args.steps} timed optimiser step(s) per unit after one warm-up "
        "(the training code's own step, spread over the schedule; median), one validation "
        "pass and one progress save per unit: s/epoch = s/step x steps/epoch + validation + "
        "save; hours = s/epoch x epochs / 3600. Not counted: data generation (once per unit), "
        "best-epoch saves, final evaluations and lifts. P processes: the longest share, each "
        f"process at the speed measured here. {args.threads} torch thread(s); the machine may "
        "be shared with other jobs (load below)."
    )
    shown = argparse.Namespace(
        **{
            **vars(args),
            "architectures": args.architectures and [a.label() for a in args.architectures],
        }
    )
    measured: dict[str, object] = {
        "threads": args.threads,
        "torch": torch.__version__,
        "rows": [timed.row() for timed in times],
        "totals": spans,
        "data_seconds": data_seconds,
    }
    title = "Time of the paper's whole protocol, estimated from timed steps"
    publish(
        shown,
        STEM,
        title,
        markdown(times, spans),
        note,
        command,
        (load_before, load_after),
        measured,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
