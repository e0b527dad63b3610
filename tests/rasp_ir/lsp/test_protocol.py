"""Positions between the hub (characters) and LSP clients (UTF-16 code units by default)."""

from __future__ import annotations

import pytest

pytest.importorskip("lsprotocol")

from rasp_ir.diagnostics import Span
from rasp_ir.lsp import protocol

LINE = 'x = "😀" == tokens;'  # the emoji is one character, two UTF-16 units, four UTF-8 bytes


@pytest.mark.parametrize(("encoding", "units"), [("utf-16", 12), ("utf-8", 14), ("utf-32", 11)])
def test_a_column_after_a_wide_character_counts_code_units(encoding: str, units: int) -> None:
    column = LINE.index("tokens")  # 11 characters in
    assert protocol.units(LINE[:column], encoding) == units
    assert protocol.column_from_units(LINE, units, encoding) == column


def test_a_span_becomes_a_range_in_utf16_and_back() -> None:
    start = LINE.index("tokens") + 1
    span = Span("f.rasp", 1, start, 1, start + len("tokens"), LINE)
    found = protocol.span_range(span, [LINE], "utf-16")
    assert (found.start.line, found.start.character, found.end.character) == (0, 12, 18)
    assert protocol.server_position([LINE], found.start, "utf-16") == (1, start)
