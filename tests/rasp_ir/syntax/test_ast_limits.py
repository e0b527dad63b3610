"""The limits checked on the AST and while resolving (rasp_ir/limits.py), each refused with
the limit in the message. Deep nesting: past MAX_NESTING (or MAX_MACRO_DEPTH) a diagnostic at
the first node past the limit, never a RecursionError; at the limit every stage works (check,
run, fmt, graph, both compilers, verify, print and parse again)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rasp_ir.check import load_program
from rasp_ir.cli.main import main
from rasp_ir.diagnostics import RaspError
from rasp_ir.limits import MAX_MACRO_DEPTH, MAX_NESTING
from rasp_ir.printer import format_program
from rasp_ir.syntax import HeaderOverrides, ast_limits, parse_file, parse_program, resolve, resolved

HEADER = "%vocab {1, 2}\n%max_len 4\n"


def _macros(n: int) -> str:
    chain = "".join(f"def f{i}(a) {{ b = f{i - 1}(a); return b; }}\n" for i in range(1, n))
    return f"def f0(a) {{ return a + 1; }}\n{chain}x = f{n - 1}(tokens);\n"


# Each kind of nesting, as a binding of x whose expression nests n levels (about).
DEEP: dict[str, Callable[[int], str]] = {
    "unary minus in a function": lambda n: f"x = map(fn(t) -> {'-' * n}t, tokens);\n",
    "unary minus on s-ops": lambda n: f"x = {'-' * n}tokens;\n",
    "left-nested sum": lambda n: f"x = map(fn(t) -> t{' + 1' * n}, tokens);\n",
    "if/else chain": lambda n: f"x = map(fn(t) -> {'1 if t == 1 else ' * n}0, tokens);\n",
    "macro calls in one expression": lambda n: (
        f"def g(a) {{ return a + 1; }}\nx = {'g(' * n}tokens{')' * n};\n"
    ),
    "aggregates": lambda n: (
        f"x = {'aggregate(select(indices, indices, ==), ' * n}tokens{')' * n};\n"
    ),
    "selector not": lambda n: (
        f"s = {'not ' * n}select(tokens, tokens, ==);\nx = selector_width(s);\n"
    ),
    "lookups": lambda n: (
        f"x = map(fn(t) -> {'lookup(' * n}t{', {1: 2}, default=1)' * n}, tokens);\n"
    ),
    "chained defs": _macros,
}


def _program(kind: str, n: int) -> str:
    return HEADER + DEEP[kind](n) + "output x;\n"


def _deepest_accepted(kind: str) -> int:
    """The largest n (near the limit) that the front end accepts for ``kind``."""
    for n in range(MAX_NESTING, MAX_NESTING - 10, -1):
        try:
            parse_program(_program(kind, n))
        except RaspError:
            continue
        return n
    raise AssertionError(f"{kind}: nothing accepted within 10 of the limit")


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_a_thousand_levels_are_refused_with_a_located_diagnostic(kind: str) -> None:
    text = _program(kind, 1000)
    with pytest.raises(RaspError) as refused:
        parse_program(text, "deep.rasp")
    [diagnostic] = refused.value.diagnostics
    assert diagnostic.code == "nesting"
    assert diagnostic.span is not None and diagnostic.span.file == "deep.rasp"
    limit = MAX_MACRO_DEPTH if kind == "chained defs" else MAX_NESTING
    assert f"more than {limit} deep" in diagnostic.message


def test_the_diagnostic_points_at_the_first_node_past_the_limit() -> None:
    text = HEADER + "\nx = map(fn(t) -> " + "-" * 500 + "t, tokens);\noutput x;\n"
    with pytest.raises(RaspError) as refused:
        parse_program(text, "deep.rasp")
    span = refused.value.diagnostics[0].span
    assert span is not None
    # map( is level 1, fn level 2, the k-th minus level 2 + k: the first past the limit is the
    # (MAX_NESTING - 1)-th, at 1-based column len(prefix) + MAX_NESTING - 1
    assert (span.line, span.column) == (4, len("x = map(fn(t) -> ") + MAX_NESTING - 1)


def test_a_chain_of_defs_is_refused_at_the_call_past_the_limit() -> None:
    text = HEADER + _macros(MAX_MACRO_DEPTH + 5) + "output x;\n"
    with pytest.raises(RaspError) as refused:
        parse_program(text, "deep.rasp")
    [diagnostic] = refused.value.diagnostics
    span = diagnostic.span
    assert span is not None
    # x calls f{n-1} (one def deep), which calls f{n-2} (two deep), ...: the call that would go
    # one deeper than MAX_MACRO_DEPTH is f4's, written in def f5 (f0 is on line 3)
    assert (span.line, span.line_text) == (8, "def f5(a) { b = f4(a); return b; }")
    assert diagnostic.message.endswith(f"(f{MAX_MACRO_DEPTH + 4} -> ... -> f5 -> f4)")


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_every_stage_handles_the_deepest_accepted_program(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = _deepest_accepted(kind)
    assert n > MAX_NESTING - 5
    path = tmp_path / "deep.rasp"
    path.write_text(_program(kind, n), encoding="utf-8")
    program = load_program(path).program
    assert parse_program(format_program(program)) == program
    commands = [
        ("run", path, "1", "2", "1"),
        ("fmt", path),
        ("graph", path, "-o", tmp_path / "g.dot"),
        ("compile", path, "--backend", "python", "-o", tmp_path / "p.py"),
        # 98 attention layers take the torch compiler seconds; the depth is in layers, not in
        # any expression
        ("verify", path, "-b", "python" if kind == "aggregates" else "torch", "--samples", "20"),
    ]
    for command in commands:
        code = main([str(part) for part in command])
        assert code == 0, (command, capsys.readouterr().err)


def _refusal(text: str, file: str = "big.rasp") -> str:
    with pytest.raises(RaspError) as refused:
        parse_program(text, file)
    return refused.value.diagnostics[0].render()


def test_too_many_statements_are_refused_before_resolving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ast_limits, "MAX_STATEMENTS", 3)
    text = HEADER + "".join(f"x{i} = tokens;\n" for i in range(3)) + "output x0;\n"
    assert "big.rasp has 4 statements, more than the limit of 3" in _refusal(text)


def test_too_many_bindings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "MAX_BINDINGS", 3)
    text = HEADER + "x = aggregate(select(indices, indices, ==), tokens);\n"
    text += "y = selector_width(select(tokens, tokens, ==));\noutput x, y;\n"
    expected = "the program has 4 bindings (nested expressions included), more than the limit of 3"
    assert expected in _refusal(text)


@pytest.mark.parametrize("literal", ["lookup(t, {1: 2, 2: 1, 3: 3})", "t in {1, 2, 3}"])
def test_a_literal_with_too_many_items_is_refused_at_the_literal(
    monkeypatch: pytest.MonkeyPatch, literal: str
) -> None:
    monkeypatch.setattr(ast_limits, "MAX_LITERAL_ITEMS", 2)
    line = f"x = map(fn(t) -> {literal}, tokens);"
    rendered = _refusal(HEADER + line + "\noutput x;\n")
    column = line.index("{") + 1
    assert rendered.startswith(
        f"big.rasp:3:{column}: error: this literal has 3 items, more than the limit of 2"
    )


def test_a_vocabulary_too_large_is_refused_from_the_file_and_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resolved, "MAX_VOCAB", 2)
    message = "the vocabulary has 3 tokens, more than the limit of 2"
    assert message in _refusal('%vocab {"a", "b", "c"}\n%max_len 4\nx = tokens;\noutput x;\n')
    with pytest.raises(RaspError) as refused:
        parse_program(
            HEADER + "x = tokens;\noutput x;\n", overrides=HeaderOverrides(vocab=("a", "b", "c"))
        )
    assert message in refused.value.diagnostics[0].message


def test_a_text_too_long_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(resolve, "MAX_SOURCE_CHARS", 10)
    text = HEADER + "x = tokens;\noutput x;\n"
    assert f"big.rasp has {len(text)} characters, more than the limit of 10" in _refusal(text)
    path = tmp_path / "big.rasp"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RaspError) as refused:
        parse_file(path)
    assert f"{path} is larger than the limit of 10 characters" in refused.value.render()


def test_a_repeated_token_in_a_large_vocabulary_is_found_in_linear_time() -> None:
    tokens = (*(f"t{i}" for i in range(100_000)), "t7")
    assert resolved.vocabulary_problem(tokens) == 'the vocabulary lists "t7" more than once'
