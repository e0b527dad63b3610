"""Analysing a document's versions incrementally gives, after every edit, exactly what checking
the same text from scratch gives: the diagnostics ``rasp check`` reports (message, code, span
and the rendered line), the value sets, the layer allocation and the symbol index. Edits are
random: constants changed, characters typed and deleted (breaking and fixing the text),
bindings renamed where defined or everywhere, deleted while others read them, annotations
switched, lines inserted above everything, header changes, and returns to earlier versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp_ir.check import check_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.lsp.analysis import Analysis, DocumentMemo, analyse
from rasp_ir.syntax import parse_program
from rasp_ir.values import value_key

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.rasp"))
FILE = str(ROOT / "examples" / "edited.rasp")

RICH = """\
%vocab chars "abcd"
%max_len 5

def above(x, k) {
    hit = x > k;
    return hit;
}
def share(s, v) {
    picked = aggregate(s, v);
    return picked;
}
prev = select(indices, indices, <=);
same = select(tokens, tokens, ==);
both = prev and same;
alias = both;
is_a : num = map(fn(t) -> 1 if t == "a" else 0, tokens);
frac : num = aggregate(prev, is_a);
high = above(frac, 1/2);
width = selector_width(alias);
mixed = share(prev, tokens);  # a categorical mean over several keys
wide : cat[3] = width % 3;
flag = high and (wide == 1);
output flag, mixed, wide;
"""

_NUMBER = re.compile(r"\b\d+\b")
_BINDING = re.compile(r"^(\w+)(\s*(?::[^=]*)?)=", re.MULTILINE)
_TYPED = ["x", ";", "(", ")", " ", "\n", '"', "1", "=", "#", "{", "}", ",", "tokens"]


def _scratch(text: str, files: Files) -> list[str]:
    """What ``rasp check`` reports for ``text``, rendered as it prints each diagnostic."""
    try:
        program = parse_program(text, FILE, read_file=files)
    except RaspError as error:
        return [d.render() for d in error.diagnostics]
    return [d.render() for d in check_program(program).diagnostics]


LIBRARY = """\
def twice(s) {
    return s + s;
}
is_b : num = map(fn(t) -> 1 if t == "b" else 0, tokens);
"""
IMPORTING = """\
%vocab chars "abc"
%max_len 4
import "lib.rasp";
b_share : num = aggregate(select(indices, indices, <=), is_b);
doubled = twice(b_share);
output doubled;
"""


class Files:
    """The files imports read, by name, as an editor's buffers (none on disk)."""

    def __init__(self) -> None:
        self.texts = {"lib.rasp": LIBRARY}

    def __call__(self, path: Path) -> str:
        if path.name not in self.texts:
            raise FileNotFoundError(2, "No such file or directory")
        return self.texts[path.name]


def _change_number(text: str, choice: int, history: list[str]) -> str:
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return text
    found = numbers[choice % len(numbers)]
    return text[: found.start()] + str((int(found.group()) + 1) % 7) + text[found.end() :]


def _delete_character(text: str, choice: int, history: list[str]) -> str:
    at = choice % max(1, len(text))
    return text[:at] + text[at + 1 :]


def _type_something(text: str, choice: int, history: list[str]) -> str:
    at = choice % (len(text) + 1)
    return text[:at] + _TYPED[choice % len(_TYPED)] + text[at:]


def _rename(text: str, choice: int, history: list[str]) -> str:
    """Rename a binding everywhere (the program stays the same but for the name) or only
    where it is bound (its readers break)."""
    bindings = list(_BINDING.finditer(text))
    if not bindings:
        return text
    found = bindings[choice % len(bindings)]
    new = f"{found.group(1)}_{choice % 3}"
    if choice % 2:
        return re.sub(rf"\b{found.group(1)}\b", new, text)
    return text[: found.start(1)] + new + text[found.end(1) :]


def _delete_binding(text: str, choice: int, history: list[str]) -> str:
    bindings = list(_BINDING.finditer(text))
    if not bindings:
        return text
    line = text.count("\n", 0, bindings[choice % len(bindings)].start())
    lines = text.split("\n")
    return "\n".join(lines[:line] + lines[line + 1 :])


def _switch_annotation(text: str, choice: int, history: list[str]) -> str:
    bindings = list(_BINDING.finditer(text))
    if not bindings:
        return text
    found = bindings[choice % len(bindings)]
    annotation = [" : num ", " : cat ", " "][choice % 3]
    return text[: found.end(1)] + annotation + text[found.end(2) :]


def _insert_line_above(text: str, choice: int, history: list[str]) -> str:
    """A line before everything: every statement moves down."""
    inserted = ["# a note", "", "extra = indices + 1;", "%causal"][choice % 4]
    return inserted + "\n" + text


def _change_max_len(text: str, choice: int, history: list[str]) -> str:
    return re.sub(r"%max_len \d+", f"%max_len {2 + choice % 5}", text, count=1)


def _return_to_earlier(text: str, choice: int, history: list[str]) -> str:
    """Undo back to an earlier version (fixing what broke since)."""
    return history[choice % len(history)]


EDIT_KINDS = [
    _change_number,
    _delete_character,
    _type_something,
    _rename,
    _delete_binding,
    _switch_annotation,
    _insert_line_above,
    _change_max_len,
    _return_to_earlier,
]
"""Edits of the document; one more kind (the last number) edits the imported file."""


def _edit_library(files: Files, choice: int) -> None:
    """Change what the imported file defines: a constant, or a binding's name."""
    text = files.texts["lib.rasp"]
    if choice % 2:
        files.texts["lib.rasp"] = text.replace("is_b", "is_c") if "is_b" in text else LIBRARY
    else:
        files.texts["lib.rasp"] = text.replace("1 if", "2 if") if "1 if" in text else LIBRARY


def _assert_same(incremental: Analysis, text: str, files: Files) -> None:
    """The incremental analysis of ``text`` is what a fresh one, and ``rasp check``, give."""
    fresh = analyse(text, FILE, files)
    assert incremental.diagnostics == fresh.diagnostics
    if not fresh.library:
        assert [d.render() for d in incremental.diagnostics] == _scratch(text, files)
    assert (incremental.checked is None) == (fresh.checked is None)
    if incremental.checked is not None and fresh.checked is not None:
        mine, theirs = incremental.checked.value_sets.sets, fresh.checked.value_sets.sets
        assert {n: [value_key(v) for v in s] for n, s in mine.items()} == {
            n: [value_key(v) for v in s] for n, s in theirs.items()
        }
        assert incremental.checked.allocation == fresh.checked.allocation
    assert (incremental.index is None) == (fresh.index is None)
    if incremental.index is not None and fresh.index is not None:
        assert incremental.index.occurrences == fresh.index.occurrences
        assert incremental.index.symbols == fresh.index.symbols
        assert incremental.index.scope == fresh.index.scope


def _run_edits(text: str, edits: list[tuple[int, int]]) -> None:
    """Analyse ``text`` and each edit of it with one memo, comparing every version."""
    memo, files = DocumentMemo(), Files()
    history = [text]
    _assert_same(analyse(text, FILE, files, memo), text, files)
    for kind, choice in edits:
        if kind == len(EDIT_KINDS):
            _edit_library(files, choice)
        else:
            text = EDIT_KINDS[kind](text, choice, history)
            history.append(text)
        _assert_same(analyse(text, FILE, files, memo), text, files)


EDIT = st.tuples(st.integers(0, len(EDIT_KINDS)), st.integers(0, 10_000))
EDITS = st.lists(EDIT, min_size=1, max_size=12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_random_edits_of_a_program_with_macros_match_a_fresh_check(
    edits: list[tuple[int, int]],
) -> None:
    _run_edits(RICH, edits)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_random_edits_of_a_program_that_imports_match_a_fresh_check(
    edits: list[tuple[int, int]],
) -> None:
    _run_edits(IMPORTING, edits)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), EDITS)
def test_random_edits_of_the_examples_match_a_fresh_check(
    example: Path, edits: list[tuple[int, int]]
) -> None:
    _run_edits(example.read_text(encoding="utf-8"), edits)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([RICH, IMPORTING, *(p.read_text(encoding="utf-8") for p in EXAMPLES)]),
    st.lists(EDIT, max_size=40),
)
def test_long_random_edit_sessions_match_a_fresh_check(
    text: str, edits: list[tuple[int, int]]
) -> None:
    _run_edits(text, edits)


def test_an_edit_inside_one_statement_reuses_the_others() -> None:
    memo, files = DocumentMemo(), Files()
    analyse(RICH, FILE, files, memo)
    edited = RICH.replace("above(frac, 1/2)", "above(frac, 1/3)")
    analysis = analyse(edited, FILE, files, memo)
    assert analysis.module is not None and analysis.checked is not None
    assert memo.statements.reused == len(analysis.module.statements) - 1
    bindings = [b for b in analysis.checked.program.bindings if b.encoding is not None]
    # only the comparison inside high's macro call is computed again: high copies a set equal
    # to the last one, and flag reads high's set, unchanged
    assert memo.check.value_sets.reused == len(bindings) - 1
    _assert_same(analysis, edited, files)


def test_a_change_reaches_the_bindings_that_read_it() -> None:
    memo, files = DocumentMemo(), Files()
    before = analyse(RICH, FILE, files, memo).checked
    edited = RICH.replace("1 if t == ", "2 if t == ")
    after = analyse(edited, FILE, files, memo).checked
    assert before is not None and after is not None
    assert after.value_sets.sets["is_a"] == (0, 2)
    assert after.value_sets.sets["frac"] != before.value_sets.sets["frac"]
    _assert_same(analyse(edited, FILE, files, memo), edited, files)
