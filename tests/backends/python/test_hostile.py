"""Hostile vocabularies, binding names and file names give valid, correct modules that run no
code of their own."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

from rasp_ir import ir
from rasp_ir.backends.python import BACKEND, load_module
from rasp_ir.backends.python.emit import Names
from rasp_ir.diagnostics import Span
from rasp_ir.values import Value
from rasp_ir.verify import verify

CANARY = "rasp_canary_file"
PAYLOAD = f"__import__('pathlib').Path('{CANARY}').touch()"
HOSTILE_TOKENS: tuple[str, ...] = (
    "import os",
    "__import__",
    "\n#",
    '"""',
    "'''",
    "\\",
    "{{ x }}",
    "é",
    "\u2028",
    "\x00",
    PAYLOAD,
    f'"; {PAYLOAD}; "',
    f"\n{PAYLOAD}\n",
)
HOSTILE_NAMES: tuple[str, ...] = (
    "import os",
    "__import__",
    "__builtins__",
    "list",
    "run",
    "_num",
    "Fraction",
    "key",
    "def",
    "a b",
    "a_b",
    "é",
    "è",
    "1x",
    "\n#",
    PAYLOAD,
)


def _span(line_text: str) -> Span:
    return Span(f"dir/{PAYLOAD}\n#.rasp", 3, 1, 3, 2, line_text)


def hostile_program(vocab: tuple[Value, ...], causal: bool = False) -> ir.Program:
    """A program whose bindings carry every hostile name, reading hostile literals."""
    names = iter(HOSTILE_NAMES)
    bindings: list[ir.Binding] = []

    def bind(node: ir.Node, encoding: ir.Encoding | None = "cat") -> str:
        name = next(names)
        bindings.append(ir.Binding(name, node, encoding, span=_span(f"{name} = {PAYLOAD}")))
        return name

    first = vocab[0]
    is_first = bind(
        ir.Map(ir.Lambda(("x",), ir.Binary("==", ir.Param("x"), ir.Const(first))), ("tokens",))
    )
    table = ir.Lookup((ir.Param("import"),), tuple(((t,), t) for t in vocab), ir.Const(PAYLOAD))
    echo = bind(ir.Map(ir.Lambda(("import",), table), ("tokens",)))
    same = bind(ir.Select(echo, "tokens", ir.Comparison("==")), None)
    width = bind(ir.SelectorWidth(same))
    prev = bind(
        ir.Select(
            "indices",
            "indices",
            ir.Lambda(("def", "q"), ir.Binary("<", ir.Param("def"), ir.Param("q"))),
        ),
        None,
    )
    last = bind(
        ir.Aggregate(prev, echo, "max" if all(isinstance(t, str) for t in vocab) else "mean")
    )
    near = bind(ir.SelectClosest("tokens", echo, ir.Comparison("==")), None)
    copy = bind(ir.Aggregate(near, "tokens"))
    member = bind(
        ir.Map(ir.Lambda(("x",), ir.Member(ir.Param("x"), (PAYLOAD, vocab[-1]))), (copy,))
    )
    const = bind(ir.Full(PAYLOAD))
    outputs = (is_first, echo, width, last, copy, member, const, "tokens")
    header = ir.Header(vocab, 3, causal=causal)
    return ir.Program(header, tuple(bindings), outputs)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "vocab",
    [HOSTILE_TOKENS[:4], HOSTILE_TOKENS[4:9], HOSTILE_TOKENS[9:]],
    ids=["quotes", "escapes", "payloads"],
)
def test_hostile_programs_compile_and_match_the_interpreter(
    vocab: tuple[str, ...], causal: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    program = hostile_program(vocab, causal)
    source = BACKEND.lower(program)
    ast.parse(source)
    module = load_module(source, "hostile")
    report = verify(program, BACKEND, exhaustive_max_len=3)
    assert report.mismatches == []
    assert report.checked == sum(len(vocab) ** n for n in range(4))
    assert module.run([vocab[0]])["tokens"] == [vocab[0]]
    assert not (tmp_path / CANARY).exists()


def test_every_module_level_name_is_a_plain_unreserved_identifier() -> None:
    source = BACKEND.lower(hostile_program(HOSTILE_TOKENS[:3]))
    tree = ast.parse(source)
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    defined += [
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    ]
    assert len(defined) == len(set(defined))
    assert all(name.isascii() and name.isidentifier() for name in defined)
    assert not any(name.startswith("__") for name in defined)
    expected = ("import_os", "n__import__", "n__builtins__", "list_", "run_", "_num_", "key_")
    assert set(expected) | {"Fraction_", "def_", "a_b"} <= set(defined)


def test_names_are_mangled_apart() -> None:
    names = Names()
    fresh = [names.fresh(name) for name in HOSTILE_NAMES[9:]]
    assert fresh[:5] == ["a_b", "a_b_", "__", "___", "n1x"]
    assert all(name.isascii() and name.isidentifier() for name in fresh)
    assert len(set(fresh)) == len(fresh)


def test_hostile_text_only_appears_in_strings_and_comments() -> None:
    source = BACKEND.lower(hostile_program(HOSTILE_TOKENS[9:]))
    code = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in (tokenize.STRING, tokenize.COMMENT)
    ]
    assert "pathlib" not in " ".join(code)
    assert source.count("pathlib") > 10
