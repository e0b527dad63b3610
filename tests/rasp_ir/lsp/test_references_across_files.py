"""References and renames reach every file that uses a name through its imports: the open
documents (as the editor holds them, not as saved) and the workspace's files on disk, down
nested folders; files that do not import the defining file, and hidden folders, are left
alone; a rename that would clash in any of those files is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rasp_ir.lsp.client import LspClient

pytest.importorskip("pygls")

LIB = """\
def is_a(x) {
    hit = x == "a";
    return hit;
}
"""
MAIN = """\
%vocab chars "abc"
%max_len 4
import "lib.rasp";
marked = is_a(tokens);
output marked;
"""
USER_ON_DISK = """\
%vocab chars "abc"
%max_len 4
import "lib.rasp";
output tokens;
"""
USER_OPEN = """\
%vocab chars "abc"
%max_len 4
import "lib.rasp";
first = is_a(tokens);
second = is_a(indices);
output first, second;
"""
DISK = """\
%vocab chars "ab"
%max_len 3
import "lib.rasp";
has_b = tokens == "b";
seen = is_a(tokens) or has_b;
output seen;
"""
DEEP = """\
import "../lib.rasp";
deep = is_a(tokens);
"""
UNRELATED = """\
def is_a(x) {
    return x == "b";
}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    files = {
        "lib.rasp": LIB,
        "main.rasp": MAIN,
        "user.rasp": USER_ON_DISK,
        "disk.rasp": DISK,
        "nested/deep.rasp": DEEP,
        "unrelated.rasp": UNRELATED,
        ".hidden/copy.rasp": DEEP,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[LspClient]:
    started = LspClient()
    started.initialize(folder)
    for name, text in (("main.rasp", MAIN), ("user.rasp", USER_OPEN)):
        started.diagnostics(started.open(folder / name, text))
    yield started
    started.close()


def _places(found: list[dict[str, object]], folder: Path) -> list[tuple[str, int, int]]:
    """(file relative to the folder, 0-based line, character) of each location or edit."""
    places = []
    for item in found:
        uri, where = str(item["uri"]), item["range"]
        assert isinstance(where, dict)
        relative = Path(uri.removeprefix("file://")).relative_to(folder.resolve())
        places.append((str(relative), where["start"]["line"], where["start"]["character"]))
    return sorted(places)


USES = [
    ("disk.rasp", 4, 7),
    ("main.rasp", 3, 9),
    ("nested/deep.rasp", 1, 7),
    ("user.rasp", 3, 8),
    ("user.rasp", 4, 9),
]


def test_references_reach_open_documents_and_workspace_files(
    client: LspClient, folder: Path
) -> None:
    main = (folder / "main.rasp").resolve().as_uri()
    params = {**client.at(main, 3, 10), "context": {"includeDeclaration": True}}
    found = client.request("textDocument/references", params)
    assert _places(found, folder) == sorted([("lib.rasp", 0, 4), *USES])
    params["context"] = {"includeDeclaration": False}
    assert _places(client.request("textDocument/references", params), folder) == USES


def test_references_from_the_defining_file_reach_its_importers(
    client: LspClient, folder: Path
) -> None:
    lib = client.open(folder / "lib.rasp", LIB)
    params = {**client.at(lib, 0, 5), "context": {"includeDeclaration": False}}
    assert _places(client.request("textDocument/references", params), folder) == USES


def test_rename_edits_every_file_that_uses_the_name_and_refuses_a_clash(
    client: LspClient, folder: Path
) -> None:
    main = (folder / "main.rasp").resolve().as_uri()
    edit = client.request("textDocument/rename", {**client.at(main, 3, 10), "newName": "is_x"})
    changes = [
        {"uri": uri, "range": change["range"]}
        for uri, edits in edit["changes"].items()
        for change in edits
    ]
    assert _places(changes, folder) == sorted([("lib.rasp", 0, 4), *USES])
    assert {c["newText"] for edits in edit["changes"].values() for c in edits} == {"is_x"}
    refused = client.request_raw(
        "textDocument/rename", {**client.at(main, 3, 10), "newName": "has_b"}
    )
    assert "already defined" in refused["error"]["message"]
    assert "disk.rasp" in refused["error"]["message"]
