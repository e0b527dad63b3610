"""Finding an architecture that learns a task perfectly: a task, a strategy, training settings,
seeds and a time budget in; a :class:`SearchOutcome` (every trial, the smallest success) and
``search.json`` in the output folder out.

Strategies:

- ``paper``, the reference's search (§5): a geometric sweep over the mixed-radix codes of
  :mod:`.architecture` from ``256·256`` (linear RNN, ``D = 2``), multiplying the code by
  ``2^(1/4)`` after each failure and skipping codes equivalent to the previous one; then a
  binary search between half the first success's code and that code. It **assumes success is
  monotone in the code**, which nothing guarantees (:data:`PAPER_ASSUMPTION`, written into
  the output).
- ``ladder``: a short fixed list of architectures tried in order, stopping at the first
  success. Tasks over small alphabets with few output values start with small nonlinear
  RNNs (finite machines), the others with linear RNNs (integer-affine machines: sums,
  windows, Newton's laws, whose outputs span hundreds of values); both lists continue with
  the other kind. Fast on a CPU; it finds *an* architecture, not the smallest.

An architecture succeeds when one of its seeds is right on the **whole** test split (training
stops there: ``stop_when_perfect``). Each trial is a run folder under ``trials/`` and is
recorded in ``search.json`` as soon as it ends, so an interrupted search resumes where it
stopped: a rerun with the same settings reuses every recorded trial. The budget is checked
before each trial starts; a trial under way finishes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rasp_ir.api import RaspError

from .architecture import SPACE_SIZE, Architecture
from .extract import alphabet_symbols
from .json_files import write_json_atomically
from .task_spec import Task
from .train import TrainSettings, train_rnn

START_CODE = 256 * 256
"""The sweep's first code: output and hidden depth 1, ``D = 2``."""
GROWTH = 2**0.25
STRATEGIES = ("ladder", "paper")
SMALL_ALPHABET = 64
"""Tasks with at most this many input symbols (and :data:`FEW_OUTPUTS` output values) start
the ladder with nonlinear RNNs."""
FEW_OUTPUTS = 64
"""Tasks with more output values than this start the ladder with linear RNNs: over T steps
such outputs come from a growing integer state, which a linear RNN holds exactly."""

PAPER_ASSUMPTION = (
    "success is assumed monotone in the architecture code (reference §5): the geometric sweep "
    "skips the codes between its steps, and the binary search between half the first "
    "success's code and that code takes a failure to mean every smaller code fails; "
    "nothing guarantees this, so a smaller architecture may still succeed"
)
LADDER_ASSUMPTION = (
    "the ladder tries a fixed short list of architectures and stops at the first success; it "
    "does not look for the smallest one (use --strategy paper for that)"
)

NONLINEAR_RUNGS = (
    Architecture(2, 2, 4, 32, 32),
    Architecture(2, 2, 8, 64, 64),
    Architecture(2, 2, 16, 128, 128),
)
LINEAR_RUNGS = (
    Architecture(1, 1, 1, 1, 1),
    Architecture(1, 1, 2, 1, 1),
    Architecture(1, 1, 4, 1, 1),
    Architecture(1, 1, 8, 1, 1),
    Architecture(2, 1, 8, 64, 1),
)


@dataclass(frozen=True)
class Trial:
    """One architecture trained: whether a seed was perfect, each seed's whole-test-split
    accuracy, the steps taken, seconds, and its run folder (relative to the search folder)."""

    architecture: Architecture
    success: bool
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    steps: int
    seconds: float
    run_dir: str

    def perfect_seeds(self) -> list[int]:
        """The seeds that were right on the whole test split."""
        return [s for s, a in zip(self.seeds, self.accuracies, strict=True) if a == 1.0]

    def to_json(self) -> dict[str, Any]:
        """The trial as JSON data (with the architecture's code)."""
        data = asdict(self)
        data["architecture"] = self.architecture.to_json()
        data["code"] = self.architecture.encode()
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> Trial:
        """A trial from :meth:`to_json`'s form."""
        return Trial(
            Architecture.from_json(data["architecture"]),
            bool(data["success"]),
            tuple(int(s) for s in data["seeds"]),
            tuple(float(a) for a in data["accuracies"]),
            int(data["steps"]),
            float(data["seconds"]),
            str(data["run_dir"]),
        )


@dataclass(frozen=True)
class SearchOutcome:
    """A search's result: every trial in order, the smallest successful one (``None`` when
    nothing succeeded), whether the strategy ran to its end within the budget, and the
    assumption it rests on."""

    task: str
    strategy: str
    trials: tuple[Trial, ...]
    smallest: Trial | None
    complete: bool
    budget_s: float
    seconds: float
    assumption: str

    def to_json(self) -> dict[str, Any]:
        """The outcome as JSON data."""
        return {
            "task": self.task,
            "strategy": self.strategy,
            "assumption": self.assumption,
            "complete": self.complete,
            "budget_s": self.budget_s,
            "seconds": self.seconds,
            "smallest": None if self.smallest is None else self.smallest.to_json(),
            "trials": [t.to_json() for t in self.trials],
        }


class _OutOfBudget(Exception):
    """The budget was spent before the next trial."""


class _Searcher:
    """Trains architectures on demand, remembers every trial by equivalence class, keeps
    ``search.json`` current and enforces the budget."""

    def __init__(
        self,
        task: Task,
        out_dir: Path,
        settings: TrainSettings,
        seeds: Sequence[int],
        budget_s: float,
        device: str,
        progress: bool,
        strategy: str,
    ) -> None:
        self.task, self.out_dir, self.settings = task, out_dir, settings
        self.seeds, self.budget_s, self.device, self.progress = (
            tuple(seeds),
            budget_s,
            device,
            progress,
        )
        self.strategy = strategy
        self.started = time.perf_counter()
        self.trials: list[Trial] = _previous_trials(out_dir / "search.json", self.header())
        self.spent = sum(t.seconds for t in self.trials)

    def header(self) -> dict[str, Any]:
        """What a resumed search must share with the recorded one."""
        return {
            "task": self.task.name,
            "strategy": self.strategy,
            "seeds": list(self.seeds),
            "settings": asdict(self.settings),
        }

    def attempt(self, architecture: Architecture) -> bool:
        """Whether ``architecture`` (or an equivalent one already tried) succeeds."""
        canonical = architecture.canonical()
        for trial in self.trials:
            if trial.architecture == canonical:
                return trial.success
        if self.spent >= self.budget_s:
            raise _OutOfBudget
        run_dir = Path("trials") / canonical.slug()
        result = train_rnn(
            self.task,
            self.out_dir / run_dir,
            canonical.config(self.task),
            self.settings,
            self.progress,
            self.device,
            self.seeds,
        )
        accuracies = tuple(s.test_accuracy for s in result.seeds)
        trial = Trial(
            canonical,
            any(s.perfect for s in result.seeds),
            self.seeds,
            accuracies,
            result.steps,
            result.seconds,
            str(run_dir),
        )
        self.trials.append(trial)
        self.spent += trial.seconds
        self.save(None, complete=False)
        return trial.success

    def outcome(self, smallest: Architecture | None, complete: bool) -> SearchOutcome:
        """The outcome so far; ``smallest`` names the successful architecture found."""
        found = None
        if smallest is not None:
            found = next(t for t in self.trials if t.architecture == smallest.canonical())
        return SearchOutcome(
            self.task.name,
            self.strategy,
            tuple(self.trials),
            found,
            complete,
            self.budget_s,
            self.spent,
            PAPER_ASSUMPTION if self.strategy == "paper" else LADDER_ASSUMPTION,
        )

    def save(self, smallest: Architecture | None, complete: bool) -> SearchOutcome:
        """Write ``search.json`` (header and outcome) and return the outcome."""
        outcome = self.outcome(smallest, complete)
        write_json_atomically(self.out_dir / "search.json", self.header() | outcome.to_json())
        return outcome


def _previous_trials(path: Path, header: dict[str, Any]) -> list[Trial]:
    """The trials recorded by an earlier search in the same folder with the same header; a
    RaspError when the folder holds a search with other settings."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        recorded = {key: data[key] for key in header}
        trials = [Trial.from_json(t) for t in data["trials"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RaspError.single(
            "mips-search", f"{path} is not a readable search record: {error}"
        ) from None
    if recorded != header:
        raise RaspError.single(
            "mips-search",
            f"{path} records a search with other settings (task, strategy, seeds or training)",
            hint="resume with the same options, or search into a new folder",
        )
    return trials


def paper_search(attempt: Callable[[Architecture], bool]) -> Architecture | None:
    """The reference's sweep and binary search over codes; the smallest successful
    architecture found (``None`` when the sweep leaves the space without a success)."""
    code = float(START_CODE)
    previous: Architecture | None = None
    success: int | None = None
    while int(code) < SPACE_SIZE:
        architecture = Architecture.decode(int(code)).canonical()
        if architecture != previous:
            previous = architecture
            if attempt(architecture):
                success = int(code)
                break
        code *= GROWTH
    if success is None:
        return None
    low, high = success // 2, success
    while high - low > 1:
        middle = (low + high) // 2
        if attempt(Architecture.decode(middle)):
            high = middle
        else:
            low = middle
    return Architecture.decode(high)


def ladder(task: Task) -> tuple[Architecture, ...]:
    """The ladder for ``task``: nonlinear rungs first over small alphabets with few output
    values, linear first otherwise."""
    values = task.outputs.high - task.outputs.low + 1
    if len(alphabet_symbols(task.alphabet)) <= SMALL_ALPHABET and values <= FEW_OUTPUTS:
        return NONLINEAR_RUNGS + LINEAR_RUNGS
    return LINEAR_RUNGS + NONLINEAR_RUNGS


def ladder_search(
    attempt: Callable[[Architecture], bool], rungs: Sequence[Architecture]
) -> Architecture | None:
    """The first rung that succeeds, or ``None``."""
    return next((rung for rung in rungs if attempt(rung)), None)


def search(
    task: Task,
    out_dir: Path,
    *,
    strategy: str = "ladder",
    settings: TrainSettings,
    seeds: Sequence[int] = (0, 1, 2, 3),
    budget_s: float = math.inf,
    device: str = "cpu",
    progress: bool = False,
) -> SearchOutcome:
    """Search ``task`` with ``strategy`` (see the module docstring); training stops at the
    first perfect seed whatever ``settings`` says. Writes ``out_dir/search.json``."""
    if strategy not in STRATEGIES:
        raise RaspError.single(
            "mips-search", f"unknown strategy {strategy!r}: expected one of {STRATEGIES}"
        )
    stopping = dataclasses.replace(settings, stop_when_perfect=True)
    searcher = _Searcher(task, out_dir, stopping, seeds, budget_s, device, progress, strategy)
    try:
        if strategy == "paper":
            smallest = paper_search(searcher.attempt)
        else:
            smallest = ladder_search(searcher.attempt, ladder(task))
    except _OutOfBudget:
        best = [t for t in searcher.trials if t.success]
        found = min(best, key=lambda t: t.architecture.encode()).architecture if best else None
        return searcher.save(found, complete=False)
    return searcher.save(smallest, complete=True)
