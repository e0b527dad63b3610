"""Batch input text in (one JSON array of tokens per line), checked inputs out as indices into
the program's vocabulary.

Tokens are typed and checked as :func:`rasp_ir.inputs.json_tokens` and
:func:`rasp_ir.inputs.check_input` do for one line, but with maps built once per vocabulary and
one JSON parse for the whole text: the batch is read on the fast path when every line is a JSON
array of tokens written in their usual form (``"a"``, ``3`` or ``"3"``, ``true``). Text exactly
as ``json.dumps`` writes string tokens is read faster still, from its bytes
(:mod:`rasp_ir.canonical_batch`). Any other text, and any problem, is read again line by line
with the single-line readers, so errors name the line, the token and what was expected, exactly
as before.

Why one parse of all lines is the same as one parse per line: lines are joined with ``,\n``
and JSON strings cannot hold a newline, so no string spans two lines; every line starts with
``[`` and ends with ``]``, so a line whose array does not close there would leave a nested array
in the result (refused: a token is never a list); and the number of arrays must equal the number
of lines, so no line holds two.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rasp_ir.canonical_batch import read_canonical
from rasp_ir.diagnostics import RaspError, Span
from rasp_ir.inputs import check_input, json_tokens, vocab_kind
from rasp_ir.ir import Header
from rasp_ir.values import Value, value_key

STDIN = "-"
JSON_BLANKS = " \t"
_TYPES_OF_KIND: dict[str, set[type]] = {"str": {str}, "int": {str, int}, "bool": {str, bool}}

Indices = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TokenBatch:
    """Checked inputs: ``indices[b, i]`` is the position in the header's vocabulary of token
    ``i`` of input ``b`` (0 past the input's end), ``lengths[b]`` its number of tokens."""

    indices: Indices
    lengths: Indices

    def __len__(self) -> int:
        return len(self.lengths)

    def part(self, start: int, stop: int) -> TokenBatch:
        """Inputs ``start`` to ``stop`` (exclusive), trimmed to their longest."""
        lengths = self.lengths[start:stop]
        longest = int(lengths.max()) if len(lengths) else 0
        return TokenBatch(self.indices[start:stop, :longest], lengths)

    def tokens(self, vocab: tuple[Value, ...]) -> list[list[Value]]:
        """The inputs as token lists."""
        table = np.empty(len(vocab), dtype=object)
        table[:] = list(vocab)
        rows: list[list[Value]] = table[self.indices].tolist()
        return [row[:n] for row, n in zip(rows, self.lengths.tolist(), strict=True)]


def read_batch(path: str, header: Header, program_file: str) -> TokenBatch:
    """The inputs in the batch file at ``path`` (``-``: standard input), checked against
    ``header``; errors name ``path`` and the line, and ``program_file`` as the vocabulary's
    owner."""
    source = "<stdin>" if path == STDIN else path
    try:
        text = sys.stdin.read() if path == STDIN else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {source}: {error}") from None
    return read_batch_text(text, header, source, program_file)


def read_batch_text(text: str, header: Header, source: str, program_file: str) -> TokenBatch:
    """The inputs in ``text``, one JSON array per non-blank line (a JSON string: its
    characters), each checked against ``header``; ``source`` names the text in errors."""
    canonical = read_canonical(text, header.vocab, header.max_len)
    if canonical is not None:
        found, lengths = canonical
        return _padded(found, lengths, int(lengths.max()) if len(lengths) else 0)
    lines = [line for line in (line.strip(JSON_BLANKS) for line in text.splitlines()) if line]
    fast = _read_plain_arrays(lines, header)
    if fast is not None:
        return fast
    return _read_line_by_line(text, header, source, program_file)


def _read_plain_arrays(lines: list[str], header: Header) -> TokenBatch | None:
    """The inputs when every line (stripped of JSON blanks, none empty) is an array of tokens
    of the vocabulary within ``max_len``; None when any line needs the careful reader (which
    also reports errors)."""
    codes = _token_codes(header.vocab)
    if codes is None:
        return None
    joined = "\n".join(lines)
    if lines and not (joined[0] == "[" and joined[-1] == "]"):
        return None
    if joined.count("]\n[") != len(lines) - 1:
        return None
    try:
        inputs = json.loads("[" + joined.replace("]\n[", "],\n[") + "]")
    except json.JSONDecodeError:
        return None
    if len(inputs) != len(lines):
        return None
    kind = vocab_kind(header.vocab)
    if kind != "str" and not set(map(type, chain.from_iterable(inputs))) <= _TYPES_OF_KIND[kind]:
        return None
    lengths = np.fromiter(map(len, inputs), dtype=np.int64, count=len(inputs))
    longest = int(lengths.max()) if len(lengths) else 0
    if longest > header.max_len:
        return None
    tokens = chain.from_iterable(inputs)
    try:
        found = np.fromiter(map(codes.__getitem__, tokens), dtype=np.int64, count=lengths.sum())
    except (KeyError, TypeError):
        return None
    return _padded(found, lengths, longest)


def _token_codes(vocab: tuple[Value, ...]) -> dict[Value, int] | None:
    """Each vocabulary token, and the text that types to it, mapped to its vocabulary position;
    None for a vocabulary mixing kinds (read line by line)."""
    if len({vocab_kind([v]) for v in vocab}) > 1:
        return None
    codes: dict[Value, int] = {}
    for position, token in enumerate(vocab):
        codes[token] = position
        if isinstance(token, bool):
            codes["true" if token else "false"] = position
        elif isinstance(token, int):
            codes[str(token)] = position
    return codes


def _padded(found: Indices, lengths: Indices, longest: int) -> TokenBatch:
    """Flat vocabulary positions laid out ``inputs x longest``, zero-padded."""
    indices = np.zeros((len(lengths), longest), dtype=np.int64)
    if len(found) == len(lengths) * longest:
        indices[:] = found.reshape(len(lengths), longest)
    else:
        positions = np.arange(longest)[None, :]
        indices[positions < lengths[:, None]] = found
    return TokenBatch(indices, lengths)


def _read_line_by_line(text: str, header: Header, source: str, program_file: str) -> TokenBatch:
    """The careful reader: each line through :func:`json_tokens` and :func:`check_input`."""
    positions = {value_key(v): i for i, v in enumerate(header.vocab)}
    found: list[int] = []
    lengths: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        span = Span(source, number, 1, number, len(line) + 1, line)
        tokens = json_tokens(line, header.vocab, span)
        check_input(tokens, header, program_file, span)
        found.extend(positions[value_key(t)] for t in tokens)
        lengths.append(len(tokens))
    sizes = np.array(lengths, dtype=np.int64)
    return _padded(np.array(found, dtype=np.int64), sizes, max(lengths, default=0))
