"""The symbol index, analysis and built-in documentation, without a server."""

from __future__ import annotations

from pathlib import Path

from rasp_ir.lsp.analysis import analyse
from rasp_ir.lsp.builtins import BY_NAME
from rasp_ir.lsp.completion import complete
from rasp_ir.lsp.hover import hover
from rasp_ir.syntax import RESERVED

PROGRAM = """\
%vocab {0, 1, 2}
%max_len 4
def shift(x, k) {
    moved = aggregate(select(indices, indices + k, ==), x, default=0);
    return moved;
}
one = shift(tokens, 1);
big = map(fn(t, u) -> t if t > u else u, tokens, one);
output big;
"""


def _no_imports(path: Path) -> str:
    raise OSError(f"no file {path}")


def test_every_reserved_name_is_documented() -> None:
    assert sorted(set(RESERVED) - {"fn", "def"} - set(BY_NAME)) == []


def test_parameters_locals_and_fn_parameters_resolve_to_their_definitions() -> None:
    analysis = analyse(PROGRAM, "p.rasp", _no_imports)
    index = analysis.index
    assert index is not None
    uses = {(o.name, o.span.line, o.span.column): o.symbol for o in index.occurrences}
    k = uses[("k", 4, 49)]
    assert k is not None and (k.kind, k.owner, k.span.line, k.span.column) == (
        "parameter",
        "shift",
        3,
        14,
    )
    moved = uses[("moved", 5, 12)]
    assert moved is not None and moved.kind == "local"
    t = uses[("t", 8, 23)]
    assert t is not None and (t.kind, t.span.column) == ("fn-parameter", 14)
    shift = uses[("shift", 7, 7)]
    assert shift is not None and shift.kind == "def"
    assert uses[("tokens", 7, 13)] is None  # a primitive: documented, not defined


def test_a_hover_on_a_def_call_and_a_parameter() -> None:
    analysis = analyse(PROGRAM, "p.rasp", _no_imports)
    on_call = hover(analysis, 7, 8)
    assert on_call is not None and "def shift(x, k)" in on_call.markdown
    on_parameter = hover(analysis, 4, 49)
    assert on_parameter is not None and on_parameter.markdown == "**k**: parameter of def shift"


def test_a_library_is_resolved_but_not_checked_as_a_program() -> None:
    library = analyse('is_a = tokens == "a";\n', "lib.rasp", _no_imports)
    assert library.library and library.diagnostics == ()
    broken = analyse('is_a = tokns == "a";\n', "lib.rasp", _no_imports)
    assert [d.code for d in broken.diagnostics] == ["undefined"]


def test_an_unreadable_import_is_the_hubs_diagnostic_at_the_import() -> None:
    analysis = analyse('import "missing.rasp";\nx = tokens;\n', "lib.rasp", _no_imports)
    (diagnostic,) = analysis.diagnostics
    assert diagnostic.code == "import" and diagnostic.span is not None
    assert (diagnostic.span.file, diagnostic.span.line) == ("lib.rasp", 1)


def test_completion_after_a_percent_offers_only_directives() -> None:
    found = complete(None, "%ma", 1, 4, current=False)
    assert [c.label for c in found] == ["vocab", "max_len", "bos", "causal"]


def test_completion_inside_an_fn_literal_offers_its_parameters() -> None:
    analysis = analyse(PROGRAM, "p.rasp", _no_imports)
    line_text = PROGRAM.splitlines()[7]
    inside = complete(analysis.index, line_text, 8, 24, current=True)
    assert {"t", "u", "one", "shift"} <= {c.label for c in inside}
    after = complete(analysis.index, "", 10, 1, current=True)
    assert "t" not in {c.label for c in after} and "big" in {c.label for c in after}
