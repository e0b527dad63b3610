"""The parsers' stored tables: they match the grammar, load without analysing it, and parse
every program as the grammar's own parser does (the IR parser: the same trees, positions and
syntax errors); stale tables are ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lark
import pytest
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.grammar import Rule
from lark.lexer import TerminalDef

from rasp_ir.diagnostics import RaspError
from rasp_ir.grammar import grammar_text
from rasp_ir.syntax import concrete_tables_data as stored
from rasp_ir.syntax import ir_tables_data, parser_tables, tree
from rasp_ir.syntax.parser_tables import (
    CONCRETE_OPTIONS,
    build_concrete_parser,
    build_ir_parser,
    canonical_parse_table,
    grammar_digest,
    load_tables,
    stored_concrete_parser,
    stored_ir_parser,
)

ROOT = Path(__file__).parents[3]
PROGRAMS = sorted(ROOT.glob("examples/**/*.rasp")) + sorted(ROOT.glob("tests/**/*.rasp"))


def test_the_stored_tables_match_the_grammar_and_lark() -> None:
    current = (grammar_digest(grammar_text()), lark.__version__)
    assert current == (stored.GRAMMAR_SHA256, stored.LARK_VERSION), (
        "run: python -m rasp_ir.syntax.parser_tables"
    )
    assert stored_concrete_parser() is not None


def _tokens(parser: Lark, text: str) -> list[tuple[str, str, int | None]]:
    tree = parser.parse(text)
    return [(t.type, str(t), t.start_pos) for t in tree.scan_values(lambda v: isinstance(v, Token))]


def test_the_stored_tables_parse_every_program_as_the_grammar_does() -> None:
    loaded = stored_concrete_parser()
    assert loaded is not None
    built = build_concrete_parser()
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            expected = built.parse(text)
        except UnexpectedInput:
            with pytest.raises(UnexpectedInput):
                loaded.parse(text)
            continue
        assert loaded.parse(text) == expected, path
        assert _tokens(loaded, text) == _tokens(built, text), path


def test_tables_of_another_grammar_or_lark_are_ignored() -> None:
    digest = grammar_digest(grammar_text())
    edited = grammar_text() + "\n// edited\n"
    assert load_tables(stored.TABLES, digest, lark.__version__, edited) is None
    assert load_tables(stored.TABLES, digest, "0.0.1", grammar_text()) is None
    assert load_tables(stored.TABLES, digest, lark.__version__, grammar_text()) is not None


def test_the_concrete_parser_builds_in_strict_mode_too() -> None:
    """It is built without ``strict`` (faster); strict, any grammar conflict would fail."""
    Lark(grammar_text(), strict=True, **CONCRETE_OPTIONS)


BROKEN = [
    "x = map(fn(t) -> t, tokens)\ny = x;\noutput y;\n",
    "%vocab {1, 2\n",
    "x = select(tokens, tokens, ==;\n",
    "x = 'a';\n",
    "x = 1 < 2 < 3;\noutput x;\n",
    "output",
]


@pytest.fixture(scope="module")
def ir_parsers() -> tuple[Lark, Lark]:
    loaded = stored_ir_parser()
    assert loaded is not None, "stale tables: run python -m rasp_ir.syntax.parser_tables"
    return loaded, build_ir_parser()


def test_the_stored_ir_tables_match_the_grammar_and_lark() -> None:
    current = (grammar_digest(grammar_text()), lark.__version__)
    assert current == (ir_tables_data.GRAMMAR_SHA256, ir_tables_data.LARK_VERSION), (
        "run: python -m rasp_ir.syntax.parser_tables"
    )
    assert tree.grammar_parser().source_path == "<deserialized>"


def _layout(node: Tree[Token] | Token) -> object:
    """A node with every position in it (trees compare without their positions)."""
    if isinstance(node, Token):
        return (node.type, str(node), node.line, node.column, node.end_line, node.end_column)
    meta = node.meta
    where = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
    return (node.data, where, [_layout(child) for child in node.children])


def test_the_stored_ir_parser_gives_the_same_trees_and_positions(
    ir_parsers: tuple[Lark, Lark],
) -> None:
    loaded, built = ir_parsers
    for path in PROGRAMS:
        text = path.read_text(encoding="utf-8")
        try:
            expected = _layout(built.parse(text))
        except UnexpectedInput as error:
            with pytest.raises(type(error)):
                loaded.parse(text)
            continue
        assert _layout(loaded.parse(text)) == expected, path


@pytest.mark.parametrize("text", BROKEN)
def test_the_stored_ir_parser_gives_the_same_syntax_errors(
    text: str, ir_parsers: tuple[Lark, Lark], monkeypatch: pytest.MonkeyPatch
) -> None:
    diagnostics = []
    for parser in ir_parsers:
        monkeypatch.setattr(tree, "grammar_parser", lambda parser=parser: parser)
        with pytest.raises(RaspError) as caught:
            tree.parse_tree(text, "x.rasp")
        diagnostics.append([d.render() for d in caught.value.diagnostics])
    assert diagnostics[0] == diagnostics[1]


def _generate(into: Path, hash_seed: str) -> None:
    """``python -m rasp_ir.syntax.parser_tables --into INTO`` in a new process whose string
    hashes are seeded with ``hash_seed`` (Lark's analysis iterates over sets)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    argv = [sys.executable, "-m", "rasp_ir.syntax.parser_tables", "--into", str(into)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_two_generations_write_the_same_bytes_as_the_stored_modules(tmp_path: Path) -> None:
    """Canonical tables: two processes with different hash seeds write byte-identical
    modules, and those are the stored ones (so a diff of them is a real change)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _generate(first, "1")
    _generate(second, "2")
    for module in (stored, ir_tables_data):
        name = Path(str(module.__file__)).name
        written = (first / name).read_bytes()
        assert written == (second / name).read_bytes(), name
        assert written == Path(str(module.__file__)).read_bytes(), (
            f"{name} is not canonical: run python -m rasp_ir.syntax.parser_tables"
        )


def _actions(table: dict[str, Any], state: int) -> dict[str, tuple[int, Any]]:
    """A state's actions by token name."""
    return {table["tokens"][token]: action for token, action in table["states"][state].items()}


@pytest.mark.parametrize("build", [build_ir_parser, build_concrete_parser])
def test_the_canonical_table_is_the_same_automaton_renumbered(build: Any) -> None:
    """Walked together from the start states, Lark's table and the canonical one pair every
    state with exactly one state, with the same actions on the same token names."""
    data, _ = build().memo_serialize([TerminalDef, Rule])
    lark_table = data["parser"]["parser"]
    canonical = canonical_parse_table(lark_table)
    assert list(canonical["tokens"].values()) == sorted(lark_table["tokens"].values())
    assert list(canonical["states"]) == list(range(len(lark_table["states"])))
    assert canonical["start_states"] == {"start": 0}
    paired: dict[int, int] = {}
    todo = [(lark_table["start_states"]["start"], 0)]
    todo.append((lark_table["end_states"]["start"], canonical["end_states"]["start"]))
    while todo:
        old, new = todo.pop()
        if old in paired:
            assert paired[old] == new
            continue
        paired[old] = new
        before, after = _actions(lark_table, old), _actions(canonical, new)
        assert before.keys() == after.keys()
        for name, (kind, arg) in before.items():
            assert after[name][0] == kind
            if kind == 0:
                todo.append((arg, after[name][1]))
            else:
                assert after[name][1] == arg  # the same rule
    assert sorted(paired.values()) == list(range(len(lark_table["states"])))


def test_check_says_whether_the_stored_modules_are_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ir_tables_data.py").write_text("# edited\n", encoding="utf-8")
    assert parser_tables.main(["--check", "--into", str(tmp_path)]) == 1
    shown = capsys.readouterr().err
    assert str(tmp_path / "ir_tables_data.py") in shown
    assert str(tmp_path / "concrete_tables_data.py") in shown  # missing there
    assert [p.name for p in tmp_path.iterdir()] == ["ir_tables_data.py"]  # nothing written
    assert (tmp_path / "ir_tables_data.py").read_text(encoding="utf-8") == "# edited\n"
