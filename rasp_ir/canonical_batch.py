"""Batch text written as ``json.dumps`` writes a list of string tokens (``["a", "b"]``, one per
line) in, the tokens as indices into the vocabulary out, read with array operations on the
text's bytes instead of a JSON parse and a lookup per token.

The reading assumes that form: tokens are the quoted texts between pairs of ``"``, lines end at
``\\n``. It is then checked by writing the parsed batch back in that form and comparing it with
the text byte for byte, so a batch is returned only when the text is exactly its canonical
form; any other text (other spacing, escapes, numbers, a token outside the vocabulary, a line
too long) gives None, and the caller reads it with the JSON reader, which gives the same
result or the error.
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt

from rasp_ir.text_rows import constant, join_rows, json_array
from rasp_ir.values import Value

Indices = npt.NDArray[np.int64]
QUOTE, NEWLINE = ord('"'), ord("\n")
# Tokens are compared as up to this many bytes packed into one integer.
PACKED_BYTES = 8


def read_canonical(
    text: str, vocab: tuple[Value, ...], max_len: int
) -> tuple[Indices, Indices] | None:
    """Each token's vocabulary position (flat, in order) and each line's number of tokens, when
    ``text`` is exactly the canonical JSON of lists of tokens of ``vocab`` (at most ``max_len``
    a line); else None."""
    texts = _token_texts(vocab)
    if texts is None or not text.endswith("\n") or "\\" in text:
        return None
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    is_quote = data == QUOTE
    quotes = np.flatnonzero(is_quote)
    if len(quotes) % 2:
        return None
    found = _vocab_positions(data, quotes[0::2], quotes[1::2], texts)
    if found is None:
        return None
    line_ends = np.flatnonzero(data == NEWLINE)
    line_starts = np.concatenate([[0], line_ends[:-1] + 1])
    lengths = np.add.reduceat(is_quote, line_starts, dtype=np.int64) // 2
    lengths[line_starts == line_ends] = 0  # reduceat reads one byte of an empty segment
    if len(lengths) and int(lengths.max()) > max_len:
        return None
    if _canonical_text(texts, found, lengths) != data.tobytes():
        return None
    return found, lengths


def _token_texts(vocab: tuple[Value, ...]) -> list[str] | None:
    """Each token's JSON text, when every token is a string written without escapes in at most
    :data:`PACKED_BYTES` bytes between its quotes; else None."""
    if not vocab or not all(isinstance(token, str) for token in vocab):
        return None
    texts = [json.dumps(token) for token in vocab]
    if any("\\" in t or len(t.encode("utf-8")) - 2 > PACKED_BYTES for t in texts):
        return None
    return texts


def _vocab_positions(
    data: npt.NDArray[np.uint8], opens: Indices, closes: Indices, texts: list[str]
) -> Indices | None:
    """The vocabulary position of the text between each pair of quotes; None when one is not a
    token of the vocabulary."""
    widths = closes - opens - 1
    if len(widths) and int(widths.max()) > PACKED_BYTES:
        return None
    padded = np.concatenate([data, np.zeros(PACKED_BYTES, dtype=np.uint8)])
    # The PACKED_BYTES bytes from every offset as one integer (unaligned reads), cut to width.
    words = np.ndarray((len(data) + 1,), dtype=np.uint64, buffer=padded, strides=(1,))
    first_bytes = np.array([_packed(b"\xff" * w) for w in range(PACKED_BYTES + 1)], np.uint64)
    keys = words[opens + 1] & first_bytes[widths]
    vocab_keys = np.array([_packed(t[1:-1].encode("utf-8")) for t in texts], dtype=np.uint64)
    order = np.argsort(vocab_keys)
    where = np.minimum(np.searchsorted(vocab_keys[order], keys), len(order) - 1)
    if not bool((vocab_keys[order][where] == keys).all()):
        return None
    positions: Indices = order[where]
    return positions


def _packed(token: bytes) -> int:
    """A token's bytes, zero-padded to :data:`PACKED_BYTES`, as one native-order integer."""
    return int(np.frombuffer(token.ljust(PACKED_BYTES, b"\0"), dtype=np.uint64)[0])


def _canonical_text(texts: list[str], found: Indices, lengths: Indices) -> bytes:
    """The lines ``json.dumps`` writes for the parsed batch."""
    longest = int(lengths.max()) if len(lengths) else 0
    codes = np.zeros((len(lengths), longest), dtype=np.int64)
    codes[np.arange(longest)[None, :] < lengths[:, None]] = found
    rows = len(lengths)
    return join_rows([*json_array(texts, codes, lengths), constant(rows, "\n")], rows)
