"""Input text in, typed token sequences and vocabularies out, checked against a program header.

Drivers (the CLI, the REPL, the tour) read tokens as text; the program's vocabulary decides
their type: with an integer vocabulary ``"3"`` is ``3``, with a boolean one ``true`` is
``True``, otherwise the text is the token. Problems are :class:`RaspError`\\ s that say where
the input came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rasp_ir.diagnostics import RaspError, Span
from rasp_ir.ir import Header
from rasp_ir.values import Value, describe_value, value_key

SHOWN_VOCAB = 8


def vocab_kind(vocab: Sequence[Value]) -> str:
    """``"bool"``, ``"int"`` or ``"str"``: the type every token of ``vocab`` has."""
    if any(isinstance(v, bool) for v in vocab):
        return "bool"
    if any(isinstance(v, int) for v in vocab):
        return "int"
    return "str"


def typed_token(text: str, vocab: Sequence[Value]) -> Value:
    """``text`` as a token of ``vocab``'s type; text that is not of that type stays text (and
    is then reported as outside the vocabulary)."""
    kind = vocab_kind(vocab)
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "bool" and text in ("true", "false"):
        return text == "true"
    return text


def typed_tokens(texts: Sequence[str], vocab: Sequence[Value]) -> list[Value]:
    """Every text of ``texts`` through :func:`typed_token`."""
    return [typed_token(t, vocab) for t in texts]


def json_tokens(text: str, vocab: Sequence[Value], span: Span | None = None) -> list[Value]:
    """A JSON array of tokens (or a JSON string, read as its characters) as typed tokens.

    Strings in the array are typed like command-line tokens, so ``["1", "2"]`` and ``[1, 2]``
    mean the same for an integer vocabulary.
    """
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        raise RaspError.single(
            "input", f"not a JSON array of tokens: {error.msg}", span, 'write e.g. ["a", "b"]'
        ) from None
    if isinstance(decoded, str):
        return typed_tokens(list(decoded), vocab)
    if not isinstance(decoded, list):
        raise RaspError.single("input", "expected a JSON array of tokens", span)
    tokens: list[Value] = []
    for item in decoded:
        if isinstance(item, str):
            tokens.append(typed_token(item, vocab))
        elif isinstance(item, (bool, int)):
            tokens.append(item)
        else:
            raise RaspError.single(
                "input",
                f"token {json.dumps(item)} is not a string, an integer or a boolean",
                span,
            )
    return tokens


def parse_vocab(text: str) -> tuple[Value, ...]:
    """A ``--vocab`` value: a JSON array, or a comma-separated list typed as a whole (all
    integers: ints; all ``true``/``false``: bools; otherwise strings)."""
    stripped = text.strip()
    if stripped.startswith("["):
        values = _json_vocab(stripped)
    else:
        items = [item.strip() for item in text.split(",")]
        values = _typed_list(items)
    _check_vocab(values)
    return tuple(values)


def _json_vocab(text: str) -> list[Value]:
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        raise RaspError.single(
            "option", f"--vocab is not a valid JSON array: {error.msg}"
        ) from None
    if not isinstance(decoded, list) or not all(isinstance(v, (str, int, bool)) for v in decoded):
        raise RaspError.single(
            "option", "--vocab must be an array of strings, integers or booleans"
        )
    return list(decoded)


def _typed_list(items: list[str]) -> list[Value]:
    if all(_is_int(item) for item in items):
        return [int(item) for item in items]
    if all(item in ("true", "false") for item in items):
        return [item == "true" for item in items]
    return list(items)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _check_vocab(values: list[Value]) -> None:
    if not values or values == [""]:
        raise RaspError.single("option", "--vocab is empty", hint="e.g. --vocab a,b,c")
    kinds = {vocab_kind([v]) for v in values}
    if len(kinds) > 1:
        raise RaspError.single(
            "option", "--vocab must be all strings, all integers or all booleans"
        )
    keys = [value_key(v) for v in values]
    if len(set(keys)) != len(keys):
        raise RaspError.single("option", "--vocab lists a token more than once")


def parse_max_len(text: str) -> int:
    """A ``--max-len`` value: a positive integer."""
    if not _is_int(text) or int(text) < 1:
        raise RaspError.single("option", f"--max-len must be a positive integer, got {text!r}")
    return int(text)


def describe_vocab(vocab: Sequence[Value], shown: int = SHOWN_VOCAB) -> str:
    """The vocabulary for messages, abbreviated after ``shown`` tokens."""
    text = ", ".join(describe_value(v) for v in vocab[:shown])
    if len(vocab) > shown:
        text += f", … ({len(vocab)} tokens)"
    return text


def check_input(
    tokens: Sequence[Value],
    header: Header,
    where: str = "",
    span: Span | None = None,
    *,
    hint: str = "",
) -> None:
    """Raise a :class:`RaspError` if a token is outside the vocabulary or the input is longer
    than ``max_len``; ``where`` (e.g. the program file) and ``span`` say where it came from,
    ``hint`` replaces the default advice (fix the input or pass --vocab/--max-len)."""
    suffix = f" of {where}" if where else ""
    if len(tokens) > header.max_len:
        raise RaspError.single(
            "input-length",
            f"the input has {len(tokens)} tokens, more than the max_len{suffix} ({header.max_len})",
            span,
            hint or "shorten the input or pass --max-len",
        )
    vocab = {value_key(v) for v in header.vocab}
    for position, token in enumerate(tokens):
        if value_key(token) not in vocab:
            raise RaspError.single(
                "input-token",
                f"token {describe_value(token)} at position {position} is not in the "
                f"vocabulary{suffix} ({describe_vocab(header.vocab)})",
                span,
                hint or "fix the input, or pass --vocab",
            )
