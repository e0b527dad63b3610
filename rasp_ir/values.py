"""Values that flow through RASP programs: normalisation, canonical order, text and JSON forms.

A value is a string, an int, a bool, an exact rational (``fractions.Fraction``) or ``None``
(undefined). Numbers are kept normalised: a ``Fraction`` with denominator 1 becomes an ``int``,
so equal numbers are always equal objects of one type. Python treats ``True == 1``; RASP value
sets must not, so sets and tables key values by :func:`value_key`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction

Value = str | int | bool | Fraction | None
Number = int | Fraction

_RANK_NONE, _RANK_BOOL, _RANK_NUMBER, _RANK_STRING = 0, 1, 2, 3


def normalize_number(x: int | Fraction) -> Number:
    """An exact number in normal form: ints stay ints, integral fractions become ints."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x.numerator)
    return x


def is_number(v: Value) -> bool:
    """True for ints and fractions, false for bools, strings and ``None``."""
    return isinstance(v, (int, Fraction)) and not isinstance(v, bool)


def value_key(v: Value) -> tuple[int, object]:
    """A hashable, totally ordered key that keeps ``True`` and ``1`` apart."""
    if v is None:
        return (_RANK_NONE, 0)
    if isinstance(v, bool):
        return (_RANK_BOOL, int(v))
    if isinstance(v, (int, Fraction)):
        return (_RANK_NUMBER, v)
    return (_RANK_STRING, v)


def canonical_values(values: Iterable[Value]) -> tuple[Value, ...]:
    """Distinct values in canonical order: none, bools, numbers ascending, strings."""
    unique = {value_key(v): v for v in values}
    return tuple(unique[k] for k in sorted(unique))


def same_value(a: Value, b: Value) -> bool:
    """Equality that distinguishes booleans from numbers."""
    return value_key(a) == value_key(b)


def format_number(x: Number) -> str:
    """Source text for an exact number: ``3``, ``0.25``, ``1/3`` (always re-parses to ``x``)."""
    if isinstance(x, int):
        return str(x)
    denominator = x.denominator
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    if denominator != 1:
        return f"{x.numerator}/{x.denominator}"
    sign = "-" if x < 0 else ""
    magnitude = abs(x)
    whole = magnitude.numerator // magnitude.denominator
    rest = magnitude - whole
    digits = ""
    while rest:
        rest *= 10
        digit = rest.numerator // rest.denominator
        digits += str(digit)
        rest -= digit
    return f"{sign}{whole}.{digits}"


def format_string(s: str) -> str:
    """A double-quoted, escaped string literal (JSON escapes; never executable)."""
    return json.dumps(s, ensure_ascii=False)


def format_value(v: Value) -> str:
    """Source text for a value literal, as the parser reads it back."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return format_string(v)
    return format_number(v)


def to_json(v: Value) -> object:
    """A JSON-serialisable form: numbers that are not integers become floats, ``None`` null."""
    if isinstance(v, Fraction):
        return float(v)
    return v


def describe_value(v: Value) -> str:
    """A short human description of a value for messages, e.g. ``'a'`` or ``2/3``."""
    return format_value(v)
