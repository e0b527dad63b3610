"""Where a Transformer Program's relaxed loss comes from: each member of a population run
evaluated with each family of discrete choices relaxed on its own, the others at their argmax.

    .venv/bin/python benchmarks/tp_relaxation_gap.py RUN_DIR [--checkpoint last|model|best]
        [--tau T] [--examples 2048] [--draws 3] [--name tp_relaxation_gap]

Training optimises the relaxed model (every choice a Gumbel-softmax sample at temperature tau);
the program is the argmax model. When the two disagree, this says which relaxed choices carry
the difference. The families: ``choices`` (the reads of queries, keys, values and MLP inputs,
the predicates and the token embedding: the program's structure), ``mlp`` (each MLP's output, a
choice per position) and ``attention`` (each query's choice of key). Per member and variant
(every family relaxed, none, each alone, each left out): the token loss and accuracy on the
first ``--examples`` validation sequences, averaged over ``--draws`` noise draws (seeded; the
program draws none).

RUN_DIR is a population's run folder (``rasp tp train TASK --seeds ...``), finished or still
training: ``--checkpoint last`` (the default) reads its latest epoch's weights, ``model`` and
``best`` every member's final and best-validation models. ``--tau`` defaults to the temperature
of the last epoch in its ``metrics.json``. Prints a Markdown table and writes
benchmarks/results/NAME.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.recording import RESULTS, publish, uptime  # noqa: E402
from rasp_ir.frontends.transformer_programs import checkpoint  # noqa: E402
from rasp_ir.frontends.transformer_programs.model import (  # noqa: E402
    TransformerProgram,
    categorical_attention,
    mlp_scores,
    sample,
    token_loss,
)
from rasp_ir.frontends.transformer_programs.population_folder import (  # noqa: E402
    member_dir,
    read_population,
)
from rasp_ir.frontends.transformer_programs.train import load_split  # noqa: E402

FAMILIES = ("choices", "mlp", "attention")


def variants() -> dict[str, frozenset[str]]:
    """The relaxed families of each variant, by its column name."""
    table = {"relaxed (all)": frozenset(FAMILIES), "program (none)": frozenset()}
    for family in FAMILIES:
        table[f"{family} only"] = frozenset({family})
    for family in FAMILIES:
        table[f"all but {family}"] = frozenset(FAMILIES) - {family}
    return table


def _one_hot(logits: Tensor) -> Tensor:
    return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)


class FamilyRelaxed(TransformerProgram):
    """The model in ``gumbel_soft`` mode with only the families in :attr:`relaxed` sampled; the
    others take their argmax (one-hot, no noise drawn). With every family relaxed it is the
    model's own relaxed forward pass, draw for draw."""

    relaxed: frozenset[str] = frozenset(FAMILIES)

    def _sample(self, logits: Tensor) -> Tensor:
        if "choices" in self.relaxed:
            return super()._sample(logits)
        return _one_hot(logits.to(self.dtype))

    def _mlp_outputs(self, read: Tensor, weights: tuple[Tensor, ...]) -> Tensor:
        scores = mlp_scores(read, *(w.to(self.dtype) for w in weights))
        if "mlp" in self.relaxed:
            return sample(scores, self.tau, self.mode, self.noise)
        return _one_hot(scores)

    def _attend(
        self, heads: tuple[Tensor, Tensor, Tensor, Tensor], mask: Tensor, bias: Tensor
    ) -> Tensor:
        if "attention" in self.relaxed:
            return super()._attend(heads, mask, bias)
        return categorical_attention(*heads, mask, bias, self.tau, "argmax")


def evaluate(
    model: FamilyRelaxed, x: Tensor, y: Tensor, tau: float, draws: int
) -> dict[str, dict[str, float]]:
    """Per variant, the mean token loss and accuracy (non-pad targets) over ``draws`` seeded
    noise draws."""
    model.set_sampling(tau=tau, mode="gumbel_soft")
    real = y != 0
    results = {}
    for name, families in variants().items():
        model.relaxed = families
        losses, accuracies = [], []
        with torch.no_grad():
            for draw in range(draws):
                torch.manual_seed(draw)
                logits = model(x)
                losses.append(float(token_loss(logits, y)))
                correct = (logits.argmax(-1) == y) & real
                accuracies.append(float(correct.sum() / real.sum()))
        results[name] = {"loss": sum(losses) / draws, "accuracy": sum(accuracies) / draws}
    return results


def members(run_dir: Path, which: str) -> list[tuple[int, FamilyRelaxed]]:
    """Every member of the population in ``run_dir`` as a :class:`FamilyRelaxed` holding the
    ``which`` checkpoint's weights (``last``: the population's latest epoch, of the members
    still training after a cull; ``model``, ``best``: each member's own file), with its seed."""
    if which == "last":
        saved, weights, _ = checkpoint.load_population(run_dir / "last.safetensors")
        seeds = [int(seed) for seed in saved.meta.get("active", saved.meta["seeds"])]
        found = []
        for index, seed in enumerate(seeds):
            model = FamilyRelaxed(saved.config)
            model.load_state_dict({name: weight[index] for name, weight in weights.items()})
            found.append((seed, model))
        return found
    population = read_population(run_dir)
    if population is None:
        raise SystemExit(f"{run_dir}: no population.json (is it a finished population's run?)")
    found = []
    for seed in population["seeds"]:
        plain, _, _ = checkpoint.load(member_dir(run_dir, seed) / f"{which}.safetensors")
        model = FamilyRelaxed(plain.config)
        model.load_state_dict(plain.state_dict())
        found.append((seed, model))
    return found


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a population's run folder")
    parser.add_argument("--checkpoint", choices=["last", "model", "best"], default="last")
    parser.add_argument("--tau", type=float, help="temperature (the last epoch's)")
    parser.add_argument("--examples", type=int, default=2048, help="validation sequences")
    parser.add_argument("--draws", type=int, default=3, help="noise draws per variant")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--name", default="tp_relaxation_gap")
    return parser.parse_args(argv)


def _table(rows: list[dict[str, Any]]) -> str:
    names = list(variants())
    lines = [
        "| seed | " + " | ".join(names) + " |",
        "|---:|" + "---:|" * len(names),
    ]
    for row in rows:
        cells = [
            f"{row['variants'][n]['loss']:.3f} / {100 * row['variants'][n]['accuracy']:.1f}%"
            for n in names
        ]
        lines.append(f"| {row['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    command = shlex.join(["python", "benchmarks/tp_relaxation_gap.py", *(argv or sys.argv[1:])])
    torch.set_num_threads(args.threads)
    run_dir = Path(args.run_dir)
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    tau = args.tau if args.tau is not None else float(epochs[-1]["tau"])
    val = load_split(run_dir / "data.safetensors", "val")
    x = torch.from_numpy(val.x[: args.examples])
    y = torch.from_numpy(val.y[: args.examples])
    before = uptime()
    rows = [
        {"seed": seed, "variants": evaluate(model, x, y, tau, args.draws)}
        for seed, model in members(run_dir, args.checkpoint)
    ]
    after = uptime()
    note = (
        f"Each cell: token loss / token accuracy on {len(x)} validation sequences of "
        f"`{run_dir}` (checkpoint `{args.checkpoint}`, {len(epochs)} epochs recorded), "
        f"temperature {tau:.4g}, mean of {args.draws} noise draws. Families: choices (reads, "
        "predicates, token embedding), mlp (MLP outputs), attention (each query's key); a "
        "family not relaxed takes its argmax."
    )
    publish(
        args,
        args.name,
        "Transformer Programs: the relaxed model against the program, family by family",
        _table(rows),
        note,
        command,
        (before, after),
        {"tau": tau, "rows": rows},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
