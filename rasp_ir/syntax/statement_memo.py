"""A file's successive versions in, each top-level statement's resolution reused when nothing it
read has changed: the memo behind incremental resolution (the language server resolves on every
keystroke).

While a statement is resolved, the resolver's file-level state (the file's scope, binding spans,
encodings, ``def``\\ s, outputs) lives in recording containers that note every key the statement
looks up and what it found there (a whole-key listing, as the "did you mean" hints do, is noted
as one read of every key), and every key it writes. The next version reuses the statement, the
same AST object as the incremental parser hands it back, when each noted read finds the same
thing: its bindings, diagnostics, outputs and writes are replayed, the bindings as the very same
objects, so analyses keyed by binding identity downstream reuse their results too. A changed
read re-resolves the statement, so a change reaches exactly the statements that read what it
changed, transitively. ``import`` statements are always resolved afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.syntax import ast
from rasp_ir.syntax.elaborate import MacroDef
from rasp_ir.syntax.resolved import SelRef, SOpRef
from rasp_ir.syntax.state import StatementFailed

_MISSING = object()
_ALL_KEYS = object()

Tag = str
"""Which container of the resolver a read or write touched (``scope``, ``spans``, ...)."""


@dataclass
class StatementRecord:
    """What resolving one statement read and did: the first observation of every key it read
    before writing it, its writes in order, and the bindings, diagnostics and outputs it added."""

    statement: ast.Statement
    reads: dict[tuple[Tag, object], object] = field(default_factory=dict)
    writes: list[tuple[Tag, str, Any]] = field(default_factory=list)
    written: set[tuple[Tag, str]] = field(default_factory=set)
    bindings: tuple[ir.Binding, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    outputs: tuple[str, ...] = ()


class _Log:
    """The record being written, if a statement is being resolved under the memo."""

    def __init__(self) -> None:
        self.current: StatementRecord | None = None

    def read(self, tag: Tag, key: object, observed: object) -> None:
        record = self.current
        if record is None or (tag, key) in record.written:
            return
        record.reads.setdefault((tag, key), observed)

    def write(self, tag: Tag, key: str, value: Any) -> None:
        record = self.current
        if record is not None:
            record.writes.append((tag, key, value))
            record.written.add((tag, key))

    def appended(self, tag: Tag, key: str) -> None:
        """``key`` was added to a list: later reads of it in this statement see its own doing."""
        if self.current is not None:
            self.current.written.add((tag, key))


class RecordingDict(dict[str, Any]):
    """A dict that tells its log which keys are looked up (and what was there) and written."""

    def __init__(self, tag: Tag, log: _Log, initial: Mapping[str, Any] | None = None) -> None:
        super().__init__(initial or {})
        self.tag = tag
        self.log = log

    def __getitem__(self, key: str) -> Any:
        self.log.read(self.tag, key, dict.get(self, key, _MISSING))
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self.log.read(self.tag, key, dict.get(self, key, _MISSING))
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self.log.read(
            self.tag, key, dict.get(self, key, _MISSING) if isinstance(key, str) else None
        )
        return dict.__contains__(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.log.write(self.tag, key, value)
        dict.__setitem__(self, key, value)

    def __iter__(self) -> Iterator[str]:
        self.log.read(self.tag, _ALL_KEYS, tuple(dict.keys(self)))
        return dict.__iter__(self)

    def keys(self) -> Any:
        self.log.read(self.tag, _ALL_KEYS, tuple(dict.keys(self)))
        return dict.keys(self)

    def __len__(self) -> int:
        self.log.read(self.tag, _ALL_KEYS, tuple(dict.keys(self)))
        return dict.__len__(self)

    def __bool__(self) -> bool:
        return dict.__len__(self) > 0


class RecordingList(list[str]):
    """The outputs list: membership tests are reads of that name, appends are writes."""

    def __init__(self, tag: Tag, log: _Log) -> None:
        super().__init__()
        self.tag = tag
        self.log = log

    def __contains__(self, key: object) -> bool:
        found = list.__contains__(self, key)
        self.log.read(self.tag, key, found)
        return found

    def append(self, key: str) -> None:
        self.log.appended(self.tag, key)
        list.append(self, key)


def _same(old: object, new: object) -> bool:
    """Whether a read finds what it found before: exactly (``True`` is not ``1``, a span's line
    text counts), a ``def`` by its AST object and whether it belongs to the memo's file."""
    if old is new:
        return True
    if type(old) is not type(new):
        return False
    if isinstance(old, (tuple, SOpRef, SelRef)):  # of names only
        return old == new
    if isinstance(old, Span):
        return old == new and old.line_text == new.line_text
    if isinstance(old, MacroDef) and isinstance(new, MacroDef):
        in_memo_file = isinstance(old.scope, RecordingDict) and isinstance(new.scope, RecordingDict)
        return old.node is new.node and (old.scope is new.scope or in_memo_file)
    return old == new and repr(old) == repr(new)


class StatementMemo:
    """The records of one file's last version, keyed by statement AST object, and the
    containers the resolver of the next version records into."""

    def __init__(self) -> None:
        self.log = _Log()
        self._records: dict[int, StatementRecord] = {}
        self._next: dict[int, StatementRecord] = {}
        self._limits: dict[int, tuple[object, list[Diagnostic]]] = {}
        self._next_limits: dict[int, tuple[object, list[Diagnostic]]] = {}
        self.reused = 0
        """How many statements the last version took from the one before."""

    def start(self) -> None:
        """Begin a new version: records not used by it are dropped at :meth:`finish`."""
        self._next, self._next_limits = {}, {}
        self.reused = 0
        self.log.current = None

    def finish(self) -> None:
        """End the version: keep the records it used or made."""
        self._records, self._limits = self._next, self._next_limits
        self.log.current = None

    def container(self, tag: Tag, initial: Mapping[str, Any] | None = None) -> RecordingDict:
        """A fresh recording dict for the resolver's ``tag`` state."""
        return RecordingDict(tag, self.log, initial)

    def limit_problems(
        self, top: object, compute: Callable[[object], list[Diagnostic]]
    ) -> list[Diagnostic]:
        """``compute(top)``, reused for the same AST object."""
        kept = self._limits.get(id(top))
        if kept is None or kept[0] is not top:
            kept = (top, compute(top))
        self._next_limits[id(top)] = kept
        return kept[1]

    def resolve(
        self,
        statement: ast.Statement,
        containers: Mapping[Tag, Any],
        added: tuple[list[ir.Binding], list[Diagnostic], list[str]],
        rebind_def: Callable[[MacroDef], MacroDef],
        resolve_afresh: Callable[[], None],
    ) -> None:
        """Resolve ``statement``: replay its record if every read finds the same, else run
        ``resolve_afresh`` and record it. ``containers`` are the resolver's recording dicts by
        tag; ``added`` its lists of bindings, diagnostics and outputs; ``rebind_def`` makes a
        replayed ``def`` belong to this version's file scope."""
        record = self._records.get(id(statement))
        if record is not None and record.statement is statement and _holds(record, containers):
            self._replay(record, containers, added, rebind_def)
            self._next[id(statement)] = record
            self.reused += 1
            return
        self._record(statement, added, resolve_afresh)

    def _record(
        self,
        statement: ast.Statement,
        added: tuple[list[ir.Binding], list[Diagnostic], list[str]],
        resolve_afresh: Callable[[], None],
    ) -> None:
        bindings, diagnostics, outputs = added
        starts = len(bindings), len(diagnostics), list.__len__(outputs)
        record = StatementRecord(statement)
        self.log.current = record
        finished = False  # resolved, or stopped by a diagnostic; not by a bug
        try:
            resolve_afresh()
            finished = True
        except StatementFailed:
            finished = True
            raise
        finally:
            self.log.current = None
            if finished:
                record.bindings = tuple(bindings[starts[0] :])
                record.diagnostics = tuple(diagnostics[starts[1] :])
                record.outputs = tuple(list.__getitem__(outputs, slice(starts[2], None)))
                record.written = set()
                self._next[id(statement)] = record

    @staticmethod
    def _replay(
        record: StatementRecord,
        containers: Mapping[Tag, Any],
        added: tuple[list[ir.Binding], list[Diagnostic], list[str]],
        rebind_def: Callable[[MacroDef], MacroDef],
    ) -> None:
        bindings, diagnostics, outputs = added
        bindings.extend(record.bindings)
        diagnostics.extend(record.diagnostics)
        list.extend(outputs, record.outputs)
        for tag, key, value in record.writes:
            dict.__setitem__(containers[tag], key, rebind_def(value) if tag == "defs" else value)


def _holds(record: StatementRecord, containers: Mapping[Tag, Any]) -> bool:
    """Whether every read of ``record`` finds the same thing in ``containers`` now."""
    for (tag, key), observed in record.reads.items():
        if tag == "outputs":
            current: object = list.__contains__(containers[tag], key)
        elif key is _ALL_KEYS:
            current = tuple(dict.keys(containers[tag]))
        else:
            current = dict.get(containers[tag], key, _MISSING)
        if not _same(observed, current):
            return False
    return True
