"""What a frontend or backend tells ``rasp report`` and ``rasp explain`` about an artifact it
owns (a training run, a compiled model): plain data in, nothing out.

A plugin offers a view through an optional method ``report_view(path) -> ArtifactView | None``
on its frontend or backend object: ``None`` when the path is not one of its artifacts, a
:class:`~rasp_ir.diagnostics.RaspError` when it is but cannot be read. When the user names a
member of a population (``--member SEED``), the hub calls ``report_view(path, member=SEED)``:
a plugin whose artifacts have members shows that one (and without it, the one it would pick);
one whose artifact at ``path`` has none refuses with a RaspError. The hub never imports a spoke
for this; it asks the installed plugins through the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rasp_ir.certificate import Certificate
from rasp_ir.values import Value


@dataclass(frozen=True)
class Curve:
    """One training series, one value per epoch (epoch 1 first), e.g. ``loss``."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class ModelTrace:
    """What a model computed on a batch, beyond its outputs.

    ``values``: the residual stream, shape stages x examples x positions x d_model, ``stages``
    naming each stage (``embedding``, ``L1 attention``, ``L1 mlp``, ...) and ``labels`` each
    residual dimension. ``positions``: each example's position labels (the model's own, such
    as an attention sink, included). ``attention``: the attention weights, shape layers x
    examples x heads x queries x keys, when the model has them.
    """

    stages: tuple[str, ...]
    labels: tuple[str, ...]
    positions: tuple[tuple[str, ...], ...]
    values: npt.NDArray[np.float64]
    attention: npt.NDArray[np.float64] | None = None


@dataclass(frozen=True)
class LabelledExamples:
    """Inputs with the outputs a task wants: ``expected[e][p]`` is the wanted value of
    ``output`` at position ``p`` of example ``e`` (positions as the program numbers them, BOS
    included), or ``None`` where the position is not scored."""

    name: str
    output: str
    inputs: tuple[tuple[Value, ...], ...]
    expected: tuple[tuple[Value, ...], ...]


@dataclass(frozen=True)
class SummaryTable:
    """A titled table of text cells, e.g. every member of a population: ``columns`` names the
    columns, each row has one cell per column; ``note`` says how to read it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"{self.title}: a row of {len(row)} cells, not {len(self.columns)}"
                )


ModelTracer = Callable[[Sequence[Sequence[Value]]], ModelTrace]


@dataclass(frozen=True)
class ArtifactView:
    """An artifact as the report sees it.

    ``kind``: what it is, for people (``Transformer Programs run``). ``program_text``: the
    program's source text (parsed by the hub, so bindings link to their lines). ``facts``:
    (label, value) pairs shown at the top. ``curves``, ``certificate``, ``trace`` (a
    function of a batch of inputs), ``labelled`` (the task's test split, for error
    attribution) and ``tables`` (e.g. a population's members) are there when the artifact has
    them.
    """

    kind: str
    source: str
    program_text: str
    facts: tuple[tuple[str, str], ...] = ()
    curves: tuple[Curve, ...] = ()
    certificate: Certificate | None = None
    trace: ModelTracer | None = None
    labelled: LabelledExamples | None = None
    tables: tuple[SummaryTable, ...] = ()
