"""Rows of text pieces in, their UTF-8 bytes out, gathered with array operations: how ``rasp
run`` prints a large batch, and how the batch reader checks a parse against the text it read.

A row is a sequence of *places*; each place holds one text of a small table (a JSON value with
its separator, a bracket, a newline). Each table is laid out as fixed-width slots, a block of
rows is gathered slot by slot, and the unused slot bytes are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
# Bytes of slots gathered at once; a larger batch is gathered in blocks of rows.
BLOCK_BYTES = 1 << 25
SEPARATOR = ", "


@dataclass(frozen=True)
class Pieces:
    """Texts (``table``) and, per row, which text fills each of ``ids.shape[1]`` places."""

    table: list[str]
    ids: Ids


def constant(rows: int, text: str) -> Pieces:
    """``text`` in one place of every row."""
    return Pieces([text], np.zeros((rows, 1), dtype=np.int64))


def json_array(texts: list[str], codes: Ids, lengths: npt.NDArray[np.int64]) -> list[Pieces]:
    """Each row's JSON array ``[t, t, ...]`` of the first ``lengths[row]`` of its ``codes``
    (indices into ``texts``, the JSON of each value): ``[``, one place per position (the value
    and its separator, or nothing past the row's end), ``]``."""
    rows, width = codes.shape
    size = len(texts)
    positions = np.arange(width)[None, :]
    last = lengths[:, None] - 1
    # Codes 0..size-1: value and separator; size..2*size-1: the last value; 2*size: nothing.
    ids = np.where(positions < last, codes, codes + size)
    ids[positions > last] = 2 * size
    values = Pieces([*(t + SEPARATOR for t in texts), *texts, ""], ids)
    return [constant(rows, "["), values, constant(rows, "]")]


def join_rows(parts: Sequence[Pieces], rows: int) -> bytes:
    """The bytes of every row's pieces, rows in order."""
    slots = [(part.ids, *_slots(part.table)) for part in parts]
    row_bytes = sum(ids.shape[1] * table.itemsize for ids, table, _ in slots)
    step = max(1, BLOCK_BYTES // max(row_bytes, 1))
    blocks: list[bytes] = []
    for start in range(0, rows, step):
        stop = min(start + step, rows)
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
