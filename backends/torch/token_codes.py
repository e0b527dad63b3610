"""A model's vocabulary in, a lookup that turns batches of content tokens into the model's token
numbers out (one flat array, -1 for a token outside the vocabulary).

Most vocabularies are single characters (``--chars``): for those, a batch is joined into one
string with a separator between tokens and the numbers are read from a table indexed by code
point, without Python work per token. Any other batch takes one dict lookup per token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, repeat

import numpy as np

from rasp_ir.api import Value, value_key

# Joins the tokens of a batch; a vocabulary that has it as a token takes the dict path.
SEPARATOR = "\0"
MISSING = -1


class TokenNumbers:
    """The token numbers of a vocabulary (1 for its first token; the BOS, never an input
    token, left out)."""

    def __init__(self, vocab: Sequence[Value], bos: Value) -> None:
        self.index = {value_key(v): i + 1 for i, v in enumerate(vocab)}
        if bos is not None:
            self.index.pop(value_key(bos))
        strings = all(isinstance(v, str) for v in vocab)
        # Strings only: a plain dict lookup is exact (no True == 1 to keep apart: a key is a
        # string, and no other token equals one).
        self.by_string: dict[object, int] | None = None
        self.by_code_point: np.ndarray | None = None
        if strings:
            self.by_string = {key[1]: i for key, i in self.index.items()}
            self.by_code_point = _code_point_table(self.by_string)

    def numbers(self, inputs: Sequence[Sequence[Value]], count: int) -> np.ndarray:
        """The number of every token of ``inputs`` (``count`` tokens in all), row after row."""
        if self.by_code_point is not None:
            found = _single_character_numbers(self.by_code_point, inputs, count)
            if found is not None:
                return found
        flat = chain.from_iterable(inputs)
        if self.by_string is not None:
            codes: Iterable[int] = map(self.by_string.get, flat, repeat(MISSING))
        else:
            codes = (self.index.get(value_key(t), MISSING) for t in flat)
        return np.fromiter(codes, dtype=np.int64, count=count)


def _code_point_table(by_string: dict[object, int]) -> np.ndarray | None:
    """Numbers indexed by code point, the last entry (and every gap) MISSING, for string
    tokens ``by_string``; None unless every token is one character other than the separator."""
    tokens = [str(t) for t in by_string]
    if not tokens or any(len(t) != 1 or t == SEPARATOR for t in tokens):
        return None
    table = np.full(max(map(ord, tokens)) + 2, MISSING, dtype=np.int64)
    for token, number in zip(tokens, by_string.values(), strict=True):
        table[ord(token)] = number
    return table


def _single_character_numbers(
    table: np.ndarray, inputs: Sequence[Sequence[Value]], count: int
) -> np.ndarray | None:
    """The numbers of ``inputs`` when every token is a one-character string, else None.

    The joined text has ``2 * count - 1`` characters with the separator at every odd place
    exactly when each of the ``count`` tokens is one character other than the separator: the
    ``count - 1`` separators the join inserts then fill the odd places, and no token holds one.
    """
    try:
        text = SEPARATOR.join([SEPARATOR.join(row) for row in inputs])  # type: ignore[arg-type]
    except TypeError:
        return None
    if count == 0 or len(text) != 2 * count - 1:
        return None
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if points[1::2].any():
        return None
    found: np.ndarray = table[np.minimum(points[0::2], len(table) - 1)]
    return found
