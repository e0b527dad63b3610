"""An evaluation and output names in, the text ``rasp run`` prints out: one JSON array per
output and input, or one JSON object per input (JSON Lines).

Each value of an output's value set is encoded once, with and without the ``", "`` that follows
it inside an array. A line is then a row of *pieces*, each an index into such a table of texts,
and the bytes of every line are gathered at once: each table is laid out as fixed-width slots,
a batch of rows is gathered slot by slot, and the unused slot bytes are dropped. The text is
exactly what ``json.dumps`` gives for each row (``["o", "l"]``, ``[1, 0.5, null]``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rasp_ir.interpreter import Evaluation
from rasp_ir.values import Value, to_json

Ids = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]
# Bytes of slots gathered at once; a larger batch is gathered in blocks of rows.
BLOCK_BYTES = 1 << 25
SEPARATOR = ", "


@dataclass(frozen=True)
class _Pieces:
    """Texts (``table``) and, per row, which text fills each of ``ids.shape[1]`` places."""

    table: list[str]
    ids: Ids


def output_text(evaluation: Evaluation, names: Sequence[str], *, jsonl: bool = False) -> str:
    """For each input, one line per output in ``names`` holding its JSON array; with ``jsonl``,
    one line per input holding ``{"name": [...], ...}``. Every line ends with a newline."""
    batch = len(evaluation.lengths)
    if batch == 0 or not names:
        return ""
    parts: list[_Pieces] = []
    for number, name in enumerate(names):
        if jsonl:
            key = json.dumps(name, ensure_ascii=False)
            parts.append(_constant(batch, ("{" if number == 0 else ", ") + key + ": "))
        parts += _array_pieces(evaluation, name)
        if not jsonl:
            parts.append(_constant(batch, "\n"))
    if jsonl:
        parts.append(_constant(batch, "}\n"))
    return _gather(parts, batch).decode("utf-8")


def _constant(batch: int, text: str) -> _Pieces:
    return _Pieces([text], np.zeros((batch, 1), dtype=np.int64))


def _array_pieces(evaluation: Evaluation, name: str) -> list[_Pieces]:
    """The pieces of each input's JSON array for output ``name``: ``[``, one piece per
    position (the value and its separator, or nothing past the input's end), ``]``."""
    codes = evaluation.codes(name)
    batch, width = codes.shape
    texts = [json_value(v) for v in evaluation.value_set(name)]
    size = len(texts)
    positions = np.arange(width)[None, :]
    last = evaluation.lengths[:, None] - 1
    # Codes 0..size-1: value and separator; size..2*size-1: the last value; 2*size: nothing.
    ids = np.where(positions < last, codes, codes + size)
    ids[positions > last] = 2 * size
    values = _Pieces([*(t + SEPARATOR for t in texts), *texts, ""], ids)
    return [_constant(batch, "["), values, _constant(batch, "]")]


def _gather(parts: Sequence[_Pieces], batch: int) -> bytes:
    """The bytes of every row's pieces, rows in order."""
    slots = [(part.ids, *_slots(part.table)) for part in parts]
    row_bytes = sum(ids.shape[1] * table.itemsize for ids, table, _ in slots)
    step = max(1, BLOCK_BYTES // max(row_bytes, 1))
    blocks: list[bytes] = []
    for start in range(0, batch, step):
        stop = min(start + step, batch)
        texts, kept = [], []
        for all_ids, table, used in slots:
            ids = all_ids[start:stop]
            texts.append(table.take(ids).view(np.uint8).reshape(stop - start, -1))
            kept.append(used.take(ids).view(np.bool_).reshape(stop - start, -1))
        laid_out = np.concatenate(texts, axis=1)
        blocks.append(laid_out[np.concatenate(kept, axis=1)].tobytes())
    return b"".join(blocks)


def _slots(table: list[str]) -> tuple[npt.NDArray[np.void], npt.NDArray[np.void]]:
    """Each text's UTF-8 bytes in a slot as wide as the longest, and which slot bytes it uses,
    each slot one item (so that a gather copies a slot at a time)."""
    encoded = [text.encode("utf-8") for text in table]
    width = max(1, max(len(e) for e in encoded))
    slots = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, text in enumerate(encoded):
        slots[row, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    sizes = np.array([len(e) for e in encoded], dtype=np.int64)
    used = np.arange(width)[None, :] < sizes[:, None]
    item = np.dtype((np.void, width))
    return slots.view(item).ravel(), used.view(item).ravel()


def json_value(value: Value) -> str:
    """One value as JSON, as it appears inside an array."""
    return json.dumps(to_json(value), ensure_ascii=False)
