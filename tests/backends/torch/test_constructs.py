"""Constructs beyond the example library: composite selectors (tracr refuses them), other
reductions, user defaults, numerical keys, select_closest, %bos, constants; and refusals."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.backends.torch import BACKEND, compile_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import Backend
from rasp_ir.verify import verify
from tests.backends.torch.helpers import all_inputs, check, program, random_inputs

HEADER = '%vocab {"a", "b", "c"}\n%max_len 5\n'

PROGRAMS = {
    "or": "w = selector_width(select(tokens, tokens, ==) or select(indices, indices, <));",
    "not": "w = selector_width(not select(tokens, tokens, ==));",
    "and_not": "w = selector_width(select(tokens, tokens, <=) and not select(indices, indices, >))"
    ";",
    "or_mean": 'x : num = map(fn(t) -> 1 if t == "a" else 0, tokens);\n'
    "w : num = aggregate(select(tokens, tokens, ==) or select(indices, indices, ==), x);",
    "max": "w = aggregate(select(indices, indices, <=), tokens, reduce=max);",
    "min_default": 'w = aggregate(select(indices, indices, <), tokens, reduce=min, default="z");',
    "sum": 'x : num = map(fn(t) -> 2 if t == "a" else (-1 if t == "b" else 1/2), tokens);\n'
    "w : num = aggregate(select(indices, indices, <=), x, reduce=sum);",
    "mean_any_numbers": 'x : num = map(fn(t) -> 3 if t == "a" else (-1 if t == "b" else 1/2), '
    "tokens);\n"
    "w : num = aggregate(select(indices, indices, <=), x, default=7);",
    "numerical_keys": 'x : num = map(fn(t) -> 1 if t == "a" else 0, tokens);\n'
    "f : num = aggregate(select(indices, indices, <=), x);\n"
    "w = selector_width(select(f, f, ==));",
    "closest": "w = aggregate(select_closest(tokens, tokens, ==), indices);",
    "closest_lt": "w = aggregate(select_closest(tokens, tokens, <), indices, default=9);",
    "constant_query": 'w = selector_width(select(tokens, "a", ==));',
    "length_map": "w = map(fn(n, i) -> n - i, length, indices);",
    "chain": "h = selector_width(select(tokens, tokens, ==));\n"
    "w = map(fn(x) -> x * 2 if x > 1 else 0, h + 1);",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_construct(name: str) -> None:
    prog = program(HEADER + PROGRAMS[name] + "\noutput w;\n")
    check(prog, all_inputs(prog, 5))


def test_program_bos_is_the_first_real_position() -> None:
    prog = program(
        '%vocab {"a", "b"}\n%max_len 5\n%bos "S"\n'
        "w = aggregate(select_closest(tokens, tokens, ==), indices);\n"
        "n = length;\noutput w, n;\n"
    )
    model = check(prog, all_inputs(prog, 5))
    assert model.run([["a"]]).outputs["n"] == [[2, 2]]


def test_longer_random_composites() -> None:
    prog = program(
        '%vocab {"a", "b", "c"}\n%max_len 16\n'
        "w = selector_width(select(tokens, tokens, ==) or select(indices, indices, <));\n"
        "output w;\n"
    )
    check(prog, random_inputs(prog, 500))


def test_backend_protocol_and_runner() -> None:
    assert isinstance(BACKEND, Backend)
    prog = program(HEADER + "w = selector_width(select(tokens, tokens, ==));\noutput w;\n")
    run = BACKEND.runner(prog, BACKEND.lower(prog))
    assert run([["a", "b", "a"], []]) == {"w": [[2, 1, 2], []]}


def test_unsupported_constructs_are_refused_each_with_a_span() -> None:
    prog = program(
        HEADER
        + "w = selector_width(select_closest(tokens, tokens, ==));\n"
        + "c = select_closest(indices, indices, <) and select(tokens, tokens, ==);\n"
        + "s = aggregate(c, tokens);\n"
        + "output w, s;\n"
    )
    with pytest.raises(RaspError) as caught:
        compile_program(prog)
    diagnostics = caught.value.diagnostics
    assert [d.code for d in diagnostics] == ["unsupported", "unsupported"]
    assert [d.span.line for d in diagnostics if d.span] == [3, 4]


BOS_HEADER = '%vocab {"a", "b"}\n%max_len 4\n%bos "<s>"\n'
# Predicates under which BOS (position 0) is one of several matches for most queries.
SEVERAL_MATCHES = {
    "lt": "fn(key, query) -> key < query",
    "le": "fn(key, query) -> key <= query",
    "ne": "fn(key, query) -> key != query",
    "true": "fn(key, query) -> true",
}


@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
@pytest.mark.parametrize("value", ["tokens", "indices"])
@pytest.mark.parametrize("predicate", sorted(SEVERAL_MATCHES))
def test_closest_picks_the_nearest_match_when_bos_matches_too(
    predicate: str, value: str, causal: bool
) -> None:
    """BOS is an ordinary key that can match: its no-match default must not beat a nearer
    match (on (a, a) with ``key < query`` the last position reads "a", not "<s>")."""
    prog = program(
        BOS_HEADER
        + ("%causal\n" if causal else "")
        + f"w = aggregate(select_closest(indices, indices, {SEVERAL_MATCHES[predicate]}), "
        + f"{value});\noutput w;\n"
    )
    report = verify(prog, BACKEND, exhaustive_max_len=4)
    assert report.mismatches == []
    assert report.checked == 31


@pytest.mark.parametrize(
    "selector",
    [
        # The key at BOS is "<s>", a state no other position has.
        "select_closest(tokens, tokens, !=)",
        # The key at BOS is 0, which every even position shares.
        "select_closest(map(fn(i) -> i % 2, indices), indices, fn(key, query) -> key == query % 2)",
        # The key at BOS is the token after it: known only at run time.
        "select_closest(nxt, tokens, fn(key, query) -> key != query)",
    ],
    ids=["bos_only_key", "shared_key", "run_time_key"],
)
def test_closest_with_bos_for_every_kind_of_key_at_bos(selector: str) -> None:
    prog = program(
        BOS_HEADER
        + "nxt = aggregate(select_closest(indices, indices, fn(key, query) -> key == query + 1),"
        + " tokens);\n"
        + f"w = aggregate({selector}, indices);\noutput w;\n"
    )
    assert verify(prog, BACKEND, exhaustive_max_len=4).mismatches == []


def test_closest_with_bos_attends_one_key_at_64_positions() -> None:
    """The widest score spread (64 positions and BOS, scores in the thousands) keeps every
    attention row one-hot in float32, whether BOS matches or is only the default."""
    prog = program(
        '%vocab {"a", "b"}\n%max_len 64\n%bos "<s>"\n'
        "w = aggregate(select_closest(indices, indices, fn(key, query) -> key < query), tokens);"
        "\nv = aggregate(select_closest(tokens, tokens, fn(key, query) -> key == query), indices);"
        "\noutput w, v;\n"
    )
    inputs = random_inputs(prog, 40, seed=3)
    model = check(prog, inputs)
    ids, lengths = model.encode(inputs)
    _, _, patterns = model.forward(ids, lengths, trace=True)
    rows = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
    for pattern in patterns:
        top = pattern.max(dim=-1).values.transpose(1, 2)[rows]
        assert float(top.min()) > 1 - 1e-6


def test_a_head_reading_another_heads_output_comes_a_layer_later() -> None:
    """The attention of one layer cannot read what a sibling head of that layer writes."""
    prog = program(
        HEADER + "prev = select(indices, indices, fn(key, query) -> key == query - 1);\n"
        "p = aggregate(prev, tokens);\nw = aggregate(prev, p);\noutput w;\n"
    )
    assert compile_program(prog).config.n_layers == 2
    assert verify(prog, BACKEND, exhaustive_max_len=4).mismatches == []
