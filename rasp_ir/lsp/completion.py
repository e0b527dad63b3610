"""A position in a document in, completion candidates out: the names in scope there (imported
ones too), the primitives and built-in calls and functions, comparison operators, keywords, and
header directives after a ``%``.

Half-typed text does not parse; the names then come from the last version that did, so
completion keeps working while a statement is being written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rasp_ir.lsp.builtins import BUILTINS, Builtin
from rasp_ir.lsp.index import FileIndex, Symbol

CandidateKind = Literal[
    "variable", "function", "parameter", "keyword", "operator", "directive", "constant"
]

_DIRECTIVE_PREFIX = re.compile(r"^\s*%\w*$")

_BUILTIN_KINDS: dict[str, CandidateKind] = {
    "primitive": "constant",
    "call": "function",
    "function": "function",
    "operator": "operator",
    "directive": "directive",
    "keyword": "keyword",
}
_SYMBOL_KINDS: dict[str, CandidateKind] = {
    "binding": "variable",
    "local": "variable",
    "def": "function",
    "parameter": "parameter",
    "fn-parameter": "parameter",
}


@dataclass(frozen=True)
class Candidate:
    """One completion: the text to insert, its kind, a one-line detail and documentation."""

    label: str
    kind: CandidateKind
    detail: str
    documentation: str = ""


def complete(
    index: FileIndex | None, line_text: str, line: int, column: int, *, current: bool
) -> list[Candidate]:
    """The candidates at 1-based ``line``:``column`` of a line reading ``line_text``.

    ``index`` is the document's index, from this version (``current``) or the last version
    that parsed; with an older one every name of the file is offered, as positions may have
    moved.
    """
    before = line_text[: column - 1]
    if _DIRECTIVE_PREFIX.match(before):
        return [_builtin(b) for b in BUILTINS if b.kind == "directive"]
    candidates = []
    if index is not None:
        visible = index.visible_at(line, column) if current else index.scope
        candidates = [_symbol(s) for s in visible.values()]
    candidates += [_builtin(b) for b in BUILTINS if b.kind != "directive"]
    return candidates


def _symbol(symbol: Symbol) -> Candidate:
    where = f" of def {symbol.owner}" if symbol.owner else ""
    detail = symbol.detail or f"{symbol.kind}{where}"
    return Candidate(symbol.name, _SYMBOL_KINDS[symbol.kind], detail)


def _builtin(builtin: Builtin) -> Candidate:
    label = builtin.name.removeprefix("%") if builtin.kind == "directive" else builtin.name
    return Candidate(label, _BUILTIN_KINDS[builtin.kind], builtin.signature, builtin.doc)
