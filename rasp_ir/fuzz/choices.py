"""Where the generator's random choices come from: a seeded :class:`random.Random` for
``rasp fuzz``, or any other source with the same three methods (the hypothesis strategies of
the tests draw them from hypothesis, so hypothesis shrinks what the generator builds)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    """A source of random choices."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (never empty)."""
        ...

    def integer(self, low: int, high: int) -> int:
        """An integer in ``low..high``, both included."""
        ...

    def boolean(self) -> bool:
        """True or false."""
        ...


class SeededChooser:
    """Choices from ``random.Random(seed)``: the same seed gives the same choices."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``, uniformly."""
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        """An integer in ``low..high``, uniformly."""
        return self.rng.randint(low, high)

    def boolean(self) -> bool:
        """True or false, evenly."""
        return self.rng.random() < 0.5


def distinct_choices(chooser: Chooser, options: Sequence[T], low: int, high: int) -> list[T]:
    """``low..high`` different items of ``options`` (as many as there are, at most), in the
    order they were chosen."""
    left = list(options)
    count = min(chooser.integer(low, high), len(left))
    chosen: list[T] = []
    for _ in range(count):
        chosen.append(left.pop(chooser.integer(0, len(left) - 1)))
    return chosen
