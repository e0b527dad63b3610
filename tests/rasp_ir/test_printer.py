"""The canonical printer: ``parse(print(p)) == p`` for hand-written and random programs."""

import dataclasses
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasp_ir import ir
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program
from tests.strategies import mutated_program_text, programs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SOURCE = """%vocab chars "abc"
%max_len 8

opp = length - indices - 1;
flip = select(indices, opp, ==);
reverse = aggregate(flip, tokens);
x = aggregate(select(tokens, tokens, ==), indices == 0) + 1;
prev__shift__back = select(indices, indices, fn(key, query) -> query == key + 1);
prev = aggregate(prev__shift__back, tokens);
is_a : num = map(fn(t) -> 1 if t == "a" else 0, tokens);
frac : num = aggregate(select(indices, indices, <=), is_a);
big = map(fn(v) -> v > 0.6 and v < (5/3), frac);
t = lookup((tokens, indices), {("a", 1): 2, ("b", 0): -1}, default=indices);
w : cat[9] = selector_width(select(tokens, "a", ==) and not select(indices, indices, <));
total = aggregate(select(tokens, tokens, true), indices, default=-1, reduce=sum);

output reverse, x, prev, big, t, w, total;
"""


def roundtrip(program: ir.Program) -> ir.Program:
    return parse_program(format_program(program), "<printed>")


def test_canonical_text_is_a_fixed_point() -> None:
    program = parse_program(SOURCE, "t.rasp")
    assert format_program(program) == SOURCE
    assert roundtrip(program) == program


def test_macros_print_expanded_and_reparse_equal() -> None:
    source = (
        '%vocab {"a", "b"}\n%max_len 4\n'
        "def shift(s, k) { back = select(indices, indices, fn(key, query) -> query == key + k);"
        " return aggregate(back, s); }\n"
        'out = shift(tokens, 1) == "a";\noutput out;\n'
    )
    program = parse_program(source, "t.rasp")
    text = format_program(program)
    assert "def" not in text
    assert 'out = aggregate(out__shift__back, tokens) == "a";' in text
    assert roundtrip(program) == program


def test_nested_bindings_stay_in_the_programs_order() -> None:
    # the macro's map is bound between the aggregate's nodes and x: inlining them into x would
    # bind them after it on parsing back, so x's operands print by name, in the program's order
    text = (
        "%vocab {1, 2}\n%max_len 3\ndef d(s) { return s * 2; }\n"
        "x = aggregate(select(tokens, tokens, ==), tokens) + d(indices);\noutput x;\n"
    )
    program = parse_program(text, "t.rasp")
    printed = format_program(program)
    assert parse_program(printed, "t.rasp") == program
    assert [b.name for b in program.bindings] == ["x__select", "x__aggregate", "x__map", "x"]
    assert "x = x__aggregate + x__map;" in printed


def test_bindings_used_twice_print_as_their_own_statements() -> None:
    source = (
        '%vocab {"a", "b"}\n%max_len 4\n'
        "def same(s) { return aggregate(select(s, s, ==), s); }\n"
        "out = same(indices + 1);\noutput out;\n"
    )
    program = parse_program(source, "t.rasp")
    text = format_program(program)
    assert "out__map = indices + 1;" in text
    assert roundtrip(program) == program


def test_exact_fractions_and_negative_numbers_print_back() -> None:
    body = ir.Binary(
        "-", ir.Binary("*", ir.Param("v"), ir.Const(Fraction(1, 3))), ir.Const(Fraction(-7, 4))
    )
    program = ir.Program(
        ir.Header((1, 2), 3),
        (ir.Binding("y", ir.Map(ir.Lambda(("v",), body), ("tokens",)), "cat"),),
        ("y",),
    )
    text = format_program(program)
    assert "fn(v) -> v * (1/3) - -1.75" in text
    assert roundtrip(program) == program


def test_a_boolean_domain_prints_as_booleans_not_as_an_int_range() -> None:
    """Found by rasp fuzz: (False,) equals (0,), so it printed as ``cat[1]``, which reads
    back as the int 0 and the checker then refused ``false``."""
    program = ir.Program(
        ir.Header((1, 2), 3),
        (ir.Binding("f", ir.Full(False), "cat", (False, True)),),
        ("f",),
    )
    text = format_program(program)
    assert "f : cat{false, true} = false;" in text
    assert load_program(text=text).program.binding("f").domain == (False, True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_round_trip(program: ir.Program) -> None:
    assert roundtrip(program) == program


WIDE = (
    '%vocab chars "abc"\n%max_len 8\n\n'
    'score : num = map(fn(t, i) -> lookup(t, {"a": 0.125, "b": -0.25, "c": 0.5})'
    " + lookup(i, {0: 1, 1: 2, 2: 3}, default=0) - 0.75 * i, tokens, indices);\n"
    'band = map(fn(i) -> "low" if i < 2 else "mid" if i < 5 else "high", indices);\n'
    "near = aggregate(select_closest(indices, tokens,"
    ' fn(key, query) -> key == lookup(query, {"a": 1, "b": 2}, default=0)), indices);\n'
    "\noutput score, band, near;\n"
)

WIDE_AT_40 = """%vocab chars "abc"
%max_len 8

score : num = map(
    fn(t, i) ->
        lookup(
            t,
            {
                "a": 0.125, "b": -0.25,
                "c": 0.5
            }
        )
            + lookup(
                i,
                {0: 1, 1: 2, 2: 3},
                default=0
            )
            - 0.75 * i,
    tokens,
    indices
);
band = map(
    fn(i) ->
        "low" if i < 2
            else "mid" if i < 5
            else "high",
    indices
);
near = aggregate(
    select_closest(
        indices,
        tokens,
        fn(key, query) ->
            key == lookup(
                query,
                {"a": 1, "b": 2},
                default=0
            )
    ),
    indices
);

output score, band, near;
"""


def test_statements_too_wide_break_black_style_and_the_rest_stay_on_one_line() -> None:
    program = parse_program(WIDE, "t.rasp")
    assert format_program(program, width=40) == WIDE_AT_40
    assert roundtrip(program) == program
    text = format_program(program)
    assert "\nband = map(fn(i) -> " in text
    assert '        lookup(t, {"a": 0.125, "b": -0.25, "c": 0.5})\n            + lookup(' in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_bracketed_ternary_too_wide_breaks_inside_its_brackets() -> None:
    source = (
        '%vocab chars "abc"\n%max_len 8\n\nx = map(fn(a, b) -> ((0 if a <= 0 else 3) if b <= 0'
        " else 4 if a <= 2 else 5 if a <= 4 else 7) if b <= 3 else 6, indices, length);\n"
        "\noutput x;\n"
    )
    program = parse_program(source, "t.rasp")
    assert format_program(program, width=50).split("\n\n")[1] == (
        "x = map(\n"
        "    fn(a, b) ->\n"
        "        (\n"
        "            (0 if a <= 0 else 3) if b <= 0\n"
        "                else 4 if a <= 2\n"
        "                else 5 if a <= 4\n"
        "                else 7\n"
        "        )\n"
        "            if b <= 3\n"
        "            else 6,\n"
        "    indices,\n"
        "    length\n"
        ");"
    )
    assert roundtrip(program) == program


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(min_value=0, max_value=60))
def test_programs_printed_narrow_round_trip_with_only_unbreakable_lines_too_long(
    program: ir.Program, width: int
) -> None:
    text = format_program(program, width=width)
    assert parse_program(text, "<narrow>") == program
    # at width 0 every break is taken: its lines are the pieces no layout can split
    unbreakable = set(format_program(program, width=0).splitlines())
    assert [
        line for line in text.splitlines() if len(line) > width and line not in unbreakable
    ] == []


EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.rasp"))]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([SOURCE, *EXAMPLE_TEXTS]).flatmap(mutated_program_text))
def test_mutated_sources_never_raise_anything_but_rasp_error(text: str) -> None:
    try:
        load_program(text=text)
    except RaspError as error:
        assert error.diagnostics


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_rasp_error(data: bytes) -> None:
    try:
        parse_program(data.decode("utf-8", errors="replace"), "bytes.rasp")
    except RaspError as error:
        assert error.diagnostics


COMMENTED = """%vocab chars "ab"
%max_len 4

n = length - 1;
m = select(tokens, tokens, ==);
out = aggregate(m, indices);

output out;
"""


def _commented(program_comment: str | None, binding_comment: str | None) -> ir.Program:
    program = parse_program(COMMENTED, "t.rasp")
    bindings = tuple(
        dataclasses.replace(b, comment=binding_comment) if b.name in ("m", "out") else b
        for b in program.bindings
    )
    return dataclasses.replace(program, bindings=bindings, comment=program_comment)


def test_comments_print_before_the_header_and_their_bindings_as_groups() -> None:
    program = _commented("Lifted by hand.\n\nTwo lines.", "the match")
    assert format_program(program) == (
        "# Lifted by hand.\n#\n# Two lines.\n\n"
        '%vocab chars "ab"\n%max_len 4\n\n'
        "n = length - 1;\n\n# the match\nm = select(tokens, tokens, ==);\n\n"
        "# the match\nout = aggregate(m, indices);\n\noutput out;\n"
    )


def test_comments_take_no_part_in_equality_and_do_not_survive_parsing() -> None:
    program = _commented("about", "why")
    plain = parse_program(COMMENTED, "t.rasp")
    assert program == plain and hash(program) == hash(plain)
    assert program.binding("m") == plain.binding("m")
    assert roundtrip(program) == plain
    assert roundtrip(program).comment is None


def test_a_commented_derived_binding_prints_as_its_own_statement() -> None:
    program = parse_program(
        '%vocab chars "ab"\n%max_len 4\nout = aggregate(select(tokens, tokens, ==), indices);\n'
        "output out;\n",
        "t.rasp",
    )
    select = dataclasses.replace(program.bindings[0], comment="kept apart")
    program = dataclasses.replace(program, bindings=(select, *program.bindings[1:]))
    text = format_program(program)
    assert "# kept apart\nout__select = select(tokens, tokens, ==);\n" in text
    assert roundtrip(program) == program


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_no_comment_text_can_change_the_program(program_comment: str, binding_comment: str) -> None:
    program = _commented(program_comment, binding_comment)
    text = format_program(program)
    assert roundtrip(program) == program
    plain_lines = set(format_program(parse_program(COMMENTED, "t.rasp")).splitlines())
    extra = [line for line in text.splitlines() if line not in plain_lines]
    assert all(line == "#" or line.startswith("# ") for line in extra)
