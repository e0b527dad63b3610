"""The per-seed reproduction's report (``tp_reproduce.py`` without ``--protocol``): the
recorded invocations in (each a list of rows: task, seed, configuration, schedule, accuracies,
lifted agreement); the paper's selection over them and the Markdown report out. No torch here.
"""

from __future__ import annotations

from typing import Any

from rasp_ir.frontends.transformer_programs.config import (
    PAPER_ARCHITECTURES,
    PAPER_GRID,
    Architecture,
    TrainConfig,
    paper_epochs,
)
from rasp_ir.frontends.transformer_programs.tasks import RASP_TASKS

PAPER_DATASET_SIZE = TrainConfig().dataset_size


def _architecture(row: dict[str, Any]) -> str:
    keys = ("n_layers", "n_heads_cat", "n_heads_num", "n_cat_mlps", "n_num_mlps")
    return "/".join(str(row["architecture"][k]) for k in keys)


def _agreement(row: dict[str, Any]) -> str:
    if row.get("agreement") is None:
        return "lift failed"
    return f"{row['agreement']:.0%} ({row['positions_compared']})"


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    """One invocation's table."""
    lines = [
        f"Command: `{command}`",
        "",
        "| task | seed | L/Hc/Hn/Mc/Mn | epochs | train/val/test | test acc (ours) | paper "
        "| lifted agreement (positions) | program lines | s/epoch | lift s |",
        "|---|---:|---|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        sizes = "/".join(str(r["sizes"][s]) for s in ("train", "val", "test"))
        lines.append(
            f"| {r['task']} | {r['seed']} | {_architecture(r)} | {r['epochs']} | {sizes} "
            f"| {100 * r['test_accuracy']:.2f} | {100 * r['paper_accuracy']:.2f} "
            f"| {_agreement(r)} | {r['program_lines']} | {r['seconds_per_epoch']:.2f} "
            f"| {r['lift_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _at_paper_schedule(row: dict[str, Any]) -> bool:
    """Whether a run had the paper's epochs and data set size (early runs did not record the
    size: they used the default)."""
    size = row.get("dataset_size", PAPER_DATASET_SIZE)
    return bool(row["epochs"] == paper_epochs(row["task"]) and size == PAPER_DATASET_SIZE)


def _paper_recipe(row: dict[str, Any]) -> bool:
    """The paper's schedule and no gradient clipping (not recorded by early runs: none)."""
    return _at_paper_schedule(row) and row.get("clip_grad_norm") is None


def paper_protocol(runs: list[dict[str, Any]], grid: bool = False) -> list[dict[str, Any]]:
    """Per task, the paper's selection over every recorded run with the paper's recipe
    (schedule, default dataset size, no gradient clipping) at the task's Table 1 configuration,
    or with ``grid`` also at every configuration of the paper's grid: the run with the best
    validation accuracy (ties: Table 1's configuration, then the lower seed). Each entry keeps
    every eligible run for context."""
    by_task: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for run in runs:
        for row in run["rows"]:
            task = row["task"]
            arch = Architecture(**row["architecture"])
            eligible = {PAPER_ARCHITECTURES[task], *(PAPER_GRID if grid else ())}
            if arch in eligible and _paper_recipe(row):
                by_task.setdefault(task, {})[(arch.label(), row["seed"])] = row
    summary = []
    for task in RASP_TASKS:
        if task not in by_task:
            continue
        table1 = PAPER_ARCHITECTURES[task].label()
        order = sorted(
            by_task[task].items(),
            key=lambda item: (item[0][0] != table1, item[0][1], item[0][0]),
        )
        eligible_rows = [row for _, row in order]
        summary.append(
            {
                "task": task,
                "best": max(eligible_rows, key=lambda r: r["val_accuracy"]),
                "runs": eligible_rows,
                "all_agree": all(r.get("agreement") == 1.0 for r in eligible_rows),
            }
        )
    return summary


def _label(row: dict[str, Any]) -> str:
    return Architecture(**row["architecture"]).label()


def _table1_section(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| task | seeds run | best seed (by val) | val | test (ours) | paper | ours - paper "
        "| target | test of every seed | lifted agreement, all seeds |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for entry in paper_protocol(runs):
        best = entry["best"]
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        seeds = " ".join(str(r["seed"]) for r in entry["runs"])
        every = ", ".join(f"{100 * r['test_accuracy']:.2f}" for r in entry["runs"])
        lines.append(
            f"| {entry['task']} | {seeds} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {_target(entry['task'], gap)} "
            f"| {every} "
            f"| {_agreement_cell(entry['all_agree'])} |"
        )
    return lines


def _grid_section(runs: list[dict[str, Any]]) -> list[str]:
    """The paper's full model selection, or nothing while every run is at Table 1's
    configuration (the table above already says it all)."""
    entries = paper_protocol(runs, grid=True)
    table1 = {task: arch.label() for task, arch in PAPER_ARCHITECTURES.items()}
    if all(_label(r) == table1[e["task"]] for e in entries for r in e["runs"]):
        return []
    lines = [
        "",
        "## The paper's model selection over its grid",
        "",
        "The paper chose each task's configuration by validation accuracy over a grid "
        "(layers 2, 3 x heads 4, 8 x MLPs 2, 4 per layer, 5 seeds each); Table 1 lists the "
        "chosen ones. Here: the best validation accuracy over every run at the paper's schedule, "
        "at Table 1's configuration (first) and at the grid's.",
        "",
        "| task | runs: L/H/M x seeds | selected L/H/M | seed | val | test (ours) | paper "
        "| ours - paper | target | best test of each L/H/M | lifted agreement, all runs |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for entry in entries:
        best = entry["best"]
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        by_label: dict[str, list[float]] = {}
        for row in entry["runs"]:
            by_label.setdefault(_label(row), []).append(row["test_accuracy"])
        counts = ", ".join(f"{label} x{len(tests)}" for label, tests in by_label.items())
        tops = ", ".join(f"{label}: {100 * max(tests):.2f}" for label, tests in by_label.items())
        lines.append(
            f"| {entry['task']} | {counts} | {_label(best)} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {_target(entry['task'], gap)} "
            f"| {tops} | {_agreement_cell(entry['all_agree'])} |"
        )
    return lines


def _best_epoch_section(runs: list[dict[str, Any]]) -> list[str]:
    """Beyond the paper: per task, the selection of the Table 1 protocol made over the runs'
    best-validation epochs instead of their final models (runs recorded before best epochs
    were kept are left out; nothing while there are none)."""
    entries = []
    for entry in paper_protocol(runs):
        kept = [row for row in entry["runs"] if "best_epoch" in row]
        if kept:
            entries.append((entry["task"], kept))
    if not entries:
        return []
    lines = [
        "",
        "## Beyond the paper: the best-validation epoch",
        "",
        "The paper reports each run's final model; the targets above are judged on those. "
        "Every run also keeps the epoch whose argmax model had the best validation accuracy "
        "(`RUN_DIR/best`). Here, per task at Table 1's configuration and the paper's schedule, "
        "the run whose best epoch has the highest validation accuracy, and that epoch's test "
        "accuracy. It selects on validation data only, but it is not the paper's protocol. "
        "Only runs recorded since best epochs were kept are counted.",
        "",
        "| task | seeds | selected seed | epoch | val | test (ours) | paper | ours - paper "
        "| final model's test, same seed | best-epoch test of every seed "
        "| lifted agreement, all best epochs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for task, kept in entries:
        best = max(kept, key=lambda r: r["best_val_accuracy"])
        gap = 100 * (best["best_test_accuracy"] - best["paper_accuracy"])
        seeds = " ".join(str(r["seed"]) for r in kept)
        every = ", ".join(f"{100 * r['best_test_accuracy']:.2f}" for r in kept)
        agree = all(r.get("best_agreement") == 1.0 for r in kept)
        lines.append(
            f"| {task} | {seeds} | {best['seed']} | {best['best_epoch']} "
            f"| {100 * best['best_val_accuracy']:.2f} | {100 * best['best_test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} "
            f"| {100 * best['test_accuracy']:.2f} | {every} | {_agreement_cell(agree)} |"
        )
    return lines


def _clipped_section(runs: list[dict[str, Any]]) -> list[str]:
    """Beyond the paper: runs that clipped their gradients (otherwise the paper's schedule, at
    Table 1's configuration), per task and clipping norm: the best validation seed, and every
    seed's test accuracy next to the same seed's without clipping."""
    paper: dict[tuple[str, int], dict[str, Any]] = {}
    clipped: dict[tuple[str, float], dict[int, dict[str, Any]]] = {}
    for run in runs:
        for row in run["rows"]:
            if Architecture(**row["architecture"]) != PAPER_ARCHITECTURES[row["task"]]:
                continue
            clip = row.get("clip_grad_norm")
            if _paper_recipe(row):
                paper[(row["task"], row["seed"])] = row
            elif clip is not None and _at_paper_schedule(row):
                clipped.setdefault((row["task"], clip), {})[row["seed"]] = row
    if not clipped:
        return []
    lines = [
        "",
        "## Beyond the paper: gradient clipping",
        "",
        "The paper's recipe except that each step's gradient is clipped to a global norm "
        "(`--clip-grad-norm`), at Table 1's configuration. Final models, best validation seed. "
        "In brackets: the same seed's test accuracy without clipping (the paper's recipe).",
        "",
        "| task | clip | seeds | best seed (by val) | val | test (ours) | paper | ours - paper "
        "| test of every seed (without clipping) | lifted agreement, all seeds |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    order = {task: index for index, task in enumerate(RASP_TASKS)}
    for (task, clip), by_seed in sorted(clipped.items(), key=lambda i: (order[i[0][0]], i[0][1])):
        rows = [by_seed[seed] for seed in sorted(by_seed)]
        best = max(rows, key=lambda r: r["val_accuracy"])
        gap = 100 * (best["test_accuracy"] - best["paper_accuracy"])
        every = ", ".join(
            f"{100 * r['test_accuracy']:.2f} ({_test_of(paper.get((task, r['seed'])))})"
            for r in rows
        )
        agree = all(r.get("agreement") == 1.0 for r in rows)
        lines.append(
            f"| {task} | {clip:g} | {' '.join(str(r['seed']) for r in rows)} | {best['seed']} "
            f"| {100 * best['val_accuracy']:.2f} | {100 * best['test_accuracy']:.2f} "
            f"| {100 * best['paper_accuracy']:.2f} | {gap:+.2f} | {every} "
            f"| {_agreement_cell(agree)} |"
        )
    return lines


def _agreement_cell(all_agree: bool) -> str:
    return "100%" if all_agree else "NOT 100%"


def _test_of(row: dict[str, Any] | None) -> str:
    return "-" if row is None else f"{100 * row['test_accuracy']:.2f}"


def render(meta: dict[str, Any]) -> str:
    """The whole Markdown report: the paper's protocol first, then every invocation."""
    lines = [
        "# Transformer Programs: Table 1 reproduction",
        "",
        "Paper protocol: Table 1 configuration, 250 epochs, batch 512, Adam 5e-2, "
        "temperature 3 -> 0.01; per task the seed with the best **validation** accuracy; "
        "its test accuracy is reported (the paper searched a grid x 5 seeds). "
        "Agreement: the lifted program vs the argmax model at every position of the whole test "
        "split, every input up to a length (2,000 inputs) and 200 random inputs, for every seed. "
        "Runs recorded before commit 1884b98 trained without sampling the token embedding (§5 of "
        "the reference: its frozen +-10 logits pass through the sampler too, which spreads about "
        "1% of the mass at the first temperatures); they are counted as the paper's recipe, and "
        "the clipping section's pairs may compare runs from either side of that change.",
        "",
        "Target (issue 5): within one point of the paper on every task, better than the paper "
        "on most_freq.",
        "",
        *_table1_section(meta["runs"]),
        *_grid_section(meta["runs"]),
        *_best_epoch_section(meta["runs"]),
        *_clipped_section(meta["runs"]),
    ]
    lines += ["", "## Every invocation", ""]
    for run in meta["runs"]:
        details = ", ".join(
            f"{key} {run[key]}"
            for key in (
                "date",
                "commit",
                "machine",
                "torch",
                "processes",
                "load_before",
                "load_after",
            )
            if key in run
        )
        if details:
            lines += [details, ""]
        lines += [markdown(run["rows"], run["command"])]
    return "\n".join(lines)


def _target(task: str, gap: float) -> str:
    """Whether the gap (ours - paper, points) meets the target: better on most_freq, else
    within one point."""
    if task == "most_freq":
        return "met (better)" if gap > 0 else "NOT met (needs better)"
    return "met" if gap >= -1 else "NOT met"
