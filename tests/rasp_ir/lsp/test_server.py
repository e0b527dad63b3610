"""``rasp lsp`` driven as an editor drives it: a subprocess speaking JSON-RPC over stdio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rasp_ir.check import check_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.lsp.client import LspClient
from rasp_ir.syntax import parse_program
from rasp_ir.syntax.formatter import format_source

pytest.importorskip("pygls")

LIB = """\
# helpers shared by programs
def is_a(x) {
    hit = x == "a";
    return hit;
}
"""

MAIN = """\
%vocab chars "abc"
%max_len 4
import "lib.rasp";

opp = length - indices - 1;
flip = select(indices, opp, ==);
reverse = aggregate(flip, tokens);
marked = is_a(reverse);
output marked;
"""

BROKEN = MAIN.replace("select(indices, opp, ==)", "select(indices, opq, ==)")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp")
    (root / "lib.rasp").write_text(LIB, encoding="utf-8")
    (root / "main.rasp").write_text(MAIN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[LspClient]:
    started = LspClient()
    started.initialize(folder)
    yield started
    started.close()


@pytest.fixture(scope="module")
def main_uri(client: LspClient, folder: Path) -> str:
    uri = client.open(folder / "main.rasp", MAIN)
    assert client.diagnostics(uri) == []
    return uri


def _range(line: int, start: int, end: int) -> dict[str, dict[str, int]]:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


def test_an_error_is_published_at_its_range_with_the_cli_message_and_cleared_when_fixed(
    client: LspClient, folder: Path
) -> None:
    path = folder / "edited.rasp"
    uri = client.open(path, BROKEN)
    published = client.diagnostics(uri)
    with pytest.raises(RaspError) as raised:
        parse_program(BROKEN, str(path))
    (expected,) = raised.value.diagnostics
    assert expected.span is not None
    assert [d["code"] for d in published] == [expected.code] == ["undefined"]
    assert published[0]["message"] == f"{expected.message}\nhint: {expected.hint}"
    assert (expected.span.line, expected.span.column, expected.span.end_column) == (6, 24, 27)
    assert published[0]["range"] == _range(5, 23, 26)
    assert published[0]["severity"] == 1
    client.change(uri, MAIN, 2)
    assert client.diagnostics(uri) == []


def test_several_errors_of_one_check_are_all_published(client: LspClient, folder: Path) -> None:
    text = MAIN.replace("length - indices - 1", "lenght - indices - 1").replace(
        "output marked;", "output marked, nothing;"
    )
    uri = client.open(folder / "two.rasp", text)
    published = client.diagnostics(uri)
    assert [(d["code"], d["range"]["start"]) for d in published] == [
        ("undefined", {"line": 4, "character": 6}),
        ("undefined", {"line": 8, "character": 15}),
    ]


def test_a_warning_is_published_as_a_warning(client: LspClient, folder: Path) -> None:
    text = MAIN.replace("output marked;", 'unused_one = tokens == "b";\noutput marked;')
    path = folder / "warn.rasp"
    uri = client.open(path, text)
    (published,) = client.diagnostics(uri)
    (expected,) = check_program(parse_program(text, str(path))).diagnostics
    assert expected.span is not None
    assert (published["code"], published["severity"]) == (expected.code, 2) == ("unused", 2)
    start, end = expected.span.column - 1, expected.span.end_column - 1
    assert published["range"] == _range(expected.span.line - 1, start, end)


def test_hover_shows_kind_values_and_the_head_an_aggregate_lands_in(
    client: LspClient, main_uri: str
) -> None:
    result = client.request("textDocument/hover", client.at(main_uri, 6, 2))
    text = result["contents"]["value"]
    assert text.splitlines()[0] == "**reverse**: s-op (aggregate), cat"
    assert 'values: `{none, "a", "b", "c"}`' in text
    assert "layer 2, attention head 1 (aggregate over flip)" in text
    assert result["range"] == _range(6, 0, 7)


def test_hover_on_a_map_a_selector_and_a_primitive(client: LspClient, main_uri: str) -> None:
    def hover(line: int, character: int) -> str:
        value: str = client.request("textDocument/hover", client.at(main_uri, line, character))[
            "contents"
        ]["value"]
        return value

    assert "s-op (map), cat" in hover(4, 1)
    assert "layer 1, MLP" in hover(4, 1)
    assert "values: `{-3, -2, -1, 0, 1, 2, 3}`" in hover(4, 1)
    assert hover(5, 0).startswith("**flip**: selector (select)")
    assert "the pattern of attention head 1" in hover(5, 0)
    length = hover(4, 7)
    assert "primitive" in length and "layer 1, attention head 1" in length


def test_hover_on_a_builtin_shows_its_documentation(client: LspClient, main_uri: str) -> None:
    text = client.request("textDocument/hover", client.at(main_uri, 5, 9))["contents"]["value"]
    assert "select(keys, queries, predicate)" in text
    assert client.request("textDocument/hover", client.at(main_uri, 3, 0)) is None


def test_definition_goes_through_an_import(client: LspClient, main_uri: str, folder: Path) -> None:
    found = client.request("textDocument/definition", client.at(main_uri, 7, 10))
    assert found == {"uri": (folder / "lib.rasp").resolve().as_uri(), "range": _range(1, 4, 8)}
    local = client.request("textDocument/definition", client.at(main_uri, 6, 21))
    assert local == {"uri": main_uri, "range": _range(5, 0, 4)}
    to_file = client.request("textDocument/definition", client.at(main_uri, 2, 10))
    assert to_file["uri"] == (folder / "lib.rasp").resolve().as_uri()


def test_references_with_and_without_the_definition(client: LspClient, main_uri: str) -> None:
    params = {**client.at(main_uri, 5, 24), "context": {"includeDeclaration": True}}
    found = client.request("textDocument/references", params)
    assert [r["range"] for r in found] == [_range(4, 0, 3), _range(5, 23, 26)]
    params["context"] = {"includeDeclaration": False}
    assert [r["range"] for r in client.request("textDocument/references", params)] == [
        _range(5, 23, 26)
    ]


def test_rename_edits_every_occurrence_and_refuses_builtins_and_clashes(
    client: LspClient, main_uri: str
) -> None:
    params = {**client.at(main_uri, 5, 1), "newName": "mirror"}
    edit = client.request("textDocument/rename", params)
    assert edit == {
        "changes": {
            main_uri: [
                {"range": _range(5, 0, 4), "newText": "mirror"},
                {"range": _range(6, 20, 24), "newText": "mirror"},
            ]
        }
    }
    for bad, message in (("select", "built-in"), ("opp", "already defined"), ("2x", "not a name")):
        refused = client.request_raw("textDocument/rename", {**params, "newName": bad})
        assert message in refused["error"]["message"]


def test_rename_of_an_imported_def_edits_both_files(
    client: LspClient, main_uri: str, folder: Path
) -> None:
    edit = client.request("textDocument/rename", {**client.at(main_uri, 7, 10), "newName": "has_a"})
    lib_uri = (folder / "lib.rasp").resolve().as_uri()
    assert edit["changes"][main_uri] == [{"range": _range(7, 9, 13), "newText": "has_a"}]
    assert edit["changes"][lib_uri] == [{"range": _range(1, 4, 8), "newText": "has_a"}]


def test_completion_offers_names_in_scope_builtins_operators_and_directives(
    client: LspClient, main_uri: str
) -> None:
    items = client.request("textDocument/completion", client.at(main_uri, 7, 0))["items"]
    labels = [item["label"] for item in items]
    for expected in ("opp", "flip", "reverse", "is_a", "tokens", "select", "aggregate", "<=", "fn"):
        assert expected in labels
    assert "marked" not in labels  # bound on this very line, not before it
    directives = client.request("textDocument/completion", client.at(main_uri, 0, 1))["items"]
    assert [d["label"] for d in directives] == ["vocab", "max_len", "bos", "causal"]


def test_completion_inside_a_def_offers_its_parameters_and_locals(
    client: LspClient, folder: Path
) -> None:
    uri = client.open(folder / "lib.rasp", LIB)
    assert client.diagnostics(uri) == []
    items = client.request("textDocument/completion", client.at(uri, 3, 11))["items"]
    labels = {item["label"]: item for item in items}
    assert labels["x"]["detail"] == "parameter of def is_a"
    assert "hit" in labels


def test_completion_keeps_working_on_half_typed_text(client: LspClient, folder: Path) -> None:
    path = folder / "typing.rasp"
    uri = client.open(path, MAIN)
    client.diagnostics(uri)
    client.change(uri, MAIN.replace("output marked;", "x = aggregate(fl"), 2)
    assert client.diagnostics(uri)[0]["code"] == "syntax"
    items = client.request("textDocument/completion", client.at(uri, 8, 16))["items"]
    assert {"flip", "reverse", "aggregate"} <= {item["label"] for item in items}


def test_document_symbols_list_bindings_and_defs_with_their_insides(
    client: LspClient, main_uri: str, folder: Path
) -> None:
    found = client.request("textDocument/documentSymbol", {"textDocument": {"uri": main_uri}})
    assert [(s["name"], s["detail"]) for s in found] == [
        ("opp", "map, cat"),
        ("flip", "selector (select)"),
        ("reverse", "aggregate, cat"),
        ("marked", "map, cat"),
    ]
    lib_uri = (folder / "lib.rasp").resolve().as_uri()
    (def_,) = client.request("textDocument/documentSymbol", {"textDocument": {"uri": lib_uri}})
    assert (def_["name"], def_["detail"]) == ("is_a", "def is_a(x)")
    assert [c["name"] for c in def_["children"]] == ["x", "hit"]


def test_an_unsaved_change_to_an_imported_file_reaches_its_importer(
    client: LspClient, folder: Path
) -> None:
    lib = folder / "lib2.rasp"
    lib.write_text("three = indices == 3;\n", encoding="utf-8")
    importer = client.open(folder / "uses2.rasp", MAIN.replace("lib.rasp", "lib2.rasp"))
    assert [d["code"] for d in client.diagnostics(importer)] == ["undefined"]  # no is_a
    lib_uri = client.open(lib, "three = indices == 3;\n")
    client.diagnostics(lib_uri)
    client.diagnostics(importer)  # opening an imported file checks its importers again
    client.change(lib_uri, LIB, 2)
    assert client.diagnostics(lib_uri) == []
    assert client.diagnostics(importer) == []


def test_an_error_inside_an_imported_file_is_shown_at_the_import(
    client: LspClient, folder: Path
) -> None:
    (folder / "bad_lib.rasp").write_text("hit = tokns == 1;\n", encoding="utf-8")
    text = MAIN.replace("lib.rasp", "bad_lib.rasp")
    uri = client.open(folder / "uses_bad.rasp", text)
    published = client.diagnostics(uri)
    first = published[0]
    lib = (folder / "bad_lib.rasp").resolve()
    assert first["code"] == "undefined"
    assert first["message"].startswith(f"{lib}:1:7: 'tokns' is not defined")
    assert first["range"] == _range(2, 7, 21)  # the path string of the import
    (related,) = first["relatedInformation"]
    assert related["location"] == {"uri": lib.as_uri(), "range": _range(0, 6, 11)}


def test_formatting_replaces_the_document_with_the_formatter_text(
    client: LspClient, folder: Path
) -> None:
    messy = MAIN.replace("opp = length - indices - 1;", "opp=length-indices -1 ;  # mirrored")
    uri = client.open(folder / "messy.rasp", messy)
    client.diagnostics(uri)
    params = {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}}
    (edit,) = client.request("textDocument/formatting", params)
    assert edit["newText"] == format_source(messy)
    assert "opp = length - indices - 1;  # mirrored" in edit["newText"]
    lines = messy.split("\n")
    assert edit["range"] == {
        "start": {"line": 0, "character": 0},
        "end": {"line": len(lines) - 1, "character": len(lines[-1])},
    }
    client.change(uri, edit["newText"], 2)
    client.diagnostics(uri)
    assert client.request("textDocument/formatting", params) == []
    client.change(uri, messy.replace("output marked;", "output marked"), 3)
    client.diagnostics(uri)
    assert client.request("textDocument/formatting", params) is None
