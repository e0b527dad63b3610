"""An interactive RASP session without a terminal: lines in (:meth:`ReplSession.feed`), the text
to print out.

The session keeps a header, the statements accepted so far and a current example. Each entry
is checked by re-parsing the whole session text with ``output tokens;`` appended and running
the reference interpreter on the example; an entry that fails is not kept. Diagnostics point
into what the user typed (``<repl>:line:col``, lines counted within the entry) or into the
loaded file a statement came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rasp_ir import ir
from rasp_ir.binding_text import is_sop, show_binding, sop_text
from rasp_ir.diagnostics import Diagnostic, RaspError, Span
from rasp_ir.inputs import check_input, json_tokens, typed_tokens
from rasp_ir.interpreter import Evaluation, Executable
from rasp_ir.syntax import as_token, as_tree, parse_program, parse_tree
from rasp_ir.values import Value, format_value

REPL_FILE = "<repl>"
DEFAULT_HEADER = {
    "vocab": '%vocab chars "abcdefghijklmnopqrstuvwxyz"',
    "max_len": "%max_len 16",
}
DEFAULT_EXAMPLE = "hello"
HEADER_ORDER = ("vocab", "max_len", "bos", "causal")
EXPRESSION_NAME = "_it"
PROMPT, CONTINUATION = ">> ", ".. "
KEPT_PROGRAMS = 8
EXAMPLE_HINT = "set an example that fits the header with :example"

_SOURCE = "<repl-source>"
_TAIL = "output tokens;"
_LOCATION = re.compile(re.escape(_SOURCE) + r":(\d+):(\d+)")
_STATEMENT_START = re.compile(r"\s*(?:(?:def|import|output)\b|[A-Za-z_]\w*\s*(?::|=(?!=)))")

HELP = """\
Type statements as in a .rasp file; each new s-op prints its values on the example and each
selector its 0/1 matrix (rows: queries, columns: keys). An expression without 'name =' is
evaluated and not kept. Statements end with ';' (a def with its closing '}'); an empty line
submits an unfinished entry.

  %vocab ..., %max_len N, %bos TOKEN, %causal   change the header (%causal off, %bos none)
  :example hello | :example h e l l o | :example [1, 2]   set the example (alone: show it)
  :load FILE        add a file's statements; its header replaces the current one
  :show NAME        print a binding's values on the example
  :list [all]       the bindings so far (all: with derived names such as x__select)
  :reset            forget everything; :help this text; :quit leave"""


@dataclass(frozen=True)
class _Chunk:
    """One statement or directive of the session text and where it came from."""

    text: str
    origin: str
    line: int
    kind: str = ""
    name: str = ""
    prefix: str = ""


class _EvaluationFailed(RaspError):
    """A statement that parses but fails on the example; ``note`` shows what it reads."""

    def __init__(self, diagnostics: Sequence[Diagnostic], note: str) -> None:
        super().__init__(diagnostics)
        self.note = note


class ReplSession:
    """The state of one REPL session; :meth:`feed` takes one line at a time."""

    def __init__(self) -> None:
        self.finished = False
        self.pending: list[str] = []
        # Programs the session has run, by source text (so that error locations stay right),
        # ready to run again on a new example or to show a value again.
        self._executables: dict[str, Executable] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the default header, no statements and the default example."""
        self.header = {k: _Chunk(v, REPL_FILE, 1) for k, v in DEFAULT_HEADER.items()}
        self.statements: list[_Chunk] = []
        self.example: list[str] = list(DEFAULT_EXAMPLE)
        self.pending = []

    @property
    def prompt(self) -> str:
        """The prompt for the next line: a continuation prompt inside an unfinished entry."""
        return CONTINUATION if self.pending else PROMPT

    def cancel(self) -> None:
        """Drop an unfinished entry (Ctrl-C)."""
        self.pending = []

    def feed(self, line: str) -> str:
        """Take one line; the text to print ('' while an entry is unfinished)."""
        if not self.pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                return ""
            if stripped.startswith(":"):
                return self._guard(self._command, stripped)
            if stripped.startswith("%"):
                return self._guard(self._directive, stripped)
        elif not line.strip():
            return self._submit()
        self.pending.append(line)
        return self._submit() if entry_complete("\n".join(self.pending)) else ""

    def _submit(self) -> str:
        entry = "\n".join(self.pending)
        self.pending = []
        return self._guard(self._entry, entry)

    def _guard(self, action: Callable[[str], str], text: str) -> str:
        try:
            return action(text)
        except _EvaluationFailed as failure:
            return failure.render() + (f"\n{failure.note}" if failure.note else "")
        except RaspError as error:
            return error.render()

    # ------------------------------------------------------------ statements

    def _entry(self, entry: str) -> str:
        try:
            directives, statements, outputs = _chunks(entry, REPL_FILE)
        except RaspError:
            if _STATEMENT_START.match(entry):
                raise
            return self._expression(entry)
        if directives:
            raise RaspError.single("repl", "header directives go on a line of their own")
        if statements:
            program, evaluation = self._try(self.header, [*self.statements, *statements])
            self.statements = [*self.statements, *statements]
            shown = [c.name for c in statements if c.kind == "binding"]
        else:
            program, evaluation = self._run()
            shown = []
        return "\n".join(_show_named(program, evaluation, n) for n in [*shown, *outputs])

    def _expression(self, entry: str) -> str:
        prefix = f"{EXPRESSION_NAME} = "
        chunk = _Chunk(prefix + entry, REPL_FILE, 1, "binding", EXPRESSION_NAME, prefix)
        program, evaluation = self._try(self.header, [*self.statements, chunk])
        return show_binding(program, evaluation, EXPRESSION_NAME, "")

    def _try(
        self, header: dict[str, _Chunk], statements: list[_Chunk]
    ) -> tuple[ir.Program, Evaluation]:
        """Parse and run a candidate session; errors name the failing statement's inputs."""
        program = self._parse(header, statements)
        try:
            return program, self._interpret(program, header, statements)
        except RaspError as error:
            note = self._inputs_note(program, statements[-1:])
            raise _EvaluationFailed(error.diagnostics, note) from None

    def _run(self) -> tuple[ir.Program, Evaluation]:
        program = self._parse(self.header, self.statements)
        return program, self._interpret(program, self.header, self.statements)

    def _parse(self, header: dict[str, _Chunk], statements: list[_Chunk]) -> ir.Program:
        source, located = _layout(header, statements)
        try:
            return parse_program(source, _SOURCE)
        except RaspError as error:
            raise _relocated(error, located) from None

    def _interpret(
        self, program: ir.Program, header: dict[str, _Chunk], statements: list[_Chunk]
    ) -> Evaluation:
        tokens = typed_tokens(self.example, program.header.vocab)
        check_input(tokens, program.header, "the session", hint=EXAMPLE_HINT)
        try:
            return self._executable(program, _layout(header, statements)[0])([tokens])
        except RaspError as error:
            raise _relocated(error, _layout(header, statements)[1]) from None

    def _executable(self, program: ir.Program, source: str) -> Executable:
        """``program`` (parsed from ``source``) ready to run, prepared once and kept for the
        last few programs."""
        executable = self._executables.pop(source, None) or Executable(program)
        self._executables[source] = executable
        if len(self._executables) > KEPT_PROGRAMS:
            del self._executables[next(iter(self._executables))]
        return executable

    def _inputs_note(self, program: ir.Program, new: list[_Chunk]) -> str:
        """The values of the s-ops the newest statement reads ('' when they do not evaluate)."""
        if not new or not new[0].name:
            return ""
        name = new[0].name
        own = {b.name for b in program.bindings if b.name == name or b.name.startswith(name + "__")}
        read: list[str] = []
        for binding in program.bindings:
            if binding.name in own:
                read += [n for n in ir.operands(binding.node) if n not in own]
        read = list(dict.fromkeys(read))
        try:
            previous = self._parse(self.header, self.statements)
            evaluation = self._interpret(previous, self.header, self.statements)
        except RaspError:
            return ""
        shown = [f"  {n} = {sop_text(evaluation, n)}" for n in read if is_sop(previous, n)]
        subject = "the expression" if name == EXPRESSION_NAME else name
        return "\n".join([f"{subject} reads:", *shown]) if shown else ""

    # ------------------------------------------------------------ header and commands

    def _directive(self, line: str) -> str:
        match = re.match(r"%(\w+)", line)
        name = match.group(1) if match else ""
        if name not in HEADER_ORDER:
            raise RaspError.single(
                "repl", f"unknown directive %{name}", hint="use %vocab, %max_len, %bos or %causal"
            )
        header = dict(self.header)
        if re.fullmatch(r"%causal\s+off;?|%bos\s+none;?", line):
            header.pop(name, None)
        else:
            header[name] = _Chunk(line, REPL_FILE, 1)
        return self._set_header(header)

    def _set_header(self, header: dict[str, _Chunk]) -> str:
        """Install ``header`` if the session still runs under it."""
        note, _, _ = self._install(header, self.statements)
        return note

    def _install(
        self, header: dict[str, _Chunk], statements: list[_Chunk]
    ) -> tuple[str, ir.Program, Evaluation]:
        """Make ``header`` and ``statements`` the session if they run, refitting the example
        to a changed vocabulary; a note about the example ('' if kept), the program and its
        evaluation."""
        program = self._parse(header, statements)
        old_example = list(self.example)
        note = self._fit_example(program.header)
        try:
            evaluation = self._interpret(program, header, statements)
        except RaspError:
            self.example = old_example
            raise
        self.header, self.statements = header, statements
        return note, program, evaluation

    def _fit_example(self, header: ir.Header) -> str:
        """Replace the example when it does not fit ``header``; a note saying so, or ''."""
        try:
            check_input(typed_tokens(self.example, header.vocab), header)
        except RaspError:
            self.example = [_raw_text(v) for v in header.vocab[: min(5, header.max_len)]]
            shown = ", ".join(format_value(v) for v in header.vocab[: len(self.example)])
            return f"the example does not fit the header; it is now [{shown}]"
        return ""

    def _command(self, line: str) -> str:
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        handlers: dict[str, Callable[[str], str]] = {
            ":example": self._example_command,
            ":load": self._load,
            ":show": self._show_command,
            ":list": self._list,
            ":reset": lambda _: self._reset_command(),
            ":help": lambda _: HELP,
            ":quit": lambda _: self._quit(),
        }
        handler = handlers.get(command)
        if handler is None:
            raise RaspError.single(
                "repl", f"unknown command {command}", hint="type :help for the commands"
            )
        return handler(rest)

    def _reset_command(self) -> str:
        self.reset()
        return ""

    def _quit(self) -> str:
        self.finished = True
        return ""

    def _example_command(self, rest: str) -> str:
        if not rest:
            return self._example_text()
        header = self._parse(self.header, []).header
        if rest.startswith(("[", '"')):
            texts = [_raw_text(v) for v in json_tokens(rest, header.vocab)]
        else:
            texts = rest.split()
            if len(texts) == 1 and _character_vocabulary(header.vocab):
                texts = list(texts[0])  # :example hello, over a character vocabulary
        check_input(typed_tokens(texts, header.vocab), header, "the session", hint=EXAMPLE_HINT)
        self.example = texts
        return ""

    def _example_text(self) -> str:
        vocab = self._parse(self.header, []).header.vocab
        tokens = typed_tokens(self.example, vocab)
        return "[" + ", ".join(format_value(v) for v in tokens) + "]"

    def _show_command(self, rest: str) -> str:
        program, evaluation = self._run()
        return _show_named(program, evaluation, rest)

    def _list(self, rest: str) -> str:
        program = self._parse(self.header, self.statements)
        everything = rest == "all"
        lines = [f"def {c.name}" for c in self.statements if c.kind == "def_"]
        for binding in program.bindings:
            if everything or "__" not in binding.name:
                kind = ir.kind_name(binding.node)
                encoding = f" : {binding.encoding}" if binding.encoding else ""
                lines.append(f"{binding.name}  ({kind}{encoding})")
        return "\n".join(lines) if lines else "(no bindings)"

    def _load(self, rest: str) -> str:
        path = Path(rest.strip('"'))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RaspError.single("file", f"cannot read {rest}: {error}") from None
        directives, statements, outputs = _chunks(text, str(path))
        header = {name: chunk for name, chunk in directives} or self.header
        note, program, evaluation = self._install(header, [*self.statements, *statements])
        count = sum(1 for c in statements if c.kind == "binding")
        lines = [f"loaded {path}: {count} binding(s)"] + ([note] if note else [])
        lines += [_show_named(program, evaluation, n) for n in outputs]
        return "\n".join(lines)


def _layout(
    header: dict[str, _Chunk], statements: list[_Chunk]
) -> tuple[str, list[tuple[int, _Chunk]]]:
    """The session text (header, statements, ``output tokens;``) and each chunk's first line."""
    chunks = [header[k] for k in HEADER_ORDER if k in header]
    chunks += [*statements, _Chunk(_TAIL, REPL_FILE, 1)]
    located, line = [], 1
    for chunk in chunks:
        located.append((line, chunk))
        line += chunk.text.count("\n") + 1
    return "\n".join(c.text for c in chunks) + "\n", located


def entry_complete(text: str) -> bool:
    """True when ``text`` ends a statement: a ';' (or, for a def, a '}') outside brackets,
    strings and comments."""
    depth, last, index = 0, "", 0
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _string_end(text, index)
            last = '"'
            continue
        if char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if not char.isspace():
            last = char
        index += 1
    if depth > 0:
        return False
    return last == ";" or (last == "}" and text.lstrip().startswith("def"))


def _string_end(text: str, start: int) -> int:
    index = start + 1
    while index < len(text) and text[index] not in '"\n':
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _chunks(text: str, origin: str) -> tuple[list[tuple[str, _Chunk]], list[_Chunk], list[str]]:
    """The directives (by name), statements and output names of a piece of source text."""
    directives: list[tuple[str, _Chunk]] = []
    statements: list[_Chunk] = []
    outputs: list[str] = []
    base = Path(origin).parent if not origin.startswith("<") else None
    for item in parse_tree(text, origin).children:
        tree = as_tree(item)
        meta = tree.meta
        body = " " * (meta.column - 1) + text[meta.start_pos : meta.end_pos]
        if tree.data.endswith("_directive"):
            chunk = _Chunk(body, origin, meta.line, tree.data)
            directives.append((tree.data.removesuffix("_directive"), chunk))
        elif tree.data == "output":
            outputs += [str(t) for t in tree.children]
        else:
            name = str(as_token(tree.children[0])) if tree.data != "import_" else ""
            if tree.data == "import_" and base is not None:
                target = (base / json.loads(str(tree.children[0]))).resolve()
                body = " " * (meta.column - 1) + f"import {json.dumps(str(target))};"
            statements.append(_Chunk(body, origin, meta.line, tree.data, name))
    return directives, statements, outputs


def _relocated(error: RaspError, located: list[tuple[int, _Chunk]]) -> RaspError:
    """``error`` with spans and locations moved from the session text to their origins."""

    def place(line: int) -> tuple[int, _Chunk]:
        start, chunk = located[0]
        for candidate_start, candidate in located:
            if candidate_start <= line:
                start, chunk = candidate_start, candidate
        return start, chunk

    def location(match: re.Match[str]) -> str:
        line = int(match.group(1))
        start, chunk = place(line)
        return f"{chunk.origin}:{chunk.line + line - start}:{match.group(2)}"

    def moved(diagnostic: Diagnostic) -> Diagnostic:
        message = _LOCATION.sub(location, diagnostic.message)
        hint = _LOCATION.sub(location, diagnostic.hint)
        span = diagnostic.span
        if span is not None and span.file == _SOURCE:
            span = _moved_span(span, *place(span.line))
        return replace(diagnostic, message=message, hint=hint, span=span)

    return RaspError([moved(d) for d in error.diagnostics])


def _moved_span(span: Span, start: int, chunk: _Chunk) -> Span:
    shift = len(chunk.prefix)
    column, end_column, text = span.column, span.end_column, span.line_text
    if shift and span.line == start:
        column = max(1, column - shift)
        text = text[shift:] if text.startswith(chunk.prefix) else text
        if span.end_line == start:
            end_column = max(column + 1, end_column - shift)
    line = chunk.line + span.line - start
    return Span(chunk.origin, line, column, line + span.end_line - span.line, end_column, text)


def _show_named(program: ir.Program, evaluation: Evaluation, name: str) -> str:
    """:func:`~rasp_ir.binding_text.show_binding` of a name the user gave; an error if it is
    not bound."""
    if name not in ir.PRIMITIVES and name not in program.by_name:
        raise RaspError.single("repl", f"{name!r} is not defined", hint="see :list")
    return show_binding(program, evaluation, name, name)


def _raw_text(v: Value) -> str:
    """A token as text that :func:`~rasp_ir.inputs.typed_token` turns back into it."""
    return v if isinstance(v, str) else format_value(v)


def _character_vocabulary(vocab: tuple[Value, ...]) -> bool:
    """True when every token is a one-character string (so a word is a token sequence)."""
    return all(isinstance(v, str) and len(v) == 1 for v in vocab)
