"""``pooled_vote``, the pooled classification readout as one IR construct: parsed and printed back,
checked, run exactly by the interpreter (against the naive evaluator on every input), compiled
by the python backend, refused by name where a backend cannot lower it."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from rasp_ir import ir
from rasp_ir.api import (
    RaspError,
    check_program,
    format_program,
    interpret,
    load_backend,
    parse_program,
    run,
    verify,
)
from rasp_ir.naive import NaiveEvalError, naive_outputs

HEADER = '%vocab {"good", "bad", "meh"}\n%max_len 4\n%bos "<s>"\n'
POOL = "pool = select(indices, indices, true);\n"
GOOD = 'fn(t) -> lookup(t, {"good": 1, "bad": -1}, default=0)'
BAD = 'fn(t) -> lookup(t, {"bad": 1, "meh": 0.5}, default=0)'
MOOD = HEADER + POOL + f'mood = pooled_vote(pool, {GOOD}, {BAD}, tokens, labels=("pos", "neg"));\n'
PROGRAM = MOOD + "output mood;\n"


def every_input(
    words: tuple[str, ...] = ("good", "bad", "meh"), longest: int = 4
) -> list[list[str]]:
    return [list(x) for n in range(1, longest + 1) for x in itertools.product(words, repeat=n)]


def test_the_label_with_the_largest_mean_score_wins_at_every_position() -> None:
    program = parse_program(PROGRAM, "mood.rasp")
    # pos: 1 - 1 = 0, neg: 1 + 0.5: neg
    assert run(program, ["good", "bad", "meh"])["mood"] == ["neg"] * 4
    assert run(program, ["good", "good", "meh"])["mood"] == ["pos"] * 4


def test_ties_go_to_the_first_label() -> None:
    program = parse_program(PROGRAM, "mood.rasp")
    # pos: 1 (good) + 0 (meh) + 0 (meh) = 1; neg: 0.5 + 0.5 = 1
    assert run(program, ["good", "meh", "meh"])["mood"] == ["pos"] * 4
    swapped = PROGRAM.replace(f"{GOOD}, {BAD}", f"{BAD}, {GOOD}").replace(
        '("pos", "neg")', '("neg", "pos")'
    )
    assert run(parse_program(swapped, "t"), ["good", "meh", "meh"])["mood"] == ["neg"] * 4


def test_the_interpreter_equals_the_naive_evaluator_on_every_input() -> None:
    program = parse_program(PROGRAM, "mood.rasp")
    inputs = every_input()
    got = interpret(program, inputs).outputs()["mood"]
    assert got == [naive_outputs(program, x)["mood"] for x in inputs]
    assert {label for row in got for label in row} == {"pos", "neg"}


CAUSAL = (
    '%vocab {"a", "b"}\n%max_len 5\n%causal\n'
    "before = select(indices, indices, <);\n"
    'vote = pooled_vote(before, fn(t, i) -> i if t == "a" else -1, fn(t, i) -> 2 - i, '
    'tokens, indices, labels=("a", "b"), default="none");\n'
    "output vote;\n"
)


def test_a_query_that_selects_nothing_gets_the_default_and_causal_masks_apply() -> None:
    program = parse_program(CAUSAL, "causal.rasp")
    assert check_program(program).value_sets.sets["vote"] == ("a", "b", "none")
    inputs = every_input(("a", "b"), 5)
    got = interpret(program, inputs).outputs()["vote"]
    assert got == [naive_outputs(program, x)["vote"] for x in inputs]
    assert run(program, ["a", "a", "a"])["vote"] == ["none", "b", "b"]


def test_scores_are_exact_beyond_int64() -> None:
    """Scores 1/3 and (2^62 + 1)/(3 * 2^62) differ by 1/(3 * 2^62): a float would call it a
    tie; the interpreter sums them exactly (Python integers where int64 would overflow)."""
    big = 2**62
    close = f"({big + 1}/{3 * big})"
    text = (
        '%vocab {"x", "y"}\n%max_len 3\n'
        "all = select(indices, indices, true);\n"
        f'v = pooled_vote(all, fn(t) -> (1/3), fn(t) -> {close} if t == "y" else (1/3), '
        'tokens, labels=("first", "second"));\noutput v;\n'
    )
    program = parse_program(text, "exact.rasp")
    assert run(program, ["x", "x"])["v"] == ["first"] * 2
    assert run(program, ["x", "y"])["v"] == ["second"] * 2
    for x in every_input(("x", "y"), 3):
        assert run(program, x)["v"] == naive_outputs(program, x)["v"]


def test_print_and_parse_round_trip() -> None:
    for text in (PROGRAM, CAUSAL):
        program = parse_program(text, "t.rasp")
        printed = format_program(program)
        assert parse_program(printed, "printed.rasp") == program
    printed = format_program(parse_program(PROGRAM, "t.rasp"))
    assert 'tokens,\n    labels=("pos", "neg")\n);' in printed
    assert 'fn(t) -> lookup(t, {"bad": 1, "meh": 0.5}, default=0),' in printed


def test_one_label_prints_as_a_constant() -> None:
    text = (
        HEADER + POOL + f'only = pooled_vote(pool, {GOOD}, tokens, labels="pos");\noutput only;\n'
    )
    program = parse_program(text, "t")
    node = program.binding("only").node
    assert isinstance(node, ir.PooledVote) and node.labels == ("pos",)
    assert 'labels="pos"' in format_program(program)
    assert parse_program(format_program(program), "t") == program


def test_check_reports_value_sets_and_a_head_for_the_pooling() -> None:
    checked = check_program(parse_program(PROGRAM, "mood.rasp"))
    assert not checked.errors
    assert checked.value_sets.sets["mood"] == ("neg", "pos")
    assert checked.allocation.heads_per_layer == (1,)


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (f"pooled_vote(pool, {GOOD}, tokens)", "arity", "wrong arguments to pooled_vote"),
        (
            f'pooled_vote(pool, {GOOD}, tokens, labels=("a", "b"))',
            "arity",
            "pooled_vote has 1 score function(s) but 2 label(s)",
        ),
        (
            f'pooled_vote(pool, {GOOD}, tokens, indices, labels="a")',
            "arity",
            "a score function takes 1 parameter(s) but pooled_vote gives it 2 input(s)",
        ),
        (
            f'pooled_vote(tokens, {GOOD}, tokens, labels="a")',
            "type",
            "the first argument of pooled_vote must be a selector",
        ),
        (
            f'pooled_vote(pool, {GOOD}, {BAD}, tokens, labels={{"a", "b"}})',
            "type",
            "the labels of pooled_vote must be a tuple of constants, not a set",
        ),
        (
            f'pooled_vote(pool, {GOOD}, {BAD}, tokens, labels=("a", "a"))',
            "duplicate",
            "pooled_vote names a label twice",
        ),
        (
            f'pooled_vote(pool, tokens, {GOOD}, labels="a")',
            "type",
            "pooled_vote takes its score functions right after the selector",
        ),
    ],
)
def test_wrong_calls_are_located_errors(call: str, code: str, message: str) -> None:
    text = HEADER + POOL + f"bad_call = {call};\noutput bad_call;\n"
    with pytest.raises(RaspError) as caught:
        parse_program(text, "calls.rasp")
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.span is not None) == (code, True)
    assert diagnostic.span is not None and (diagnostic.span.file, diagnostic.span.line) == (
        "calls.rasp",
        5,
    )
    assert message in diagnostic.message


def test_a_score_that_is_not_a_number_is_reported_by_check() -> None:
    text = (
        HEADER
        + POOL
        + ('v = pooled_vote(pool, fn(t) -> t == "good", tokens, labels="a");\noutput v;\n')
    )
    checked = check_program(parse_program(text, "score.rasp"))
    (diagnostic,) = checked.errors
    assert diagnostic.code == "vote-score"
    assert diagnostic.message == (
        'pooled_vote \'v\': the score of "a" on input ("<s>") is false, not a number'
    )
    assert diagnostic.span is not None and diagnostic.span.line == 5


def test_an_input_that_can_be_undefined_is_reported_by_check() -> None:
    text = (
        HEADER
        + POOL
        + (
            'maybe = map(fn(t) -> 1 if t == "good" else none, tokens);\n'
            'v = pooled_vote(pool, fn(m) -> m, maybe, labels="a");\noutput v;\n'
        )
    )
    (diagnostic,) = check_program(parse_program(text, "undefined.rasp")).errors
    assert diagnostic.code == "vote-undefined"
    assert "reads 'maybe', which can be undefined" in diagnostic.message


def test_a_vote_too_large_to_check_fails_where_it_runs() -> None:
    """Four inputs of 39 or 40 values: 2.3 million combinations are not enumerated; the
    failing score is reported (with its input) on the input that reaches it."""
    words = ", ".join(f'"w{i}"' for i in range(39))
    text = (
        f"%vocab {{{words}}}\n%max_len 39\n"
        "all = select(indices, indices, true);\n"
        'copy = map(fn(t) -> t, tokens, default="?");\n'
        "v = pooled_vote(all, fn(a, b, c, d) -> 1 / (d - 3), tokens, copy, length, indices, "
        'labels="x");\noutput v;\n'
    )
    program = parse_program(text, "large.rasp")
    assert not check_program(program).errors
    assert run(program, ["w0", "w1"])["v"] == ["x", "x"]
    with pytest.raises(RaspError) as caught:
        run(program, ["w0", "w1", "w2", "w3"])
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "vote-score"
    assert 'on input ("w3", "w3", 4, 3) fails: division by zero' in diagnostic.message
    with pytest.raises(NaiveEvalError):
        naive_outputs(program, ["w0", "w1", "w2", "w3"])


def test_the_python_backend_equals_the_interpreter() -> None:
    for text, name in ((PROGRAM, "mood.rasp"), (CAUSAL, "causal.rasp")):
        report = verify(parse_program(text, name), load_backend("python"), exhaustive_max_len=4)
        assert report.ok and report.checked > 0


def test_the_torch_backend_refuses_it_by_name() -> None:
    with pytest.raises(RaspError) as caught:
        load_backend("torch").lower(parse_program(PROGRAM, "mood.rasp"))
    message = caught.value.diagnostics[0].message
    assert message == "mood uses pooled vote, which the torch backend does not support"


def test_the_ir_refuses_scores_that_do_not_fit_the_labels() -> None:
    score = ir.Lambda(("t",), ir.Const(Fraction(1, 2)))
    with pytest.raises(ir.IRError, match="one score function per label"):
        ir.PooledVote("pool", (score,), ("tokens",), ("a", "b"))
    with pytest.raises(ir.IRError, match="one parameter per input"):
        ir.PooledVote("pool", (score,), ("tokens", "indices"), ("a",))


def test_a_vote_of_constant_scores_reads_no_input() -> None:
    text = (
        '%vocab {"a", "b"}\n%max_len 3\npool = select(indices, indices, true);\n'
        'v = pooled_vote(pool, fn() -> 1, fn() -> 2, labels=("a", "b"));\noutput v;\n'
    )
    program = parse_program(text, "constant.rasp")
    assert parse_program(format_program(program), "printed.rasp") == program
    assert run(program, ["a", "b"])["v"] == ["b", "b"] == naive_outputs(program, ["a", "b"])["v"]
    assert check_program(program).allocation.heads_per_layer == (1,)
    report = verify(program, load_backend("python"), exhaustive_max_len=3)
    assert report.ok and report.checked == 15
