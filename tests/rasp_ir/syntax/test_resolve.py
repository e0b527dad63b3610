"""Parsing source text into IR: sugar, macros, imports, annotations, derived names."""

from fractions import Fraction
from pathlib import Path

import pytest

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax import HeaderOverrides, parse_file, parse_program

HEADER = '%vocab {"a", "b", "c"}\n%max_len 8\n'


def parse(body: str) -> ir.Program:
    return parse_program(HEADER + body, "t.rasp")


def test_header_directives() -> None:
    program = parse_program(
        '%vocab chars "xyz"\n%max_len 4\n%bos "<s>"\n%causal\nout = tokens;\noutput out;', "t"
    )
    assert program.header == ir.Header(("x", "y", "z"), 4, "<s>", True)
    assert program.header.positions == 5


def test_overrides_win_over_header() -> None:
    program = parse_program(
        HEADER + "out = tokens;\noutput out;",
        "t",
        overrides=HeaderOverrides(vocab=(1, 2), max_len=3),
    )
    assert program.header.vocab == (1, 2)
    assert program.header.max_len == 3


def test_operator_sugar_becomes_one_map_named_after_its_inputs() -> None:
    program = parse("opp = length - indices - 1;\noutput opp;")
    (binding,) = program.bindings
    assert binding.node == ir.Map(
        ir.Lambda(
            ("length", "indices"),
            ir.Binary("-", ir.Binary("-", ir.Param("length"), ir.Param("indices")), ir.Const(1)),
        ),
        ("length", "indices"),
    )
    assert binding.encoding == "cat"


def test_nested_expressions_get_derived_names_in_preorder() -> None:
    program = parse(
        "x = aggregate(select(tokens, tokens, ==), indices == 0) + "
        "selector_width(select(indices, indices, <));\noutput x;"
    )
    names = [b.name for b in program.bindings]
    assert names == [
        "x__select",
        "x__map",
        "x__aggregate",
        "x__select2",
        "x__selector_width",
        "x",
    ]
    assert program.binding("x").node.inputs == ("x__aggregate", "x__selector_width")  # type: ignore[union-attr]


def test_constants_fold_exactly() -> None:
    program = parse("x = map(fn(v) -> v * (1/3) + 0.25, indices);\noutput x;")
    fn = program.binding("x").node.fn  # type: ignore[union-attr]
    assert fn.body == ir.Binary(
        "+", ir.Binary("*", ir.Param("v"), ir.Const(Fraction(1, 3))), ir.Const(Fraction(1, 4))
    )


def test_literal_in_sop_position_becomes_a_constant_sop() -> None:
    program = parse("first = aggregate(select(indices, 0, ==), tokens);\noutput first;")
    assert program.binding("first__const").node == ir.Full(0)


def test_macro_expansion_names_locals_after_the_call_site() -> None:
    program = parse(
        "def shift(s, k) {\n"
        "  back = select(indices, indices, fn(key, query) -> query == key + k);\n"
        "  return aggregate(back, s);\n"
        "}\n"
        "one = shift(tokens, 1);\n"
        "two = shift(tokens, 2);\n"
        "output one, two;"
    )
    assert [b.name for b in program.bindings] == [
        "one__shift__back",
        "one",
        "two__shift__back",
        "two",
    ]
    back = program.binding("two__shift__back").node
    assert isinstance(back, ir.Select) and isinstance(back.predicate, ir.Lambda)
    assert back.predicate.body == ir.Binary(
        "==", ir.Param("query"), ir.Binary("+", ir.Param("key"), ir.Const(2))
    )


def test_annotations_and_aggregate_defaults() -> None:
    program = parse(
        'is_a : num = map(fn(t) -> 1 if t == "a" else 0, tokens);\n'
        "frac = aggregate(select(indices, indices, <=), is_a);\n"
        "prev = aggregate(select(indices, indices, fn(k, q) -> k == q - 1), tokens);\n"
        "w : cat[9] = selector_width(select(tokens, tokens, ==));\n"
        "output frac, prev, w;"
    )
    assert program.binding("frac").encoding == "num"
    frac, prev = program.binding("frac").node, program.binding("prev").node
    assert isinstance(frac, ir.Aggregate) and isinstance(prev, ir.Aggregate)
    assert frac.default == 0
    assert prev.default is None
    assert program.binding("w").domain == tuple(range(9))


def test_reannotation_makes_a_distinct_node() -> None:
    program = parse("c = indices + 1;\nc_num : num = c;\noutput c, c_num;")
    assert program.binding("c").encoding == "cat"
    assert program.binding("c_num").encoding == "num"
    assert program.binding("c_num").node == ir.Map(ir.Lambda(("c",), ir.Param("c")), ("c",))


def test_selector_logic_and_lookup_tables() -> None:
    program = parse(
        "s = select(tokens, tokens, ==) and not select(indices, indices, <);\n"
        "w = selector_width(s);\n"
        't = lookup((tokens, indices), {("a", 0): 1, ("b", 1): 2}, default=0);\n'
        "output w, t;"
    )
    assert isinstance(program.binding("s").node, ir.SelectorAnd)
    assert isinstance(program.binding("s__not").node, ir.SelectorNot)
    table = program.binding("t").node
    assert isinstance(table, ir.Map) and isinstance(table.fn.body, ir.Lookup)
    assert table.fn.body.entries == ((("a", 0), 1), (("b", 1), 2))


def test_import_brings_in_defs_and_public_bindings(tmp_path: Path) -> None:
    (tmp_path / "lib.rasp").write_text(
        "def count_of(s, v) { return selector_width(select(s, s, fn(k, q) -> k == v)); }\n"
        "_private = indices;\n"
        'n_a = count_of(tokens, "a");\n'
    )
    main = tmp_path / "main.rasp"
    main.write_text(HEADER + 'import "lib.rasp";\nout = n_a + count_of(tokens, "b");\noutput out;')
    program = parse_file(main)
    assert "n_a" in program.by_name
    assert program.outputs == ("out",)


@pytest.mark.parametrize(
    ("written", "message"),
    [("binary.rasp", "it is not UTF-8 text"), ("a\\u0000b.rasp", "embedded null byte")],
)
def test_unreadable_imports_are_diagnostics(tmp_path: Path, written: str, message: str) -> None:
    (tmp_path / "binary.rasp").write_bytes(b"\xff\xfe\x00rasp")
    main = tmp_path / "main.rasp"
    main.write_text(HEADER + f'import "{written}";\noutput tokens;')
    with pytest.raises(RaspError) as error:
        parse_file(main)
    assert [d.code for d in error.value.diagnostics] == ["import"]
    assert message in str(error.value)


def test_string_escapes_round_trip_through_the_vocabulary() -> None:
    program = parse_program(
        '%vocab {"q\\"uote", "back\\\\slash", "new\\nline", "\\u00e9"}\n%max_len 2\n'
        "out = tokens;\noutput out;",
        "t",
    )
    assert program.header.vocab == ('q"uote', "back\\slash", "new\nline", "é")


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("x = tokens;\nx = indices;\noutput x;", "duplicate"),
        ("x = tokns;\noutput x;", "undefined"),
        ("x = select(tokens, tokens);\noutput x;", "arity"),
        ("s = select(tokens, tokens, ==);\noutput s;", "output"),
        ("x = map(fn(a, b) -> a, tokens);\noutput x;", "arity"),
        ("x = map(fn(a) -> tokens, indices);\noutput x;", "type"),
        ("length = tokens;\noutput length;", "reserved"),
        ("x = tokens;", "no-output"),
        ("x = 1 / 0;\noutput x;", "constant"),
        ("x : num = aggregate(select(tokens, tokens, ==), tokens);\noutput x;", "encoding"),
        ("def f(s) { return f(s); }\nx = f(tokens);\noutput x;", "recursion"),
        ("x = tokens + select(tokens, tokens, ==);\noutput x;", "type"),
        ("x = map(fn(a) -> select(a), tokens);\noutput x;", "type"),
        (f"x = indices + 1{'9' * 5000};\noutput x;", "literal"),
        ("x = map(fn(a) -> a * 1e999999999999, indices);\noutput x;", "literal"),
        ("x : cat[99999999999999] = indices;\noutput x;", "annotation"),
    ],
)
def test_errors_have_codes(source: str, code: str) -> None:
    with pytest.raises(RaspError) as raised:
        parse(source)
    assert code in [d.code for d in raised.value.diagnostics]


@pytest.mark.parametrize("max_len", ["0", "100001", "9" * 5000])
def test_max_len_out_of_range_is_a_header_error(max_len: str) -> None:
    with pytest.raises(RaspError) as raised:
        parse_program(f'%vocab {{"a"}}\n%max_len {max_len}\noutput tokens;', "t")
    assert "%max_len must be between 1 and 100,000" in str(raised.value)


def test_max_len_override_out_of_range_is_a_header_error() -> None:
    with pytest.raises(RaspError) as raised:
        parse_program(HEADER + "output tokens;", "t", overrides=HeaderOverrides(max_len=100_001))
    assert "the maximum length must be between 1 and 100,000" in str(raised.value)


def test_bounded_integers_may_have_leading_zeros() -> None:
    program = parse_program(
        '%vocab {"a"}\n%max_len 0000008\nx : cat[000003] = indices % 3;\noutput x;', "t"
    )
    assert program.header.max_len == 8
    assert program.binding("x").domain == (0, 1, 2)


def test_several_errors_are_reported_at_once() -> None:
    with pytest.raises(RaspError) as raised:
        parse("a = tokns;\nb = indics;\nc = a;\noutput c;")
    lines = [d.span.line for d in raised.value.diagnostics if d.span]
    assert lines[:2] == [3, 4]
