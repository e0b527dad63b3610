"""What ``rasp report`` shows of a population (``rasp tp train --seeds``) beside the member it
lifts: a resolved :class:`~.population_folder.MemberCheckpoint` in, the facts at the top of the
page (the seeds, the member shown and what validation selects) and a table of every member's
accuracies out; nothing for a single run."""

from __future__ import annotations

from typing import Any

from rasp_ir.api import RaspError, SummaryTable

from .population_folder import POPULATION_FILE, MemberCheckpoint

COLUMNS = (
    "seed",
    "final train",
    "final val",
    "final test",
    "best epoch",
    "best val",
    "best test",
    "selected by validation",
    "diverged",
    "culled",
)
# What population.json's ``selected`` keys mean, in words.
SELECTIONS = {"model": "among the final models", "best": "among the best epochs"}


def member_kind(found: MemberCheckpoint) -> str:
    """The artifact's kind for people: which member is shown and whether validation picked it."""
    chosen = " and ".join(SELECTIONS[key] for key in found.selected_as() if key in SELECTIONS)
    why = f", selected by validation {chosen}" if chosen else ""
    return f"Transformer Programs population: member seed {found.seed}{why}"


def population_facts(found: MemberCheckpoint) -> tuple[tuple[str, str], ...]:
    """The population's facts: its members and the data's seed, and the member selected by
    validation among the final models and among the best epochs."""
    population = found.population
    if population is None:
        return ()
    seeds = ", ".join(str(seed) for seed in population["seeds"])
    facts = [("population", f"{len(population['seeds'])} members, seeds {seeds}")]
    if "data_seed" in population:
        facts.append(("data", f"generated with seed {population['data_seed']}, shared"))
    for key, words in SELECTIONS.items():
        if key in population["selected"]:
            facts.append((f"selected {words}", f"seed {population['selected'][key]}"))
    return tuple(facts)


def population_tables(found: MemberCheckpoint) -> tuple[SummaryTable, ...]:
    """One table, every member in the order of the seeds: the final argmax model's accuracy on
    each split, the best-validation epoch and its accuracies, what validation selected it
    for, where it diverged and when a cull stopped it (when they did)."""
    population = found.population
    if population is None:
        return ()
    try:
        rows = tuple(_row(member, population["selected"]) for member in population["members"])
    except (KeyError, TypeError, ValueError) as error:
        raise RaspError.single(
            "checkpoint",
            f"{found.run_dir / POPULATION_FILE}: not a readable population file ({error})",
            hint="train the population again, or resume it with --resume",
        ) from None
    note = (
        "final: the argmax model after the last epoch (a culled member's: after the cut); "
        "best: the epoch whose argmax model was "
        "best on the validation split. This page shows member seed "
        f"{found.seed}; rasp report RUN_DIR --member SEED shows another."
    )
    return (SummaryTable("Population", COLUMNS, rows, note),)


def _row(member: dict[str, Any], selected: dict[str, int]) -> tuple[str, ...]:
    seed = int(member["seed"])
    final = member.get("accuracy_argmax") or {}
    best = member.get("best_accuracy_argmax") or {}
    epoch = member.get("best_epoch")
    diverged = member.get("diverged")
    culled = member.get("culled")
    chosen = [words for key, words in SELECTIONS.items() if selected.get(key) == seed]
    return (
        str(seed),
        _percent(final.get("train")),
        _percent(final.get("val")),
        _percent(final.get("test")),
        "" if epoch is None else str(epoch),
        _percent(best.get("val")),
        _percent(best.get("test")),
        "; ".join(chosen),
        "" if not diverged else f"epoch {diverged['epoch']} step {diverged['step']}, frozen",
        "" if not culled else f"after epoch {culled['epoch']} (final: its model there)",
    )


def _percent(value: Any) -> str:
    return "" if value is None else f"{float(value):.2%}"
