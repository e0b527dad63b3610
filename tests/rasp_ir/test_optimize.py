"""Dead-code elimination and common-subexpression merging."""

from __future__ import annotations

import dataclasses

from rasp_ir.diagnostics import Span
from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Comparison,
    Const,
    Full,
    Header,
    Lambda,
    Map,
    Param,
    Program,
    Select,
    SelectorAnd,
    SelectorWidth,
)
from rasp_ir.optimize import (
    eliminate_dead_code,
    live_names,
    merge_common_subexpressions,
    optimize,
    structural_representatives,
)

HEADER = Header(vocab=("a", "b"), max_len=4)
EQ = Comparison("==")
IS_A = Lambda(("t",), Binary("==", Param("t"), Const("a")))
ADD = Lambda(("x", "y"), Binary("+", Param("x"), Param("y")))


def names(program: Program) -> list[str]:
    return [b.name for b in program.bindings]


def two_hists() -> Program:
    """``s2`` repeats ``s1`` under another name; so do ``h2``/``h1`` and ``sum2``/``sum1``."""
    return Program(
        HEADER,
        (
            Binding("s1", Select("tokens", "tokens", EQ), None),
            Binding("h1", SelectorWidth("s1"), "cat"),
            Binding("s2", Select("tokens", "tokens", EQ), None),
            Binding("h2", SelectorWidth("s2"), "cat"),
            Binding("sum1", Map(ADD, ("h1", "h2")), "num"),
            Binding("sum2", Map(ADD, ("h2", "h1")), "num"),
            Binding("total", Map(ADD, ("sum1", "sum2")), "num"),
        ),
        ("total",),
    )


def test_cse_merges_identical_selects_written_under_different_names() -> None:
    merged = merge_common_subexpressions(two_hists())
    assert merged.bindings == (
        Binding("s1", Select("tokens", "tokens", EQ), None),
        Binding("h1", SelectorWidth("s1"), "cat"),
        Binding("sum1", Map(ADD, ("h1", "h1")), "num"),
        # operand order matters to a map: (h2, h1) became (h1, h1), the same as sum1
        Binding("total", Map(ADD, ("sum1", "sum1")), "num"),
    )
    assert merged.outputs == ("total",)


def test_cse_keeps_a_duplicate_that_is_an_output() -> None:
    program = dataclasses.replace(two_hists(), outputs=("h2", "total"))
    merged = merge_common_subexpressions(program)
    assert names(merged) == ["s1", "h1", "h2", "sum1", "total"]
    # the kept duplicate reads the representative's operands; nobody reads it
    assert merged.binding("h2").node == SelectorWidth("s1")
    assert merged.binding("total").node == Map(ADD, ("sum1", "sum1"))
    assert merged.outputs == ("h2", "total")


def test_cse_is_idempotent() -> None:
    program = dataclasses.replace(two_hists(), outputs=("h2", "sum2", "total"))
    once = merge_common_subexpressions(program)
    assert merge_common_subexpressions(once) == once


def test_cse_never_merges_cat_and_num_annotations_of_one_value() -> None:
    program = Program(
        HEADER,
        (
            Binding("c", Map(IS_A, ("tokens",)), "cat"),
            Binding("n", Map(IS_A, ("tokens",)), "num"),
            Binding("dom", Map(IS_A, ("tokens",)), "cat", (True, False)),
            Binding("sc", Select("c", "c", EQ), None),
            Binding("sn", Select("n", "n", EQ), None),
        ),
        ("sc", "sn", "dom"),
    )
    assert merge_common_subexpressions(program) == program
    assert structural_representatives(program) == {n: n for n in names(program)}


def test_cse_keeps_true_and_one_apart() -> None:
    program = Program(
        HEADER,
        (Binding("one", Full(1), "cat"), Binding("yes", Full(True), "cat")),
        ("one", "yes"),
    )
    assert structural_representatives(program) == {"one": "one", "yes": "yes"}
    assert merge_common_subexpressions(program) == program


def test_cse_ignores_spans_and_keeps_them() -> None:
    span = Span("p.rasp", 3, 1, 3, 20)
    program = Program(
        HEADER,
        (
            Binding("s1", Select("tokens", "tokens", EQ), None, span=span),
            Binding("s2", Select("tokens", "tokens", EQ), None),
            Binding("both", SelectorAnd("s1", "s2"), None),
            Binding("w", SelectorWidth("both"), "cat"),
        ),
        ("w",),
    )
    merged = merge_common_subexpressions(program)
    assert names(merged) == ["s1", "both", "w"]
    assert merged.binding("s1").span == span
    assert merged.binding("both").node == SelectorAnd("s1", "s1")


def test_dce_keeps_everything_the_outputs_need_in_order() -> None:
    program = Program(
        HEADER,
        (
            Binding("unused_const", Full(0), "cat"),
            Binding("is_a", Map(IS_A, ("tokens",)), "num"),
            Binding("same", Select("tokens", "tokens", EQ), None),
            Binding("unused_width", SelectorWidth("same"), "cat"),
            Binding("frac", Aggregate("same", "is_a"), "num"),
        ),
        ("frac",),
    )
    pruned = eliminate_dead_code(program)
    assert names(pruned) == ["is_a", "same", "frac"]
    assert live_names(program) == {"frac", "same", "is_a", "tokens"}
    assert eliminate_dead_code(pruned) == pruned


def test_dce_of_a_program_without_outputs_is_empty() -> None:
    program = Program(HEADER, (Binding("x", Full(0), "cat"),), ())
    assert eliminate_dead_code(program).bindings == ()


def test_optimize_merges_then_drops_what_is_left_unused() -> None:
    program = dataclasses.replace(two_hists(), outputs=("sum2",))
    optimized = optimize(program)
    # sum2 is an output and survives; sum1 and total are dead once merged
    assert names(optimized) == ["s1", "h1", "sum2"]
    assert optimized.binding("sum2").node == Map(ADD, ("h1", "h1"))


def test_rewrites_leave_their_input_alone() -> None:
    program = two_hists()
    before = (program.bindings, program.outputs)
    optimize(program)
    assert (program.bindings, program.outputs) == before
