"""The frontend contract: a source (a run folder, a state machine file, ...) and
:class:`LiftOptions` in, a :class:`Lifted` program with its certificate out.

A frontend is found through the ``rasp_ir.frontends`` entry-point group, like a backend.
Lifting is exact or it fails: a frontend raises :class:`~rasp_ir.diagnostics.RaspError` rather
than return a program that disagrees with its source anywhere it was compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from rasp_ir import ir
from rasp_ir.certificate import Certificate
from rasp_ir.diagnostics import RaspError


@dataclass(frozen=True)
class LiftOptions:
    """How much to check and frontend-specific settings.

    ``exhaustive_limit``: compare every input of every length up to the longest length whose
    inputs number at most this many in all. ``samples`` random inputs more, drawn with
    ``seed``. ``max_len``: the longest input the program must handle (None: the source's own).
    ``settings``: ``KEY=VALUE`` pairs that only this frontend understands (``rasp lift --set``);
    each frontend lists the keys it accepts in its ``settings``.
    """

    exhaustive_limit: int = 5_000
    samples: int = 500
    seed: int = 0
    max_len: int | None = None
    settings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.exhaustive_limit < 0 or self.samples < 0:
            raise ValueError("input counts must not be negative")
        if self.max_len is not None and self.max_len < 1:
            raise ValueError("max_len must be at least 1")

    def setting(self, key: str, default: str) -> str:
        """The value given for ``key`` (the last one wins), else ``default``."""
        found = default
        for name, value in self.settings:
            if name == key:
                found = value
        return found


@dataclass(frozen=True)
class Lifted:
    """A lifted program and its certificate (agreement is 100%, or there is no ``Lifted``)."""

    program: ir.Program
    certificate: Certificate
    printed: str | None = field(default=None, compare=False, repr=False)
    """The program as the printer wrote it for the certificate, when the frontend has it (so it
    is not printed again); None: :attr:`text` prints it."""

    @property
    def text(self) -> str:
        """The program's text, as the printer writes it (comments included)."""
        if self.printed is not None:
            return self.printed
        from rasp_ir.printer import format_program

        return format_program(self.program)


@runtime_checkable
class Frontend(Protocol):
    """What a frontend provides.

    ``name`` and ``description`` (one line) identify it; ``settings`` maps each frontend-specific
    ``--set`` key it accepts to a one-line help. ``lift`` reads ``source`` and returns the exact
    program with its certificate, or raises :class:`RaspError`.
    """

    name: str
    description: str
    settings: Mapping[str, str]

    def lift(self, source: Path, options: LiftOptions) -> Lifted: ...


def check_settings(frontend: Frontend, options: LiftOptions) -> None:
    """A :class:`RaspError` naming every setting ``frontend`` does not accept, if any."""
    unknown = sorted({key for key, _ in options.settings} - set(frontend.settings))
    if not unknown:
        return
    accepted = ", ".join(f"{k} ({v})" for k, v in sorted(frontend.settings.items())) or "none"
    raise RaspError.single(
        "usage",
        f"the {frontend.name} frontend has no setting {', '.join(map(repr, unknown))}",
        hint=f"settings it accepts: {accepted}",
    )
