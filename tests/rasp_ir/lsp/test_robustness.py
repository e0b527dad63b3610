"""Half-typed text never stops ``rasp lsp``: every prefix of every example, sent as a change,
is answered (diagnostics, hover, completion, outline) and the server stays alive.

The fast test takes prefixes at a stride through each example; the slow one takes them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rasp_ir.lsp.client import LspClient

pytest.importorskip("pygls")

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.rasp"))
FAST_PREFIXES_PER_EXAMPLE = 15


@pytest.fixture(scope="module")
def client() -> Iterator[LspClient]:
    started = LspClient()
    started.initialize(ROOT / "examples")
    yield started
    started.close()


def _sweep(client: LspClient, example: Path, stride: int) -> None:
    text = example.read_text(encoding="utf-8")
    uri = client.open(example, "")
    client.diagnostics(uri)
    cuts = sorted({*range(0, len(text) + 1, stride), len(text)})
    published: list[dict[str, object]] = []
    for version, cut in enumerate(cuts, start=2):
        prefix = text[:cut]
        client.change(uri, prefix, version)
        published = client.diagnostics(uri)
        assert all(d["code"] != "internal" for d in published), (example.name, cut, published)
        lines = prefix.split("\n")
        end = {"line": len(lines) - 1, "character": len(lines[-1])}
        at = {"textDocument": {"uri": uri}, "position": end}
        client.request("textDocument/hover", at)
        client.request("textDocument/completion", at)
        client.request("textDocument/definition", at)
        client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert [d for d in published if d["severity"] == 1] == []  # the whole example checks
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    client.diagnostics(uri)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_prefixes_of_an_example_are_all_answered(client: LspClient, example: Path) -> None:
    size = len(example.read_text(encoding="utf-8"))
    _sweep(client, example, max(1, size // FAST_PREFIXES_PER_EXAMPLE))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_prefix_of_an_example_is_answered(client: LspClient, example: Path) -> None:
    _sweep(client, example, 1)
