"""Would a cut have kept the member that ends best? Finished population runs in (their
``metrics.json`` and ``population.json``); per run and cut epoch out: the members a cut by
relaxed training loss (as ``rasp tp train --cull-after`` ranks them) and one by argmax
validation accuracy would keep, the rank each score gives the member whose final model ends
best on the test split (and the member whose best epoch does), and each score's rank
correlation with the final test accuracy.

    .venv/bin/python benchmarks/tp_cull_signal.py RUN_DIR [RUN_DIR ...] [--at 10 20 30 50]
        [--keep K] [--name tp_cull_signal]

It trains nothing: it reads populations already trained (``rasp tp train --seeds``, the run
folders of ``benchmarks/tp_recipe.py``), whose members trained independently to the end. A run
whose members took each other's states (exploit rounds) or that was culled is refused: its final
models are not its members' own. Both scores are averaged over the
:data:`~rasp_ir.frontends.transformer_programs.cull.CULL_WINDOW` epochs up to the cut, as the
cull averages the loss; ``--keep`` defaults to the cull's (a quarter of the members). Prints a
Markdown table and writes benchmarks/results/NAME.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.frontends.transformer_programs.cull import (  # noqa: E402
    CULL_WINDOW,
    kept_count,
    members_kept,
    ranking,
)
from rasp_ir.frontends.transformer_programs.exploit import window_scores  # noqa: E402
from rasp_ir.frontends.transformer_programs.population_folder import (  # noqa: E402
    read_population,
)


def rank_correlation(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Spearman's rank correlation of two equally long series (ties share their mean rank);
    None when either is constant or shorter than two."""
    if len(first) < 2:
        return None
    a, b = _ranks(first), _ranks(second)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values: Sequence[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in set(values):  # ties: their mean rank
        tied = [i for i, v in enumerate(values) if v == value]
        ranks[tied] = ranks[tied].mean()
    return ranks


def run_signal(run_dir: Path, cuts: Sequence[int], keep: int | None) -> dict[str, Any]:
    """One run's rows, one per cut epoch within its epochs; SystemExit naming the run when it
    is not a finished population whose members trained independently to the end."""
    population = read_population(run_dir)
    if population is None:
        raise SystemExit(f"{run_dir}: no population.json (is it a finished population's run?)")
    members = population["members"]
    if any(m.get("exploits") or m.get("culled") for m in members):
        raise SystemExit(
            f"{run_dir}: its members took each other's states or were culled; their final "
            "models are not their own"
        )
    epochs = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["epochs"]
    seeds = [int(m["seed"]) for m in members]
    final = [100 * m["accuracy_argmax"]["test"] for m in members]
    best = [100 * (m["best_accuracy_argmax"] or m["accuracy_argmax"])["test"] for m in members]
    winner, best_epoch_winner = int(np.argmax(final)), int(np.argmax(best))
    keeping = kept_count(keep, len(members))
    rows = []
    for cut in (cut for cut in cuts if cut <= len(epochs)):
        seen, frozen = epochs[:cut], [False] * len(members)
        window = min(CULL_WINDOW, cut)
        losses = window_scores(seen, window, frozen, "train_loss")
        accuracies = window_scores(seen, window, frozen, "val_accuracy")
        by_loss = members_kept(losses, keeping)
        by_val = members_kept([None if a is None else -a for a in accuracies], keeping)
        rows.append(
            {
                "cut_after": cut,
                "kept_by_loss": [seeds[i] for i in by_loss],
                "kept_by_val_accuracy": [seeds[i] for i in by_val],
                "loss": losses,
                "val_accuracy": accuracies,
                "winner_rank_by_loss": _rank_of(winner, losses, lower_is_better=True),
                "winner_rank_by_val_accuracy": _rank_of(winner, accuracies, False),
                "best_epoch_winner_rank_by_loss": _rank_of(best_epoch_winner, losses, True),
                "correlation_loss": _correlation(
                    [-x if x is not None else None for x in losses], final
                ),
                "correlation_val_accuracy": _correlation(accuracies, final),
            }
        )
    return {
        "run": str(run_dir),
        "task": population.get("task"),
        "seeds": seeds,
        "keep": keeping,
        "final_test": final,
        "best_epoch_test": best,
        "winner": seeds[winner],
        "best_epoch_winner": seeds[best_epoch_winner],
        "rows": rows,
    }


def _rank_of(index: int, scores: Sequence[float | None], lower_is_better: bool) -> int | None:
    """Member ``index``'s place (1: first) among ``scores`` as the cull ranks them (None: it
    has no score)."""
    if scores[index] is None:
        return None
    sign = 1.0 if lower_is_better else -1.0
    signed = [None if score is None else sign * score for score in scores]
    return ranking(signed).index(index) + 1


def _correlation(scores: Sequence[float | None], final: Sequence[float]) -> float | None:
    """The rank correlation of ``scores`` with ``final`` over the members with a score."""
    pairs = [(s, f) for s, f in zip(scores, final, strict=True) if s is not None]
    return rank_correlation([s for s, _ in pairs], [f for _, f in pairs])


def render(runs: Sequence[dict[str, Any]]) -> str:
    """The Markdown table: one line per run and cut epoch."""
    lines = [
        "| run | task | members (keep) | cut after epoch | kept by loss | kept by val accuracy "
        "| ends best: final (test) | its rank by loss / by val | best epoch ends best: seed, "
        "rank by loss | rank correlation with final test: -loss / val |",
        "|---|---|---|---:|---|---|---|---|---|---|",
    ]
    for run in runs:
        winner = run["seeds"].index(run["winner"])
        for row in run["rows"]:
            lines.append(
                f"| `{run['run']}` | {run['task']} | {len(run['seeds'])} ({run['keep']}) "
                f"| {row['cut_after']} | {_seeds(row['kept_by_loss'])} "
                f"| {_seeds(row['kept_by_val_accuracy'])} "
                f"| seed {run['winner']} ({run['final_test'][winner]:.2f}) "
                f"| {row['winner_rank_by_loss']} / {row['winner_rank_by_val_accuracy']} "
                f"| seed {run['best_epoch_winner']}, {row['best_epoch_winner_rank_by_loss']} "
                f"| {_number(row['correlation_loss'])} "
                f"/ {_number(row['correlation_val_accuracy'])} |"
            )
    return "\n".join(lines)


def _seeds(seeds: Sequence[int]) -> str:
    return ", ".join(str(seed) for seed in seeds)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--at", nargs="+", type=int, default=[10, 20, 30, 50], metavar="EPOCH")
    parser.add_argument("--keep", type=int, default=None, help="members a cut keeps (a quarter)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--name", default="tp_cull_signal")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_cull_signal.py", *(argv or sys.argv[1:])])
    before = uptime()
    runs = [run_signal(Path(run_dir), args.at, args.keep) for run_dir in args.run_dirs]
    note = (
        f"Each score is averaged over the {CULL_WINDOW} epochs up to the cut (fewer before "
        "epoch 5): the relaxed model's training loss (as the cull ranks members) and the argmax "
        "model's validation accuracy. Ranks: 1 is the first kept. The rank correlation is "
        "Spearman's over the run's members (+1: the score orders the members as their final "
        "test accuracy does)."
    )
    publish(
        args,
        args.name,
        "Transformer Programs: would a cut by training loss keep the member that ends best?",
        render(runs),
        note,
        command,
        (before, uptime()),
        {"runs": runs},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
