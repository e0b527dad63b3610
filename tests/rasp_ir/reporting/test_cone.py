"""Dependency cones: what one output cell read, step by step, with golden text."""

from __future__ import annotations

from pathlib import Path

from rasp_ir.check import check_program, load_program
from rasp_ir.interpreter import interpret
from rasp_ir.reporting.cone import Cell, Cone, ConeBuilder, Unit, format_cone
from rasp_ir.syntax import parse_program

EXAMPLES = Path(__file__).parents[3] / "examples"

REVERSE_AT_0 = """\
reverse[0] = "o": mean of tokens at key 4 (4: "o") [L2 head 1]
  flip[0]: select(keys indices, query opp = 4, ==): query 0 selects key 4
    opp[0] = 4: table row (length=5, indices=0) -> 4 [L1 mlp]
      length[0] = 5: input length [L1 head 1]
      indices[0] = 0: position
    indices[4] = 4: position
  tokens[4] = "o": input token"""


def cone_of(text: str, tokens: list[object], name: str, position: int) -> Cone:
    checked = check_program(parse_program(text, "<test>"))
    evaluation = interpret(checked.program, [tokens], value_sets=checked.value_sets)  # type: ignore[list-item]
    return ConeBuilder(evaluation, checked.allocation).cone(0, Cell(name, position))


def test_the_cone_of_reverse_at_0_names_opp_flip_and_the_copied_token() -> None:
    checked = load_program(EXAMPLES / "reverse.rasp")
    evaluation = interpret(checked.program, [list("hello")], value_sets=checked.value_sets)
    cone = ConeBuilder(evaluation, checked.allocation).cone(0, Cell("reverse", 0))
    assert format_cone(cone) == REVERSE_AT_0
    assert cone.names() == {"reverse", "flip", "opp", "length", "indices", "tokens"}
    assert cone.steps[Cell("flip", 0)].value == (4,)
    assert cone.steps[Cell("tokens", 4)].value == "o"
    assert Unit("head", "reverse", "L2 head 1") in cone.units()
    assert Unit("mlp", "opp", "L1 mlp", (5, 0)) in cone.units()


def test_a_cell_read_twice_is_written_once_in_full() -> None:
    text = '%vocab {"a", "b"}\n%max_len 4\nsame = select(tokens, tokens, ==);\n'
    text += "n = selector_width(same);\noutput n;\n"
    cone = cone_of(text, ["a", "b", "a"], "n", 0)
    assert format_cone(cone) == (
        "n[0] = 2: counts the 2 keys same selects [L1 head 1]\n"
        '  same[0]: select(keys tokens, query tokens = "a", ==): query 0 selects keys 0, 2\n'
        '    tokens[0] = "a": input token\n'
        '    tokens[2] = "a": input token'
    )


def test_an_empty_selection_gives_the_default_and_reads_no_key() -> None:
    text = "%vocab {1, 2, 3}\n%max_len 4\n"
    text += "bigger = select(tokens, tokens, >);\n"
    text += "top = aggregate(bigger, tokens, reduce=max, default=0);\noutput top;\n"
    cone = cone_of(text, [3, 1], "top", 0)
    step = cone.steps[Cell("top", 0)]
    assert step.value == 0
    assert step.detail == "no key selected: the default 0"
    assert step.reads == (Cell("bigger", 0),)
    assert cone.steps[Cell("bigger", 0)].value == ()


def test_composite_selectors_and_maps_in_the_embedding() -> None:
    text = '%vocab {"a", "b"}\n%max_len 4\n%bos "<s>"\n'
    text += 'is_a = tokens == "a";\n'
    text += "pick = select(is_a, is_a, ==) and not select(indices, indices, ==);\n"
    text += "count = selector_width(pick);\noutput count;\n"
    cone = cone_of(text, ["a", "b", "a"], "count", 1)
    assert cone.steps[Cell("count", 1)].value == 1
    embedding = {u for u in cone.units() if u.kind == "embedding"}
    assert embedding == {Unit("embedding", "is_a", "embedding", ("a",))}
    lines = format_cone(cone).splitlines()
    assert lines[1].startswith("  pick[1]: pick__select and pick__not: query 1 selects key 3")
    assert any("not pick__select2: query 1 selects keys 0, 2, 3" in line for line in lines)


def test_shared_unit_sets_are_the_units_of_each_cone() -> None:
    checked = load_program(EXAMPLES / "sort_by_freq.rasp")
    inputs = [list("abcab"), list("zzyx"), list("q")]
    evaluation = interpret(checked.program, inputs, value_sets=checked.value_sets)
    full = ConeBuilder(evaluation, checked.allocation)
    quick = ConeBuilder(evaluation, checked.allocation, describe=False)
    output = checked.program.outputs[0]
    for example, tokens in enumerate(inputs):
        for position in range(len(tokens)):
            cell = Cell(output, position)
            assert quick.units(example, cell) == full.cone(example, cell).units()
            assert quick.step(example, cell).detail == ""
