"""Layer and head allocation at the minimum depth (rasp-semantics §12, §16.6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Comparison,
    Const,
    Expr,
    Full,
    Header,
    IfElse,
    Lambda,
    Map,
    Node,
    Param,
    Program,
    Select,
    SelectorAnd,
    SelectorWidth,
)
from rasp_ir.layers import allocate_layers, format_allocation

HEADER = Header(vocab=("a", "b", "x", "(", ")"), max_len=8, bos="BOS")


def fn(params: str, body: Expr) -> Lambda:
    return Lambda(tuple(params.split()), body)


def sop(name: str, node: Node, encoding: str = "cat") -> Binding:
    return Binding(name, node, "num" if encoding == "num" else "cat")


def sel(name: str, node: Node) -> Binding:
    return Binding(name, node, None)


def program(*bindings: Binding, outputs: tuple[str, ...]) -> Program:
    return Program(HEADER, bindings, outputs)


def reverse() -> Program:
    opp = fn("n i", Binary("-", Binary("-", Param("n"), Param("i")), Const(1)))
    return program(
        sop("opp", Map(opp, ("length", "indices"))),
        sel("flip", Select("indices", "opp", Comparison("=="))),
        sop("reverse", Aggregate("flip", "tokens")),
        outputs=("reverse",),
    )


def hist() -> Program:
    return program(
        sel("same_tok", Select("tokens", "tokens", Comparison("=="))),
        sop("hist", SelectorWidth("same_tok")),
        outputs=("hist",),
    )


def sort_unique() -> Program:
    return program(
        sel("smaller", Select("tokens", "tokens", Comparison("<"))),
        sop("target", SelectorWidth("smaller")),
        sel("at_target", Select("target", "indices", Comparison("=="))),
        sop("sort", Aggregate("at_target", "tokens")),
        outputs=("sort",),
    )


def double_hist() -> Program:
    is_zero = fn("n", Binary("==", Param("n"), Const(0)))
    key_is_true = fn("k q", Binary("==", Param("k"), Const(True)))
    return program(
        sel("same_tok", Select("tokens", "tokens", Comparison("=="))),
        sop("hist", SelectorWidth("same_tok")),
        # the same select under another name: structurally one selector
        sel("same_tok_again", Select("tokens", "tokens", Comparison("=="))),
        sel("earlier", Select("indices", "indices", Comparison("<"))),
        sel("same_earlier", SelectorAnd("same_tok_again", "earlier")),
        sop("n_earlier", SelectorWidth("same_earlier")),
        sop("is_first", Map(is_zero, ("n_earlier",))),
        sel("same_hist", Select("hist", "hist", Comparison("=="))),
        sel("first_key", Select("is_first", "is_first", key_is_true)),
        sel("same_hist_first", SelectorAnd("same_hist", "first_key")),
        sop("double_hist", SelectorWidth("same_hist_first")),
        outputs=("double_hist",),
    )


def frac_prevs() -> Program:
    return program(
        sop("is_x", Map(fn("t", Binary("==", Param("t"), Const("x"))), ("tokens",)), "num"),
        sel("prevs", Select("indices", "indices", Comparison("<="))),
        sop("frac", Aggregate("prevs", "is_x"), "num"),
        outputs=("frac",),
    )


def dyck1() -> Program:
    """Per prefix: T balanced, P open, F failed (some earlier prefix closed too much)."""
    indicator = fn("t", IfElse(Binary("==", Param("t"), Const("(")), Const(1), Const(0)))
    closer = fn("t", IfElse(Binary("==", Param("t"), Const(")")), Const(1), Const(0)))
    difference = fn("o c", Binary("-", Param("o"), Param("c")))
    negative = fn("b", IfElse(Binary("<", Param("b"), Const(0)), Const(1), Const(0)))
    verdict = fn(
        "f b",
        IfElse(
            Binary(">", Param("f"), Const(0)),
            Const("F"),
            IfElse(Binary("==", Param("b"), Const(0)), Const("T"), Const("P")),
        ),
    )
    return program(
        sop("opens", Map(indicator, ("tokens",)), "num"),
        sop("closes", Map(closer, ("tokens",)), "num"),
        sel("prefix", Select("indices", "indices", Comparison("<="))),
        sop("frac_open", Aggregate("prefix", "opens"), "num"),
        sop("frac_close", Aggregate("prefix", "closes"), "num"),
        sop("balance", Map(difference, ("frac_open", "frac_close")), "num"),
        sop("negative", Map(negative, ("balance",)), "num"),
        sop("any_negative", Aggregate("prefix", "negative"), "num"),
        sop("dyck1", Map(verdict, ("any_negative", "balance"))),
        outputs=("dyck1",),
    )


@pytest.mark.parametrize(
    ("build", "n_layers", "heads_per_layer"),
    [
        (reverse, 2, (1, 1)),
        (hist, 1, (1,)),
        (sort_unique, 2, (1, 1)),
        (double_hist, 2, (2, 1)),
        (frac_prevs, 1, (1,)),
        (dyck1, 2, (1, 1)),
    ],
    ids=["reverse", "hist", "sort_unique", "double_hist", "frac_prevs", "dyck1"],
)
def test_classic_programs_reach_the_minimum_depth(
    build: Callable[[], Program], n_layers: int, heads_per_layer: tuple[int, ...]
) -> None:
    allocation = allocate_layers(build())
    assert allocation.n_layers == n_layers
    assert allocation.heads_per_layer == heads_per_layer


def test_reverse_depths_and_placement() -> None:
    allocation = allocate_layers(reverse())
    assert allocation.depth == {
        "tokens": 0,
        "indices": 0,
        "length": 1,
        "opp": 1,
        "flip": 2,
        "reverse": 2,
    }
    assert allocation.placement == {
        "tokens": ("input", 0),
        "indices": ("input", 0),
        "length": ("attention", 1),
        "opp": ("mlp", 1),
        "flip": ("attention", 2),
        "reverse": ("attention", 2),
    }
    assert allocation.embedding == ()


def test_reverse_table() -> None:
    program = reverse()
    assert format_allocation(program, allocate_layers(program)) == (
        "layers: 2   heads per layer: 1 / 1\n"
        "layer  unit    pattern                                       computes\n"
        "1      head 1  selector_width(select(tokens, tokens, true))  length\n"
        "1      mlp                                                   opp\n"
        "2      head 1  aggregate(flip)                               reverse"
    )


def test_dyck1_one_head_moves_two_values_and_maps_fold_into_the_embedding() -> None:
    program = dyck1()
    allocation = allocate_layers(program)
    assert allocation.embedding == ("opens", "closes")
    assert [layer.heads[0].computes for layer in allocation.layers] == [
        ("frac_open", "frac_close"),
        ("any_negative",),
    ]
    assert [layer.mlp for layer in allocation.layers] == [("balance", "negative"), ("dyck1",)]
    # the prefix selector is evaluated by a head in each layer; it is placed at the first
    assert allocation.placement["prefix"] == ("attention", 1)
    assert format_allocation(program, allocation) == (
        "layers: 2   heads per layer: 1 / 1\n"
        "layer  unit       pattern            computes\n"
        "0      embedding                     opens, closes\n"
        "1      head 1     aggregate(prefix)  frac_open, frac_close\n"
        "1      mlp                           balance, negative\n"
        "2      head 1     aggregate(prefix)  any_negative\n"
        "2      mlp                           dyck1"
    )


def test_frac_prevs_map_is_folded_into_the_embedding() -> None:
    allocation = allocate_layers(frac_prevs())
    assert allocation.placement["is_x"] == ("embedding", 0)
    assert allocation.layers[0].mlp == ()


def test_identical_selects_under_two_names_are_one_head() -> None:
    allocation = allocate_layers(
        program(
            sel("s1", Select("tokens", "tokens", Comparison("=="))),
            sel("s2", Select("tokens", "tokens", Comparison("=="))),
            sop("w1", SelectorWidth("s1")),
            sop("w2", SelectorWidth("s2")),
            sop("a1", Aggregate("s1", "indices")),
            sop("a2", Aggregate("s2", "tokens")),
            outputs=("w1", "w2", "a1", "a2"),
        )
    )
    heads = allocation.layers[0].heads
    assert [(h.pattern, h.selector, h.computes) for h in heads] == [
        ("selector_width", "s1", ("w1", "w2")),
        ("aggregate", "s1", ("a1", "a2")),
    ]


def test_identical_selects_over_different_values_are_two_heads() -> None:
    cat_copy = fn("t", Param("t"))
    allocation = allocate_layers(
        program(
            sop("c", Map(cat_copy, ("tokens",))),
            sop("n", Map(cat_copy, ("tokens",)), "num"),
            sel("s1", Select("c", "c", Comparison("=="))),
            sel("s2", Select("n", "n", Comparison("=="))),
            sop("w1", SelectorWidth("s1")),
            sop("w2", SelectorWidth("s2")),
            outputs=("w1", "w2"),
        )
    )
    assert allocation.heads_per_layer == (2,)


def test_explicit_width_of_select_all_shares_the_length_head() -> None:
    program_ = program(
        sel("all", Select("tokens", "tokens", Comparison("true"))),
        sop("n", SelectorWidth("all")),
        sop("both", Map(fn("a b", Binary("+", Param("a"), Param("b"))), ("n", "length"))),
        outputs=("both",),
    )
    (head,) = allocate_layers(program_).layers[0].heads
    assert head.computes == ("length", "n")
    assert head.selector == "all"


def test_aggregate_waits_for_its_value() -> None:
    allocation = allocate_layers(
        program(
            sel("same", Select("indices", "indices", Comparison("=="))),
            sop("copy", Aggregate("same", "length")),
            outputs=("copy",),
        )
    )
    assert allocation.depth["same"] == 1
    assert allocation.depth["copy"] == 2
    assert allocation.placement["same"] == ("attention", 2)
    assert allocation.heads_per_layer == (1, 1)


def test_dead_bindings_get_no_place_and_add_no_layer() -> None:
    program_ = program(
        sop("three", Full(3)),
        sel("same", Select("tokens", "tokens", Comparison("=="))),
        sop("hist", SelectorWidth("same")),
        sel("by_hist", Select("hist", "hist", Comparison("=="))),
        sop("unused", SelectorWidth("by_hist")),
        outputs=("three",),
    )
    allocation = allocate_layers(program_)
    assert allocation.n_layers == 0
    assert allocation.layers == ()
    assert allocation.depth["unused"] == 2
    assert allocation.placement == {"three": ("embedding", 0)}
    assert format_allocation(program_, allocation) == (
        "layers: 0   heads per layer: -\n"
        "layer  unit       pattern  computes\n"
        "0      embedding           three\n"
        "unused (no place): same, hist, by_hist, unused"
    )


def test_program_without_outputs_has_no_layers() -> None:
    allocation = allocate_layers(program(outputs=()))
    assert (allocation.n_layers, allocation.layers, allocation.placement) == (0, (), {})


def test_length_alone_is_one_layer() -> None:
    allocation = allocate_layers(program(outputs=("length",)))
    assert allocation.n_layers == 1
    assert allocation.layers[0].heads[0].computes == ("length",)
    assert allocation.layers[0].heads[0].selector is None
