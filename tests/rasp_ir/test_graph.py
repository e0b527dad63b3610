"""The networkx view of a program and its DOT export."""

from __future__ import annotations

from rasp_ir.graph import dot_string, program_graph, to_dot
from rasp_ir.ir import (
    Aggregate,
    Binary,
    Binding,
    Comparison,
    Full,
    Header,
    Lambda,
    Map,
    Param,
    Program,
    Select,
    SelectorNot,
)
from rasp_ir.layers import allocate_layers

HEADER = Header(vocab=("a", "b"), max_len=4, bos="BOS")


def small() -> Program:
    """``sq = i * i`` (reads ``indices`` twice), a negated select, an aggregate, a dead const."""
    square = Lambda(("i",), Binary("*", Param("i"), Param("i")))
    return Program(
        HEADER,
        (
            Binding("sq", Map(square, ("indices", "indices")), "num"),
            Binding("same", Select("tokens", "tokens", Comparison("==")), None),
            Binding("other", SelectorNot("same"), None),
            Binding("out", Aggregate("other", "sq"), "num"),
            Binding("unused", Full(0), "cat"),
        ),
        ("out",),
    )


def test_graph_nodes_and_attributes() -> None:
    graph = program_graph(small())
    assert list(graph.nodes(data=True)) == [
        ("tokens", {"kind": "primitive", "encoding": "cat", "is_output": False}),
        ("indices", {"kind": "primitive", "encoding": "cat", "is_output": False}),
        ("sq", {"kind": "map", "encoding": "num", "is_output": False}),
        ("same", {"kind": "select", "encoding": None, "is_output": False}),
        ("other", {"kind": "not", "encoding": None, "is_output": False}),
        ("out", {"kind": "aggregate", "encoding": "num", "is_output": True}),
        ("unused", {"kind": "const", "encoding": "cat", "is_output": False}),
    ]


def test_graph_edges_run_from_operand_to_user_with_a_count() -> None:
    graph = program_graph(small())
    assert sorted(graph.edges(data="count")) == [
        ("indices", "sq", 2),
        ("other", "out", 1),
        ("same", "other", 1),
        ("sq", "out", 1),
        ("tokens", "same", 2),
    ]


def test_graph_is_fresh_and_leaves_the_program_alone() -> None:
    program = small()
    graph = program_graph(program)
    graph.remove_node("out")
    assert "out" in program_graph(program)
    assert program == small()


def test_graph_lists_length_only_when_used() -> None:
    program = Program(
        HEADER, (Binding("n", Map(Lambda(("x",), Param("x")), ("length",)), "cat"),), ("n",)
    )
    assert list(program_graph(program)) == ["length", "n"]


def test_dot_of_a_small_program() -> None:
    assert to_dot(small()) == (
        "digraph program {\n"
        "  rankdir=TB;\n"
        '  "tokens" [label="tokens\\nprimitive", shape=plaintext];\n'
        '  "indices" [label="indices\\nprimitive", shape=plaintext];\n'
        '  "sq" [label="sq\\nmap : num", shape=box];\n'
        '  "same" [label="same\\nselect", shape=diamond];\n'
        '  "other" [label="other\\nnot", shape=diamond];\n'
        '  "out" [label="out\\naggregate : num", shape=ellipse, peripheries=2, style=bold];\n'
        '  "unused" [label="unused\\nconst : cat", shape=box];\n'
        '  "indices" -> "sq" [label="x2"];\n'
        '  "tokens" -> "same" [label="x2"];\n'
        '  "same" -> "other";\n'
        '  "other" -> "out";\n'
        '  "sq" -> "out";\n'
        "}\n"
    )


def test_dot_annotated_with_the_layer_allocation() -> None:
    program = small()
    dot = to_dot(program, allocate_layers(program))
    assert '  "indices" [label="indices\\nprimitive\\ninput", shape=plaintext];\n' in dot
    assert '  "sq" [label="sq\\nmap : num\\nembedding", shape=box];\n' in dot
    assert '  "other" [label="other\\nnot\\nL1 attention", shape=diamond];\n' in dot
    assert '"out" [label="out\\naggregate : num\\nL1 attention", shape=ellipse' in dot
    # dead code has no place, so no annotation
    assert '  "unused" [label="unused\\nconst : cat", shape=box];\n' in dot


def test_dot_is_deterministic() -> None:
    assert to_dot(small()) == to_dot(small())


def test_dot_strings_escape_quotes_backslashes_and_newlines() -> None:
    assert dot_string('say "hi"\\now\nthen') == '"say \\"hi\\"\\\\now\\nthen"'
    assert dot_string("plain") == '"plain"'
