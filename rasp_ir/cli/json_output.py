"""An evaluation and output names in, the text ``rasp run`` prints out: one JSON array per
output and input, or one JSON object per input (JSON Lines).

Each value of an output's value set is encoded once; the lines are then gathered as rows of
those texts by :mod:`rasp_ir.text_rows`, so printing a large batch costs a few array operations.
The text is exactly what ``json.dumps`` gives for each row (``["o", "l"]``, ``[1, 0.5, null]``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rasp_ir.interpreter import Evaluation
from rasp_ir.text_rows import Pieces, constant, join_rows, json_array
from rasp_ir.values import Value, to_json


def output_text(evaluation: Evaluation, names: Sequence[str], *, jsonl: bool = False) -> str:
    """For each input, one line per output in ``names`` holding its JSON array; with ``jsonl``,
    one line per input holding ``{"name": [...], ...}``. Every line ends with a newline."""
    batch = len(evaluation.lengths)
    if batch == 0 or not names:
        return ""
    parts: list[Pieces] = []
    for number, name in enumerate(names):
        if jsonl:
            key = json.dumps(name, ensure_ascii=False)
            parts.append(constant(batch, ("{" if number == 0 else ", ") + key + ": "))
        texts = [json_value(v) for v in evaluation.value_set(name)]
        parts += json_array(texts, evaluation.codes(name), evaluation.lengths)
        if not jsonl:
            parts.append(constant(batch, "\n"))
    if jsonl:
        parts.append(constant(batch, "}\n"))
    return join_rows(parts, batch).decode("utf-8")


def json_value(value: Value) -> str:
    """One value as JSON, as it appears inside an array."""
    return json.dumps(to_json(value), ensure_ascii=False)
