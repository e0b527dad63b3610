"""render_flat: the one-line text of a document, as the full renderer prints it flat, without
measuring anything; documents that must break (a comment, a group built broken) still do."""

from __future__ import annotations

import sys

import pytest

from rasp_ir.layout import (
    SOFTLINE,
    Comment,
    Doc,
    Fill,
    Group,
    Line,
    Nest,
    Text,
    _Renderer,
    concat,
    join,
    render_flat,
)

CALL = concat("f(", Nest(4, concat(SOFTLINE, join(Line(), [Text("a,"), Text("b")]))), SOFTLINE, ")")
DOCS: list[Doc] = [
    Text("x"),
    concat("x", " = ", Group(CALL), ";"),
    Group(concat("a", Nest(4, concat(Line(), "+ b", Line(), "- c")))),
    Fill((Text("1,"), Text("2,"), Group(concat("{", Fill((Text("3,"), Text("4"))), "}")))),
    concat("output ", Nest(4, Fill((Text("a,"), Text("b"))))),
    Group(concat("x", Nest(4, concat(Line(), "y"))), broken=True),
    concat("x = 1;", Comment("# note")),
    concat(Comment("# above", own_line=True), "x = 1;"),
]


@pytest.mark.parametrize("doc", DOCS)
def test_render_flat_prints_as_the_full_renderer_prints_flat(doc: Doc) -> None:
    assert render_flat(doc) == _Renderer(sys.maxsize).run(doc, flat=True)


def test_flat_text_of_calls_chains_and_fills() -> None:
    assert [render_flat(doc) for doc in DOCS[:5]] == [
        "x",
        "x = f(a, b);",
        "a + b - c",
        "1, 2, {3, 4}",
        "output a, b",
    ]
    assert render_flat(DOCS[5]) == "x\n    y"
