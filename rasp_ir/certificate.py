"""What a frontend checked, as a frozen value with a stable JSON form: a lifted source and the
inputs on which program and source were run and compared in, a :class:`Certificate` out.

Every frontend gives one beside its program (``Lifted``). The JSON form (``format``
``rasp-ir/certificate``, version 1) is what ``rasp lift`` writes next to the program;
:func:`certificate_from_json` reads it back and refuses other formats and versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.diagnostics import RaspError
from rasp_ir.values import Value, format_value

CERTIFICATE_FORMAT = "rasp-ir/certificate"
CERTIFICATE_VERSION = 1
SHOWN_DISAGREEMENTS = 10

# How a set of checked inputs was chosen.
Selection = Literal["exhaustive", "split", "samples"]
SELECTIONS: tuple[Selection, ...] = ("exhaustive", "split", "samples")


def sha256_of_text(text: str) -> str:
    """The hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_of_path(path: Path) -> str:
    """The hex SHA-256 of a file, or of a folder's files (their relative paths and bytes, in
    sorted order); a :class:`RaspError` when it cannot be read."""
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file != path:
                digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
            digest.update(file.read_bytes())
    except OSError as error:
        raise RaspError.single("file", f"cannot read {path}: {error.strerror or error}") from None
    return digest.hexdigest()


def _frozen_json(data: Mapping[str, Any]) -> str:
    """``data`` as canonical JSON text (sorted keys), so that it can live in a frozen value."""
    try:
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"certificate details must be JSON data: {error}") from None


@dataclass(frozen=True)
class LiftedSource:
    """What was lifted: its path, a SHA-256 of its content and frontend-specific facts
    (task, checkpoint, epoch, ...) as canonical JSON text."""

    path: str
    sha256: str
    details_json: str = "{}"

    @staticmethod
    def of(path: str | Path, sha256: str, details: Mapping[str, Any] | None = None) -> LiftedSource:
        """A source record; ``details`` must be JSON data."""
        return LiftedSource(str(path), sha256, _frozen_json(details or {}))

    @property
    def details(self) -> dict[str, Any]:
        """The frontend-specific facts, as a fresh dict."""
        loaded: dict[str, Any] = json.loads(self.details_json)
        return loaded


@dataclass(frozen=True)
class CheckedInputs:
    """One group of inputs program and source were compared on.

    ``name`` names the group (``test_split``, ``exhaustive``, ``samples``); ``selection`` says
    how it was chosen: ``exhaustive`` (every input up to ``max_length``), ``split`` (a whole
    data split) or ``samples`` (random inputs, drawn with ``seed``).
    """

    name: str
    selection: Selection
    inputs: int
    positions: int
    max_length: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown input selection {self.selection!r}")


@dataclass(frozen=True)
class Disagreement:
    """One position where the lifted program and its source differ."""

    input: tuple[Value, ...]
    position: int
    source: Value
    program: Value


@dataclass(frozen=True)
class Certificate:
    """The record of one lift: source, program hash, the inputs compared and the result.

    ``disagreements`` keeps the first :data:`SHOWN_DISAGREEMENTS`; ``disagreement_count``
    counts them all. Agreement is 100% exactly when the count is 0.
    """

    frontend: str
    source: LiftedSource
    program_sha256: str
    compared: str
    checks: tuple[CheckedInputs, ...]
    disagreement_count: int = 0
    disagreements: tuple[Disagreement, ...] = ()
    details_json: str = "{}"
    versions: tuple[tuple[str, str], ...] = ()

    @property
    def positions_compared(self) -> int:
        """Positions compared over every group of inputs."""
        return sum(group.positions for group in self.checks)

    @property
    def inputs_compared(self) -> int:
        """Inputs compared over every group."""
        return sum(group.inputs for group in self.checks)

    @property
    def agreement(self) -> float:
        """The fraction of compared positions where program and source agree."""
        return 1.0 - self.disagreement_count / max(self.positions_compared, 1)

    @property
    def ok(self) -> bool:
        """Whether program and source agree at every compared position."""
        return self.disagreement_count == 0

    @property
    def details(self) -> dict[str, Any]:
        """Frontend-specific facts about the lift (what was pruned, ...), as a fresh dict."""
        loaded: dict[str, Any] = json.loads(self.details_json)
        return loaded

    def check(self) -> Certificate:
        """Itself when agreement is 100%; otherwise a :class:`RaspError` listing the first
        disagreements (lifting is exact or it fails)."""
        if self.ok:
            return self
        shown = "; ".join(_describe(d) for d in self.disagreements)
        raise RaspError.single(
            "lift-disagreement",
            f"the program lifted by the {self.frontend} frontend disagrees with its source at "
            f"{self.disagreement_count} of {self.positions_compared} positions: {shown}",
            hint="this is a bug in the frontend; please report it with the source "
            f"({self.source.path})",
        )

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form (what ``rasp lift`` writes beside the program)."""
        return {
            "format": CERTIFICATE_FORMAT,
            "format_version": CERTIFICATE_VERSION,
            "frontend": self.frontend,
            "source": {
                "path": self.source.path,
                "sha256": self.source.sha256,
                **self.source.details,
            },
            "program_sha256": self.program_sha256,
            "compared": self.compared,
            "inputs": {group.name: _group_json(group) for group in self.checks},
            "inputs_compared": self.inputs_compared,
            "positions_compared": self.positions_compared,
            "agreement": self.agreement,
            "disagreement_count": self.disagreement_count,
            "disagreements": [_disagreement_json(d) for d in self.disagreements],
            "details": self.details,
            "versions": dict(self.versions),
        }

    def write(self, path: Path) -> None:
        """Write the JSON form to ``path``; a :class:`RaspError` naming it when that fails."""
        try:
            write_text_atomically(path, json.dumps(self.to_json(), indent=2) + "\n")
        except OSError as error:
            raise RaspError.single(
                "file", f"cannot write {path}: {error.strerror or error}"
            ) from None


def make_certificate(
    frontend: str,
    source: LiftedSource,
    program_text: str,
    compared: str,
    checks: Sequence[CheckedInputs],
    disagreements: Sequence[Disagreement],
    details: Mapping[str, Any] | None = None,
    versions: Mapping[str, str] | None = None,
) -> Certificate:
    """A certificate over every disagreement found (it keeps the first
    :data:`SHOWN_DISAGREEMENTS`); ``program_text`` is hashed."""
    return Certificate(
        frontend=frontend,
        source=source,
        program_sha256=sha256_of_text(program_text),
        compared=compared,
        checks=tuple(checks),
        disagreement_count=len(disagreements),
        disagreements=tuple(disagreements[:SHOWN_DISAGREEMENTS]),
        details_json=_frozen_json(details or {}),
        versions=tuple(sorted((versions or {}).items())),
    )


def certificate_from_json(data: object, where: str = "certificate") -> Certificate:
    """A certificate from its JSON form; a :class:`RaspError` naming ``where`` for anything
    else (another format, an unknown version, missing or mistyped fields)."""
    try:
        return _certificate_from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RaspError.single(
            "certificate",
            f"{where} is not a rasp-ir certificate: {error}",
            hint=f"expected JSON with format {CERTIFICATE_FORMAT!r}, version "
            f"{CERTIFICATE_VERSION}, as 'rasp lift' writes",
        ) from None


def _certificate_from_json(data: object) -> Certificate:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    if data["format"] != CERTIFICATE_FORMAT:
        raise ValueError(f"format {data['format']!r}")
    if data["format_version"] != CERTIFICATE_VERSION:
        raise ValueError(f"unknown format_version {data['format_version']!r}")
    source = dict(data["source"])
    path, sha = str(source.pop("path")), str(source.pop("sha256"))
    checks = tuple(_group_from_json(name, group) for name, group in data["inputs"].items())
    return Certificate(
        frontend=str(data["frontend"]),
        source=LiftedSource.of(path, sha, source),
        program_sha256=str(data["program_sha256"]),
        compared=str(data["compared"]),
        checks=checks,
        disagreement_count=int(data["disagreement_count"]),
        disagreements=tuple(_disagreement_from_json(d) for d in data["disagreements"]),
        details_json=_frozen_json(data["details"]),
        versions=tuple(sorted((str(k), str(v)) for k, v in data["versions"].items())),
    )


def _group_json(group: CheckedInputs) -> dict[str, Any]:
    found: dict[str, Any] = {
        "selection": group.selection,
        "inputs": group.inputs,
        "positions": group.positions,
    }
    if group.max_length is not None:
        found["max_length"] = group.max_length
    if group.seed is not None:
        found["seed"] = group.seed
    return found


def _group_from_json(name: str, data: dict[str, Any]) -> CheckedInputs:
    max_length, seed = data.get("max_length"), data.get("seed")
    return CheckedInputs(
        name=str(name),
        selection=data["selection"],
        inputs=int(data["inputs"]),
        positions=int(data["positions"]),
        max_length=None if max_length is None else int(max_length),
        seed=None if seed is None else int(seed),
    )


def _disagreement_json(d: Disagreement) -> dict[str, Any]:
    return {
        "input": [_value_json(v) for v in d.input],
        "position": d.position,
        "source": _value_json(d.source),
        "program": _value_json(d.program),
    }


def _disagreement_from_json(data: dict[str, Any]) -> Disagreement:
    return Disagreement(
        input=tuple(_value_from_json(v) for v in data["input"]),
        position=int(data["position"]),
        source=_value_from_json(data["source"]),
        program=_value_from_json(data["program"]),
    )


def _value_json(v: Value) -> object:
    """A value as JSON, exactly: a non-integer fraction becomes ``{"fraction": "p/q"}``."""
    if isinstance(v, Fraction):
        return {"fraction": str(v)}
    return v


def _value_from_json(data: object) -> Value:
    if isinstance(data, dict):
        return Fraction(str(data["fraction"]))
    if data is None or isinstance(data, (bool, int, str)):
        return data
    raise TypeError(f"{data!r} is not a value")


def _describe(d: Disagreement) -> str:
    tokens = " ".join(format_value(v) for v in d.input)
    source, program = format_value(d.source), format_value(d.program)
    return f"[{tokens}] @ {d.position}: source {source}, program {program}"
