"""An evaluation and output names in, the text ``rasp run`` prints out: one JSON array per
output and input, or one JSON object per input (JSON Lines).

Each value of an output's value set is encoded once; a row is then assembled from those texts
with array operations, so printing a large batch costs little more than joining strings. The
text is exactly what ``json.dumps`` gives for each row (``["o", "l"]``, ``[1, 0.5, null]``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rasp_ir.interpreter import Evaluation
from rasp_ir.values import Value, to_json

Pieces = npt.NDArray[np.object_]


def json_line(values: Sequence[Value]) -> str:
    """One output as a JSON array (``["o", "l"]``, ``[1, 0.5, null]``)."""
    return json.dumps([to_json(v) for v in values], ensure_ascii=False)


def output_text(evaluation: Evaluation, names: Sequence[str], *, jsonl: bool = False) -> str:
    """For each input, one line per output in ``names`` holding its JSON array; with ``jsonl``,
    one line per input holding ``{"name": [...], ...}``. Every line ends with a newline."""
    batch = len(evaluation.lengths)
    if batch == 0 or not names:
        return ""
    columns: list[Pieces] = []
    for number, name in enumerate(names):
        if jsonl:
            key = json.dumps(name, ensure_ascii=False)
            columns.append(_constant(batch, ("{" if number == 0 else ", ") + key + ": "))
        columns.append(_array_pieces(evaluation, name))
        if not jsonl:
            columns.append(_constant(batch, "\n"))
    if jsonl:
        columns.append(_constant(batch, "}\n"))
    pieces: list[str] = np.concatenate(columns, axis=1).ravel().tolist()
    return "".join(pieces)


def _constant(batch: int, text: str) -> Pieces:
    column = np.empty((batch, 1), dtype=object)
    column[:] = text
    return column


def _array_pieces(evaluation: Evaluation, name: str) -> Pieces:
    """The pieces of each input's JSON array for output ``name``, one row per input:
    ``[``, value, separator, value, ..., ``]`` (positions past an input's end are empty)."""
    codes = evaluation.codes(name)
    batch, width = codes.shape
    if width == 0:
        return _constant(batch, "[]")
    texts = np.array([json_value(v) for v in evaluation.value_set(name)] or [""], dtype=object)
    positions = np.arange(width)[None, :]
    lengths = evaluation.lengths[:, None]
    pieces = np.empty((batch, 2 * width + 1), dtype=object)
    pieces[:, 0] = "["
    pieces[:, 1::2] = np.where(positions < lengths, texts[codes], "")
    pieces[:, 2 : 2 * width : 2] = np.where(positions[:, :-1] < lengths - 1, ", ", "")
    pieces[:, 2 * width] = "]"
    return pieces


def json_value(value: Value) -> str:
    """One value as JSON, as it appears inside an array."""
    return json.dumps(to_json(value), ensure_ascii=False)
