"""Source text in, IR :class:`~rasp_ir.ir.Program` out: the driver of the front end.

Each file is parsed into an AST (:mod:`rasp_ir.syntax.build_ast`), then resolved statement by
statement: header directives (:mod:`rasp_ir.syntax.header`), ``import``\\ s (resolved
recursively into their own scope), ``def`` macros (expanded where called), bindings
(:mod:`rasp_ir.syntax.bindings`) and outputs. Nested expressions are named deterministically:
the ``k``-th nested node of kind ``K`` inside binding ``x`` is called ``x__K`` (``x__K2``, ...),
counted in pre-order, so the printer can put them back inline; a macro argument that the
macro's own bindings read is bound first, as ``x__h__s`` for parameter ``s`` of ``h``. Every
problem becomes a diagnostic with a span; a failed statement stops only itself, so as many as
possible are reported at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rasp_ir import ir
from rasp_ir.collector import collector_paused
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.limits import MAX_BINDINGS, MAX_SOURCE_CHARS
from rasp_ir.syntax import ast
from rasp_ir.syntax.ast_limits import ast_limit_problems, node_limit_problems
from rasp_ir.syntax.bindings import BindingResolver
from rasp_ir.syntax.build_ast import parse_module
from rasp_ir.syntax.elaborate import MacroDef
from rasp_ir.syntax.header import HeaderDirectives, HeaderOverrides
from rasp_ir.syntax.resolved import (
    POISONED,
    Scope,
    SelRef,
    SOpRef,
    macro_marker,
)
from rasp_ir.syntax.state import StatementFailed
from rasp_ir.syntax.statement_memo import RecordingList, StatementMemo


class ProgramResolver(BindingResolver):
    """Resolves a main file (and what it imports) into one program. With a ``memo``, the main
    file's statements are resolved incrementally (:mod:`rasp_ir.syntax.statement_memo`): the
    file-level state lives in the memo's recording containers, and :meth:`main_scope` is the
    scope to resolve the main file into."""

    def __init__(
        self,
        overrides: HeaderOverrides | None,
        read_file: Callable[[Path], str],
        memo: StatementMemo | None = None,
    ):
        super().__init__()
        self.overrides = overrides or HeaderOverrides()
        self.read_file = read_file
        self.outputs: list[str] = []
        self.directives = HeaderDirectives()
        self.import_stack: list[Path] = []
        self.imported: set[Path] = set()
        self.memo = memo
        if memo is not None:
            self.binding_spans = memo.container("spans")
            self.encodings = memo.container("encodings")
            self.defs = memo.container("defs")
            self.outputs = RecordingList("outputs", memo.log)

    def main_scope(self) -> Scope:
        """A new scope for the main file: the primitives, recorded when there is a memo."""
        if self.memo is None:
            return global_scope()
        return self.memo.container("scope", global_scope())

    def resolve_file(
        self, text: str, file: str, scope: Scope, *, main: bool, module: ast.Module | None = None
    ) -> None:
        """Resolve the statements of one file into ``scope``; only the main file's header and
        outputs count. ``module`` is the AST of ``text`` when the caller has parsed it."""
        if len(text) > MAX_SOURCE_CHARS:
            raise RaspError.single(
                "limit",
                f"{file} has {len(text):,} characters, more than the limit of {MAX_SOURCE_CHARS:,}",
                hint="split the program into imported files",
            )
        if module is None:
            module = parse_module(text, file)
        too_large = self._limit_problems(module, file, main=main)
        if too_large:
            raise RaspError(too_large)
        for directive in module.directives if main else ():
            try:
                self.directives.read(self, directive, lambda node: self.constant(node, {}))
            except StatementFailed:
                continue
        for statement in module.statements:
            try:
                self._statement(statement, file, scope, main=main)
            except StatementFailed:
                continue

    def _limit_problems(self, module: ast.Module, file: str, *, main: bool) -> list[Diagnostic]:
        if self.memo is None or not main:
            return ast_limit_problems(module, file)
        memo = self.memo
        return ast_limit_problems(
            module, file, per_node=lambda top: memo.limit_problems(top, node_limit_problems)
        )

    def _statement(self, statement: ast.Statement, file: str, scope: Scope, *, main: bool) -> None:
        if self.memo is None or not main or isinstance(statement, ast.Import):
            self._resolve_statement(statement, file, scope, main=main)
            return
        containers = {
            "scope": scope,
            "spans": self.binding_spans,
            "encodings": self.encodings,
            "defs": self.defs,
            "outputs": self.outputs,
        }
        self.memo.resolve(
            statement,
            containers,
            (self.bindings, self.diagnostics, self.outputs),
            lambda definition: MacroDef(definition.node, scope),
            lambda: self._resolve_statement(statement, file, scope, main=main),
        )

    def _resolve_statement(
        self, statement: ast.Statement, file: str, scope: Scope, *, main: bool
    ) -> None:
        if isinstance(statement, ast.Binding):
            self.bind(statement, scope, prefix="")
        elif isinstance(statement, ast.Def):
            self._def(statement, scope)
        elif isinstance(statement, ast.Import):
            self._import(statement, file, scope)
        elif main:
            for name in statement.names:
                self._output(name, scope)

    def _output(self, node: ast.Name, scope: Scope) -> None:
        name, span = node.name, node.span
        found = scope.get(name)
        if found is None:
            self.undefined(name, span, scope)
        elif found is POISONED:
            return
        elif isinstance(found, SelRef):
            self.error("output", f"{name} is a selector; only s-ops can be outputs", span)
        elif not isinstance(found, SOpRef) or found.name != name:
            self.error("output", f"{name} is not a binding of this program", span)
        elif name in self.outputs:
            self.error("output", f"{name} is already an output", span)
        else:
            self.outputs.append(name)

    def _def(self, node: ast.Def, scope: Scope) -> None:
        self.check_new_name(node.name, node.name_span, scope)
        if len(set(node.params)) != len(node.params):
            raise self.error(
                "duplicate", f"def {node.name} repeats a parameter name", node.name_span
            )
        self.defs[node.name] = MacroDef(node, scope)
        scope[node.name] = macro_marker(node.name)

    # ------------------------------------------------------------ imports

    def _import(self, node: ast.Import, file: str, scope: Scope) -> None:
        path = self._import_path(node, file)
        if path in self.import_stack:
            chain = " -> ".join(p.name for p in [*self.import_stack, path])
            raise self.error("import", f"import cycle: {chain}", node.span)
        if path in self.imported:
            return
        text = self._read_import(node, path)
        self.imported.add(path)
        self.import_stack.append(path)
        file_scope = global_scope()
        try:
            self.resolve_file(text, str(path), file_scope, main=False)
        except RaspError as error:
            self.diagnostics.extend(error.diagnostics)
            raise StatementFailed() from None
        finally:
            self.import_stack.pop()
        self._merge_imported(node, file_scope, scope)

    def _import_path(self, node: ast.Import, file: str) -> Path:
        base = Path(file).parent if file and not file.startswith("<") else Path()
        try:
            return (base / node.path).resolve()
        except (OSError, ValueError) as error:  # e.g. a NUL character in the path
            raise self.error("import", f"cannot import {node.path!r}: {error}", node.span) from None

    def _read_import(self, node: ast.Import, path: Path) -> str:
        try:
            return self.read_file(path)
        except OSError as error:
            raise self.error(
                "import", f"cannot read {path}: {error.strerror or error}", node.span
            ) from None
        except UnicodeDecodeError:
            raise self.error(
                "import", f"cannot read {path}: it is not UTF-8 text", node.span
            ) from None

    def _merge_imported(self, node: ast.Import, imported: Scope, scope: Scope) -> None:
        """The public names of an imported file, added to the importer's scope."""
        for name, value in imported.items():
            if name.startswith("_") or name in ir.PRIMITIVES:
                continue
            if name in scope and scope[name] != value:
                raise self.error(
                    "duplicate", f"import brings in {name!r}, already defined", node.span
                )
            scope[name] = value

    # ------------------------------------------------------------ assembly

    def program(self) -> ir.Program:
        """The program resolved so far; a :class:`RaspError` with every diagnostic if any."""
        header = self.directives.header(self.overrides, self)
        if not self.outputs and not self.diagnostics:
            self.diagnostics.append(
                Diagnostic(
                    "no-output",
                    "the program has no output",
                    None,
                    "add a line such as 'output result;'",
                )
            )
        if len(self.bindings) > MAX_BINDINGS:
            self.diagnostics.append(
                Diagnostic(
                    "limit",
                    f"the program has {len(self.bindings):,} bindings (nested expressions "
                    f"included), more than the limit of {MAX_BINDINGS:,}",
                    None,
                    "split it into smaller programs",
                )
            )
        if self.diagnostics or header is None:
            raise RaspError(self.diagnostics)
        return ir.Program(header, tuple(self.bindings), tuple(self.outputs))


def global_scope() -> Scope:
    """The scope every file starts with: the primitives."""
    return {name: SOpRef(name) for name in ir.PRIMITIVES}


def parse_program(
    text: str,
    file: str = "<string>",
    *,
    overrides: HeaderOverrides | None = None,
    read_file: Callable[[Path], str] | None = None,
    module: ast.Module | None = None,
    memo: StatementMemo | None = None,
) -> ir.Program:
    """The program in ``text`` (``file`` names it in diagnostics and anchors imports);
    ``module`` is the AST of ``text`` when the caller has it already (the language server
    parses statement by statement); ``memo`` holds the statements of the previous version of
    ``text`` and reuses those unaffected by the change (the result is the same as without it).

    Raises :class:`RaspError` with every problem found.
    """
    read = read_file or (lambda p: p.read_text(encoding="utf-8"))
    resolver = ProgramResolver(overrides, read, memo)
    with collector_paused():
        if memo is not None:
            memo.start()
        try:
            resolver.resolve_file(text, file, resolver.main_scope(), main=True, module=module)
            return resolver.program()
        finally:
            if memo is not None:
                memo.finish()


def parse_file(path: str | Path, *, overrides: HeaderOverrides | None = None) -> ir.Program:
    """The program in the file at ``path``; unreadable files are a :class:`RaspError`."""
    location = str(path)
    try:
        # a character is at most 4 bytes: a larger file cannot be within the limit
        if Path(path).stat().st_size > 4 * MAX_SOURCE_CHARS:
            raise RaspError.single(
                "limit",
                f"{location} is larger than the limit of {MAX_SOURCE_CHARS:,} characters",
                hint="split the program into imported files",
            )
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RaspError.single("file", f"cannot read {location}: {error}") from None
    return parse_program(text, location, overrides=overrides)
