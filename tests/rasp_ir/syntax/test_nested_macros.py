"""``def`` macros applied to what other macro calls build: same results as the expansion
written by hand, derived names pinned, and ``parse(print(p)) == p``."""

import itertools

import pytest

from rasp_ir import ir
from rasp_ir.interpreter import run
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program

HEADER = "%vocab {1, 2, 3}\n%max_len 3\n"
H = "def h(s) { t = s + 1; return t * 2; }\n"
INPUTS = [list(p) for n in (1, 2, 3) for p in itertools.product((1, 2, 3), repeat=n)]


def parse(body: str) -> ir.Program:
    return parse_program(HEADER + body, "t.rasp")


# (with macros, written out by hand): each binds and outputs x
CASES = {
    "nested twice": (
        H + "x = h(h(tokens));\n",
        "a = tokens + 1;\nb = a * 2 + 1;\nx = b * 2;\n",
    ),
    "nested three times": (
        H + "x = h(h(h(tokens)));\n",
        "a = tokens + 1;\nb = a * 2 + 1;\nc = b * 2 + 1;\nx = c * 2;\n",
    ),
    "computed argument": (
        H + "x = h(tokens * 3);\n",
        "a = tokens * 3 + 1;\nx = a * 2;\n",
    ),
    "two different macros": (
        H + "def g(s) { u = s - indices;\n"
        "  return aggregate(select(u, indices, <=), u, reduce=max); }\n"
        "x = h(g(tokens)) + g(h(tokens));\n",
        "u1 = tokens - indices;\nb = aggregate(select(u1, indices, <=), u1, reduce=max) + 1;\n"
        "a = tokens + 1;\nu2 = a * 2 - indices;\n"
        "x = b * 2 + aggregate(select(u2, indices, <=), u2, reduce=max);\n",
    ),
    "macro in a macro body": (
        H + "def g(s) { u = h(s) + s; return u - 1; }\nx = g(h(tokens + 0));\n",
        "a = tokens + 0 + 1;\ns = a * 2;\nb = s + 1;\nu = b * 2 + s;\nx = u - 1;\n",
    ),
    "argument read by a body binding and the result": (
        H + "def g(s) { return h(s) + s; }\nx = g(tokens * 3);\n",
        "s = tokens * 3;\na = s + 1;\nx = a * 2 + s;\n",
    ),
    "argument read twice in the body": (
        H + "def g(s) { a = s + 1; b = s * s; return a + b; }\nx = g(h(tokens));\n",
        "t = tokens + 1;\ns = t * 2;\na = s + 1;\nb = s * s;\nx = a + b;\n",
    ),
    "argument copied": (
        "def same(s) { t = s; return t + 0; }\nx = same(same(tokens + 1));\n",
        "x = tokens + 1;\n",
    ),
    "result used twice": (
        H + "y = h(h(tokens));\nx = h(y) + y;\n",
        "a = tokens + 1;\nb = a * 2 + 1;\ny = b * 2;\nc = y + 1;\nx = c * 2 + y;\n",
    ),
    "selector argument": (
        "def width(sel) { w = selector_width(sel); return w + 1; }\n"
        "x = width(select(tokens, tokens, ==) and select(indices, indices, <=));\n",
        "x = selector_width(select(tokens, tokens, ==) and select(indices, indices, <=)) + 1;\n",
    ),
}


@pytest.mark.parametrize(("macros", "by_hand"), CASES.values(), ids=CASES.keys())
def test_nested_macro_calls_compute_what_the_hand_expansion_computes(
    macros: str, by_hand: str
) -> None:
    expanded = parse(macros + "output x;\n")
    written = parse(by_hand + "output x;\n")
    for tokens in INPUTS:
        assert run(expanded, tokens) == run(written, tokens), tokens


@pytest.mark.parametrize("macros", [m for m, _ in CASES.values()], ids=CASES.keys())
def test_nested_macro_calls_print_and_parse_back(macros: str) -> None:
    program = parse(macros + "output x;\n")
    assert parse_program(format_program(program), "<printed>") == program


def test_macro_of_a_macro_result() -> None:
    program = parse(H + "x = h(h(tokens));\noutput x;\n")
    assert run(program, [1, 2]) == {"x": [10, 14]}
    # the inner result becomes the outer call's parameter, named like a macro-local binding
    assert [b.name for b in program.bindings] == ["x__h__t", "x__h2__s", "x__h2__t", "x"]
    assert program.binding("x__h2__t").node.inputs == ("x__h2__s",)  # type: ignore[union-attr]


def test_argument_keeps_its_outermost_parameter_name() -> None:
    program = parse(H + "def g(s) { return h(s) + s; }\nx = g(tokens * 3);\noutput x;\n")
    assert [b.name for b in program.bindings] == ["x__g__s", "x__h__t", "x__map", "x"]
    assert program.binding("x").node.inputs == ("x__map", "x__g__s")  # type: ignore[union-attr]


def test_argument_only_the_result_reads_stays_a_nested_expression() -> None:
    program = parse(
        "def shift(s) { back = select(indices, indices, fn(k, q) -> k == q - 1);\n"
        "  return aggregate(back, s); }\n"
        "x = shift(tokens == 1);\noutput x;\n"
    )
    assert [b.name for b in program.bindings] == ["x__shift__back", "x__map", "x"]
