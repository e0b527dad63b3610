"""The concrete parser's Lark tables to JSON text and back: a new ``rasp fmt`` process loads
them instead of analysing the grammar again, which took most of its start-up.

The tables live beside the grammar (``grammar/rasp.concrete.json``), stamped with the SHA-256
of the grammar text and Lark's version; tables that do not match (or a missing or unreadable
file) are ignored and the grammar is analysed as before, so a stale file costs time, never a
wrong parse (a test fails until it is rewritten). JSON, never pickle: loading runs no code.

    python -m rasp_ir.syntax.parser_tables    # rewrite the file after editing the grammar
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.grammar import grammar_text

TABLES_FILE = "rasp.concrete.json"
CONCRETE_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "maybe_placeholders": False,
    "keep_all_tokens": True,
}
"""The concrete parser's options (every token kept, no positions on nodes)."""

# JSON has neither tuples nor integer keys, which Lark's tables use: tagged objects stand in
_TUPLE = "__tuple__"
_INT_KEYS = "__int_keys__"


def build_concrete_parser() -> Lark:
    """The concrete parser, from the grammar (the slow way)."""
    return Lark(grammar_text(), **CONCRETE_OPTIONS)


def tables_text(parser: Lark, grammar: str) -> str:
    """``parser``'s tables (built from ``grammar``) as JSON text, stamped for ``grammar``."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    stamped = {**_stamp(grammar), "data": _to_json(data), "memo": _to_json(memo)}
    return json.dumps(stamped, sort_keys=True, separators=(",", ":")) + "\n"


def load_tables(text: str, grammar: str) -> Lark | None:
    """The parser whose tables ``text`` holds, if they were made from ``grammar`` with this
    version of Lark (else ``None``)."""
    try:
        stored = json.loads(text)
    except ValueError:
        return None
    if not isinstance(stored, dict) or any(stored.get(k) != v for k, v in _stamp(grammar).items()):
        return None
    # what Lark.load does after unpickling (and it skips checking the terminals again)
    data, memo = _from_json(stored["data"]), _from_json(stored["memo"])
    loaded: Lark = Lark._load_from_dict(data, memo)  # type: ignore[no-untyped-call]
    return loaded


def stored_concrete_parser() -> Lark | None:
    """The concrete parser from the tables stored beside the grammar, if they match it."""
    try:
        text = resources.files("rasp_ir.grammar").joinpath(TABLES_FILE).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return load_tables(text, grammar_text())


def stored_tables_path() -> Path:
    """Where the tables are stored (in the source tree)."""
    return Path(str(resources.files("rasp_ir.grammar").joinpath(TABLES_FILE)))


def _stamp(grammar: str) -> dict[str, str]:
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()
    return {"grammar_sha256": digest, "lark_version": lark.__version__}


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE: [_to_json(item) for item in value]}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _to_json(item) for key, item in value.items()}
        if all(isinstance(key, int) for key in value):
            return {_INT_KEYS: [[key, _to_json(item)] for key, item in value.items()]}
        raise TypeError(f"keys of mixed types in Lark's tables: {sorted(map(repr, value))}")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in JSON: {value!r}")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    if isinstance(value, dict):
        if _TUPLE in value:
            return tuple(_from_json(item) for item in value[_TUPLE])
        if _INT_KEYS in value:
            return {int(key): _from_json(item) for key, item in value[_INT_KEYS]}
        return {key: _from_json(item) for key, item in value.items()}
    return value


def main() -> int:
    """Rewrite the stored tables from the grammar."""
    path = stored_tables_path()
    write_text_atomically(path, tables_text(build_concrete_parser(), grammar_text()))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
