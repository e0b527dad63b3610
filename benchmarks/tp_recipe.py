"""Each ingredient of the robust recipe, measured on the seed distribution: a task and seeds in;
one population per variant (the paper's recipe, each ingredient added to it alone, the
``robust`` preset), and a table of the test accuracy over the seeds out.

    .venv/bin/python benchmarks/tp_recipe.py --jobs 2             # full scale (overnight)
    .venv/bin/python benchmarks/tp_recipe.py --task most_freq --name tp_recipe_most_freq
    .venv/bin/python benchmarks/tp_recipe.py --epochs 60 --dataset-size 10000 --seeds 0-3 \
        --variants paper clip cosine clip_cosine restarts --jobs 2   # the run on record

The defaults are the paper's scale: double_hist at Table 1's configuration, the task's epochs
of the paper (250; the in-context task 500), 20,000 examples, seeds 0-7, every variant. Fewer
epochs compress the whole schedule (temperature 3 -> 0.01, the cosine decay, the restarts'
patience counted in epochs) into them. Variants run as populations (``rasp tp train --seeds``:
every member as the single run of its seed), ``--jobs``
of them at a time; a variant with a cut (``cull_after``) starts wide, with ``WIDE_FACTOR`` times
the seeds (the given ones, then the next integers after the largest) on the same data, and its
cut keeps as many members as the others train; each on ``--threads`` torch threads, into
``--runs DIR/TASK/VARIANT``: a variant whose folder already holds the finished population of
the same settings and seeds is read, not trained again, and one that was interrupted is
resumed, so the command can be run again to continue.

Per variant: the median, best and worst test accuracy over the seeds of the final models and of
the best-validation epochs, the test accuracy of the member validation selects, the share of
collapsed runs (a run whose final model's validation accuracy is more than 5 points below its
best epoch's: it had a better model and lost it), the restarts and the copies of exploit rounds.
``uptime``'s load before and after, torch's threads and the scale are recorded beside the
figures. Writes
``benchmarks/results/tp_recipe.{json,md}`` (``--results``; ``--name`` for another stem).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import shlex
import statistics
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import (  # noqa: E402
    RESULTS,
    load_averages,
    machine,
    uptime,
    write_results,
)
from rasp_ir.api import RaspError, write_text_atomically  # noqa: E402
from rasp_ir.frontends.transformer_programs.config import (  # noqa: E402
    TrainConfig,
    paper_epochs,
)
from rasp_ir.frontends.transformer_programs.population_folder import (  # noqa: E402
    parse_seeds,
    read_population,
)
from rasp_ir.frontends.transformer_programs.recipes import recipe_train_config  # noqa: E402

# What the benchmark keeps beside a variant's population: the load averages when it was trained.
VARIANT_RECORD = "tp_recipe_run.json"

# A run that ends more than this far below its best epoch's validation accuracy has collapsed.
COLLAPSE_DROP = 0.05

# A variant with a cut starts with this many times the seeds; its cut keeps the default quarter
# (``cull.kept_count``): as many members as the other variants train.
WIDE_FACTOR = 4

# Each ingredient alone on top of the paper's recipe (the settings it changes), one pair, and
# the robust preset itself (``recipe_train_config``, whatever it holds).
INGREDIENTS: dict[str, dict[str, Any]] = {
    "paper": {},
    "clip": {"clip_grad_norm": 1.0},
    "cosine": {"lr_schedule": "cosine"},
    "restarts": {"restart_drop": 0.1, "restart_patience": 3, "restart_lr_factor": 0.5},
    "draws4": {"gumbel_samples": 4},
    "lr_2e-2": {"lr": 2e-2},
    "lr_1e-2": {"lr": 1e-2},
    "tau_1": {"tau_init": 1.0},
    "tau_10": {"tau_init": 10.0},
    "clip_cosine": {"clip_grad_norm": 1.0, "lr_schedule": "cosine"},
    "clip_tau_10": {"clip_grad_norm": 1.0, "tau_init": 10.0},
    "hard": {"sampler": "gumbel_hard"},
    "anneal_500": {"epochs": 500},
    "mixed": {"gumbel_samples": 2, "hard_samples": 1},
    "entropy_0.3": {"choice_entropy": 0.3},
    "entropy_1": {"choice_entropy": 1.0},
    "clip_hard": {"clip_grad_norm": 1.0, "sampler": "gumbel_hard"},
    "exploit": {"exploit_every": 10},
    "clip_exploit": {"clip_grad_norm": 1.0, "exploit_every": 10},
    "clip_exploit_100": {"clip_grad_norm": 1.0, "exploit_every": 10, "exploit_start": 100},
    "clip_exploit_loss": {
        "clip_grad_norm": 1.0,
        "exploit_every": 10,
        "exploit_score": "train_loss",
    },
    "clip_cull_exploit_loss": {
        "clip_grad_norm": 1.0,
        "cull_after": 30,
        "exploit_every": 10,
        "exploit_start": 30,
        "exploit_score": "train_loss",
    },
    "robust": {},
}
VARIANT_NOTES = {
    "paper": "the paper's recipe",
    "clip": "+ gradient clipping (global norm 1, per member)",
    "cosine": "+ cosine learning-rate decay to 0",
    "restarts": "+ restarts of collapsed runs from their best epoch (learning rate x0.5)",
    "draws4": "+ the loss averaged over 4 Gumbel draws per batch (4x the compute)",
    "lr_2e-2": "+ learning rate 2e-2 (the paper's is 5e-2)",
    "lr_1e-2": "+ learning rate 1e-2 (the paper's is 5e-2)",
    "tau_1": "+ temperature from 1 (the paper's starts at 3)",
    "tau_10": "+ temperature from 10 (the paper's starts at 3)",
    "clip_cosine": "+ clipping and the cosine decay together",
    "clip_tau_10": "+ clipping and the temperature from 10 together",
    "hard": "+ straight-through samples (`--sampler gumbel_hard`: one-hot forward values)",
    "mixed": "+ each batch's loss averaged over a relaxed draw and a straight-through one "
    "(`--gumbel-samples 2 --hard-samples 1`; 2x the compute)",
    "entropy_0.3": "+ 0.3 x the mean entropy of the structure choices added to the loss "
    "(`--choice-entropy 0.3`)",
    "entropy_1": "+ the structure choices' mean entropy added to the loss (`--choice-entropy 1`)",
    "anneal_500": "+ twice the epochs (500 at the paper's scale): the same temperatures, "
    "annealed half as fast",
    "clip_hard": "+ clipping and straight-through samples together",
    "exploit": "+ every 10 epochs the worst quarter of the members take the training state of "
    "the best quarter (`--exploit-every 10`: population-based training's exploitation)",
    "clip_exploit": "+ clipping and the exploit rounds together",
    "clip_exploit_100": "+ clipping and the exploit rounds from epoch 100 (temperature 0.31 at "
    "the paper's scale; `--exploit-start 100`)",
    "clip_exploit_loss": "+ clipping and the exploit rounds, members ranked by their relaxed "
    "training loss (`--exploit-score train_loss`)",
    "clip_cull_exploit_loss": "+ a wide start: four times the seeds, cut after epoch 30 to the "
    "quarter of lowest training loss (`--cull-after 30`), clipping, and exploit rounds by "
    "training loss from the cut on",
    "robust": "the robust preset for a population (`--recipe robust --seeds ...`)",
}


def variant_settings(name: str, base: TrainConfig) -> TrainConfig:
    """The settings of variant ``name`` on ``base`` (the paper's settings at the run's scale)."""
    if name == "robust":
        return recipe_train_config("robust", base, population=True)
    return replace(base, **INGREDIENTS[name])


def variant_seeds(name: str, seeds: tuple[int, ...]) -> tuple[int, ...]:
    """The seeds variant ``name`` trains: ``seeds``, or for a variant with a cut ``WIDE_FACTOR``
    times as many (``seeds``, then the next integers after the largest), so that its cut to a
    quarter keeps as many members as the other variants train."""
    if INGREDIENTS[name].get("cull_after") is None:
        return seeds
    after = max(seeds) + 1
    return (*seeds, *range(after, after + (WIDE_FACTOR - 1) * len(seeds)))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="double_hist")
    parser.add_argument("--seeds", default="0-7", help="as rasp tp train --seeds (0-7)")
    parser.add_argument(
        "--epochs", type=int, default=None, help="default: the paper's (induction 500, else 250)"
    )
    parser.add_argument("--dataset-size", type=int, default=20_000)
    parser.add_argument("--variants", nargs="+", choices=list(INGREDIENTS), default=None)
    parser.add_argument("--runs", type=Path, default=Path("runs/tp_recipe"))
    parser.add_argument("--jobs", type=int, default=1, help="variants trained at a time")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--name", default="tp_recipe")
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = paper_epochs(args.task)
    return args


def train_variant(
    task: str, run_dir: Path, seeds: tuple[int, ...], settings: dict[str, Any], threads: int
) -> dict[str, Any]:
    """The population of ``settings`` in ``run_dir`` (trained, resumed or read back); its
    ``population.json``, the load averages when its training ended (kept in
    ``RUN_DIR/VARIANT_RECORD``, so that a population read back keeps its own) and whether it was
    trained now. A folder holding another population's progress is not overwritten: resuming it
    refuses other settings."""
    from rasp_ir.frontends.transformer_programs.population_train import train_population

    wanted = TrainConfig.from_json(settings)
    done = read_population(run_dir)
    finished = (
        done is not None
        and done.get("task") == task
        and done["seeds"] == list(seeds)
        and TrainConfig.from_json(done["train"]) == wanted
    )
    if not finished:
        resume = (run_dir / "last.json").exists()
        train_population(
            task, run_dir, seeds, settings=wanted, resume=resume, progress=False, threads=threads
        )
        done = read_population(run_dir)
        record = {"load_when_done": load_averages()}
        write_text_atomically(run_dir / VARIANT_RECORD, json.dumps(record) + "\n")
    assert done is not None
    recorded = run_dir / VARIANT_RECORD
    load = json.loads(recorded.read_text())["load_when_done"] if recorded.exists() else None
    courses = loss_courses(json.loads((run_dir / "metrics.json").read_text())["epochs"])
    return {**done, "load_when_done": load, "trained_now": not finished, "loss_courses": courses}


def loss_courses(epochs: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Per member (in the order of the seeds), from a population's per-epoch metrics: the
    relaxed model's lowest training loss, the epoch and temperature where it was reached, and
    the last epoch's loss. A final loss well above the lowest is a run that had learned the
    task in its relaxed form and lost it as the temperature fell."""
    courses = []
    for member in range(len(epochs[0]["loss"])):
        trained = [row for row in epochs if row["loss"][member] is not None]  # to a cut
        lowest = min(trained, key=lambda row: row["loss"][member])
        courses.append(
            {
                "lowest": lowest["loss"][member],
                "epoch": lowest["epoch"],
                "tau": lowest["tau"],
                "final": trained[-1]["loss"][member],
            }
        )
    return courses


def summarise(population: dict[str, Any]) -> dict[str, Any]:
    """One variant's row: the distribution of test accuracy over its seeds that trained to the
    end (final models and best epochs; a cut's culled members are counted apart), the selected
    members' test accuracy, collapses, restarts and the training states members took from
    others (exploit rounds)."""
    members = population["members"]
    finished = [m for m in members if not m.get("culled")]
    final = [100 * m["accuracy_argmax"]["test"] for m in finished]
    best = [100 * m["best_accuracy_argmax"]["test"] for m in finished if m["best_accuracy_argmax"]]
    collapsed = [
        m["seed"]
        for m in finished
        if m["best_accuracy_argmax"]
        and m["accuracy_argmax"]["val"] < m["best_accuracy_argmax"]["val"] - COLLAPSE_DROP
    ]
    by_seed = {m["seed"]: m for m in members}
    selected = population["selected"]
    return {
        "final_test": _spread(final),
        "best_epoch_test": _spread(best),
        "selected_final_test": 100 * by_seed[selected["model"]]["accuracy_argmax"]["test"],
        "selected_best_test": 100 * by_seed[selected["best"]]["best_accuracy_argmax"]["test"],
        "collapsed_seeds": collapsed,
        "collapsed_share": len(collapsed) / len(finished),
        "restarts": sum(len(m.get("restarts", [])) for m in members),
        "copies": sum(len(m.get("exploits", [])) for m in members),
        "culled_seeds": [m["seed"] for m in members if m.get("culled")],
        "final_test_by_seed": {str(m["seed"]): 100 * m["accuracy_argmax"]["test"] for m in members},
        "seconds_per_epoch": population["seconds_per_epoch"],
        "loss_course_by_seed": {
            str(m["seed"]): course
            for m, course in zip(members, population["loss_courses"], strict=True)
        },
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "best": max(values), "worst": min(values)}


def _train_all(jobs: list[tuple[Any, ...]], at_once: int) -> list[dict[str, Any]]:
    """:func:`train_variant` of every job, ``at_once`` processes at a time (in this process
    when 1)."""
    if at_once == 1:
        return [train_variant(*job) for job in jobs]
    context = multiprocessing.get_context("spawn")  # torch in the workers, not forked
    with ProcessPoolExecutor(max_workers=at_once, mp_context=context) as pool:
        return list(pool.map(_train_variant_in_worker, *zip(*jobs, strict=True)))


def _train_variant_in_worker(*job: Any) -> dict[str, Any]:
    """:func:`train_variant` in a worker process, its RaspError passed back as its message (a
    RaspError does not survive the trip between processes)."""
    try:
        return train_variant(*job)
    except RaspError as error:
        raise RuntimeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_recipe.py", *(argv or sys.argv[1:])])
    from rasp_ir.frontends.transformer_programs.train import default_train_config

    seeds = parse_seeds(args.seeds)
    base = default_train_config(
        args.task, epochs=args.epochs, dataset_size=args.dataset_size, seed=seeds[0]
    )
    names = args.variants or list(INGREDIENTS)
    settings = {name: variant_settings(name, base) for name in names}
    load_before = uptime()
    began = datetime.datetime.now(datetime.UTC)
    trained_seeds = {name: variant_seeds(name, seeds) for name in names}
    jobs = [
        (
            args.task,
            args.runs / args.task / name,
            trained_seeds[name],
            settings[name].to_json(),
            args.threads,
        )
        for name in names
    ]
    populations = dict(zip(names, _train_all(jobs, args.jobs), strict=True))
    minutes = (datetime.datetime.now(datetime.UTC) - began).total_seconds() / 60
    rows = {name: summarise(populations[name]) for name in names}
    payload = {
        "command": command,
        "date": began.isoformat(timespec="seconds"),
        "machine": machine(),
        "threads": args.threads,
        "jobs": args.jobs,
        "load_before": load_before,
        "load_after": uptime(),
        "minutes": minutes,
        "task": args.task,
        "architecture": populations[names[0]]["architecture"],
        "seeds": list(seeds),
        "epochs": args.epochs,
        "dataset_size": args.dataset_size,
        "collapse_drop": COLLAPSE_DROP,
        "variants": {
            name: {
                "settings": settings[name].to_json(),
                "seeds": list(trained_seeds[name]),
                "load_when_done": populations[name]["load_when_done"],
                "trained_now": populations[name]["trained_now"],
                **rows[name],
            }
            for name in names
        },
    }
    markdown = render(payload)
    write_results(args.results, args.name, payload, markdown)
    print(markdown)
    return 0


def render(payload: dict[str, Any]) -> str:
    """The Markdown table of a run's ``payload``."""
    epochs = paper_epochs(payload["task"])
    full = payload["epochs"] == epochs and payload["dataset_size"] == 20_000
    scale = (
        "the paper's scale"
        if full
        else "**reduced scale**: the whole schedule (temperature 3 -> 0.01, the cosine "
        "decay, the restarts' patience in epochs) compressed into these epochs; the paper's "
        f"is {epochs} epochs of 20,000 examples"
    )
    lines = [
        f"# Transformer Programs: the robust recipe's ingredients on {payload['task']}",
        "",
        f"Scale: {payload['task']} at {payload['architecture']} (L/H/M, Table 1), "
        f"{payload['epochs']} epochs, {payload['dataset_size']:,} examples, seeds "
        f"{', '.join(str(s) for s in payload['seeds'])} ({len(payload['seeds'])} per variant; "
        f"a variant with a cut starts with {WIDE_FACTOR} times as many, the next seeds after "
        "these, and keeps as many), "
        f"batch 512, Adam 5e-2, temperature 3 -> 0.01 (unless the variant says otherwise); "
        f"{scale}.",
        "",
        f"Command: `{payload['command']}` ({payload['machine']}, {payload['threads']} torch "
        f"thread(s) per variant, {payload['jobs']} variant(s) at a time, "
        f"{payload['minutes']:.0f} min; {payload['date']}). The CPU was shared with other "
        "agents' jobs: the load is quoted, and accuracies do not depend on it.",
        "",
        f"- load before (`uptime`): `{payload['load_before']}`",
        f"- load after: `{payload['load_after']}`",
        "",
        "Test accuracy (%) over the seeds: the final models, and the best-validation epochs; "
        "'selected' is the member validation selects (final / best epoch). Collapsed: the final "
        f"model's validation accuracy more than {100 * payload['collapse_drop']:.0f} points "
        "below its best epoch's. Copies: training states members took from others in exploit "
        "rounds (a member that took one is no longer the single run of its seed). Culled: "
        "members a cut stopped (`--cull-after`); the spread is over the others, and their "
        "final models in the per-seed table are the ones at the cut.",
        "",
        "| variant | what | final: median | best | worst | best epoch: median | best | worst "
        "| selected: final / best epoch | collapsed | restarts | copies | culled "
        "| s/epoch (all seeds) | load when trained (1/5/15 min) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for name, row in payload["variants"].items():
        final, best = row["final_test"], row["best_epoch_test"]
        collapsed = ", ".join(str(s) for s in row["collapsed_seeds"]) or "none"
        lines.append(
            f"| {name} | {VARIANT_NOTES[name]} | {final['median']:.2f} | {final['best']:.2f} "
            f"| {final['worst']:.2f} | {best['median']:.2f} | {best['best']:.2f} "
            f"| {best['worst']:.2f} | {row['selected_final_test']:.2f} / "
            f"{row['selected_best_test']:.2f} | {row['collapsed_share']:.0%} ({collapsed}) "
            f"| {row['restarts']} | {row['copies']} | {len(row.get('culled_seeds', []))} "
            f"| {row['seconds_per_epoch']:.1f} "
            f"| {row['load_when_done'] or 'not recorded'}"
            f"{'' if row['trained_now'] else ' (read back: trained by an earlier run)'} |"
        )
    every_seed = sorted({seed for row in payload["variants"].values() for seed in row["seeds"]})
    lines += ["", "Final test accuracy of every seed (-: a seed the variant did not train):", ""]
    lines.append("| variant | " + " | ".join(f"seed {s}" for s in every_seed) + " |")
    lines.append("|---|" + "---:|" * len(every_seed))
    for name, row in payload["variants"].items():
        by_seed, culled = row["final_test_by_seed"], row.get("culled_seeds", [])
        cells = " | ".join(
            "-"
            if str(seed) not in by_seed
            else f"{by_seed[str(seed)]:.2f}{' (culled)' if seed in culled else ''}"
            for seed in every_seed
        )
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        "Training loss (the relaxed model's, per epoch) of every seed: the lowest, at epoch "
        "(temperature), -> the last epoch's. A last loss far above the lowest: the relaxed "
        "model had learned and lost it as the temperature fell.",
        "",
    ]
    lines.append("| variant | " + " | ".join(f"seed {s}" for s in every_seed) + " |")
    lines.append("|---|" + "---|" * len(every_seed))
    for name, row in payload["variants"].items():
        courses = row["loss_course_by_seed"]
        cells = " | ".join(_course_cell(courses.get(str(seed))) for seed in every_seed)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def _course_cell(course: dict[str, Any] | None) -> str:
    """One seed's training-loss course as the table shows it (-: not trained)."""
    if course is None:
        return "-"
    return (
        f"{course['lowest']:.2f} at {course['epoch']} ({course['tau']:.2f}) -> "
        f"{course['final']:.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
