"""Golden tests of the classic program library in ``examples/``.

For every example: it parses and checks (only the expected warnings), its layer allocation is
pinned, every hand-computed case of ``examples/cases.json`` holds in the interpreter, the
vectorised interpreter equals a pure-Python reference implementation of the task (written here
from the definitions in rasp-semantics §13) on every short input over a reduced vocabulary and on
random inputs at the maximum length, and its canonical printed form is pinned by a golden file
and re-parses to an equal program.

Regenerate the golden files (after reviewing the diff) with
``RASP_UPDATE_GOLDEN=1 .venv/bin/pytest tests/examples``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

from rasp_ir.check import check_program
from rasp_ir.interpreter import interpret, run
from rasp_ir.printer import format_program
from rasp_ir.syntax import HeaderOverrides, parse_file, parse_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = json.loads((EXAMPLES / "cases.json").read_text(encoding="utf-8"))

Tokens = Sequence[str]
Outputs = list[object]


# ---------------------------------------------------------------- reference implementations
# Each takes the content tokens and returns the output sequence, straight from the task's
# definition (no RASP): exact rationals as Fraction (ints when integral), None for undefined.


def _exact(numerator: int, denominator: int) -> int | Fraction:
    x = Fraction(numerator, denominator)
    return x.numerator if x.denominator == 1 else x


def ref_length(x: Tokens) -> Outputs:
    return [len(x)] * len(x)


def ref_reverse(x: Tokens) -> Outputs:
    return list(reversed(x))


def ref_hist(x: Tokens) -> Outputs:
    counts = Counter(x)
    return [counts[t] for t in x]


def ref_double_hist(x: Tokens) -> Outputs:
    counts = Counter(x)
    return [sum(1 for u in counts if counts[u] == counts[t]) for t in x]


def ref_sort_unique(x: Tokens) -> Outputs:
    # Position p holds the token with exactly p smaller tokens (all such tokens are equal),
    # or None; for distinct tokens this is sorted(x).
    out: Outputs = []
    for p in range(len(x)):
        found = {t for t in x if sum(1 for y in x if y < t) == p}
        assert len(found) <= 1
        out.append(found.pop() if found else None)
    return out


def ref_sort(x: Tokens) -> Outputs:
    return [*sorted(x)]


def ref_sort_by_freq(x: Tokens) -> Outputs:
    counts = Counter(x)
    order = sorted(range(len(x)), key=lambda i: (-counts[x[i]], i))
    return [x[i] for i in order]


def ref_frac_prevs(x: Tokens) -> Outputs:
    return [_exact(sum(1 for t in x[: i + 1] if t == "x"), i + 1) for i in range(len(x))]


def ref_pair_balance(x: Tokens) -> Outputs:
    return [_exact(x[: i + 1].count("(") - x[: i + 1].count(")"), i + 1) for i in range(len(x))]


def _dyck(x: Tokens, pairs: dict[str, str]) -> Outputs:
    """Per-prefix T/P/F with a stack: F from the first unmatched or mismatched closer on."""
    openers = set(pairs.values())
    stack: list[str] = []
    failed = False
    out: Outputs = []
    for t in x:
        if not failed:
            if t in openers:
                stack.append(t)
            elif stack and stack[-1] == pairs[t]:
                stack.pop()
            else:
                failed = True
        out.append("F" if failed else "T" if not stack else "P")
    return out


def ref_dyck1(x: Tokens) -> Outputs:
    return _dyck(x, {")": "("})


def ref_dyck2(x: Tokens) -> Outputs:
    return _dyck(x, {")": "(", "}": "{"})


def ref_shuffle_dyck2(x: Tokens) -> Outputs:
    def balanced(opener: str, closer: str) -> bool:
        depth = 0
        for t in x:
            depth += (t == opener) - (t == closer)
            if depth < 0:
                return False
        return depth == 0

    verdict = 1 if balanced("(", ")") and balanced("{", "}") else 0
    return [verdict] * len(x)


def ref_detect_pattern(x: Tokens) -> Outputs:
    return [None if i < 2 else tuple(x[i - 2 : i + 1]) == ("a", "b", "c") for i in range(len(x))]


def ref_count(x: Tokens) -> Outputs:
    return [x.count("a")] * len(x)


def ref_count_less_freq(x: Tokens) -> Outputs:
    counts = Counter(x)
    rare = sum(1 for t in x if counts[t] <= 1)  # "<= n" with n = 1
    return [rare] * len(x)


def ref_shift_by(x: Tokens) -> Outputs:
    return [None, *x[:-1]] if x else []


# ---------------------------------------------------------------- the table of examples


def _dyck_like(alphabet: str) -> Callable[[random.Random, int], list[str]]:
    """Random inputs for bracket tasks: half uniform, half mostly well nested (so that T and
    P verdicts and late failures are common)."""
    pairs = [alphabet[i : i + 2] for i in range(0, len(alphabet), 2)]

    def generate(rng: random.Random, n: int) -> list[str]:
        if rng.random() < 0.5:
            return [rng.choice(alphabet) for _ in range(n)]
        out: list[str] = []
        stack: list[str] = []
        for _ in range(n):
            if stack and (rng.random() < 0.5 or len(stack) >= n - len(out)):
                closer = stack.pop()
                if rng.random() < 0.05:
                    closer = rng.choice(alphabet)
                out.append(closer)
            else:
                pair = rng.choice(pairs)
                out.append(pair[0])
                stack.append(pair[1])
        return out

    return generate


@dataclass(frozen=True)
class Example:
    output: str
    reference: Callable[[Tokens], Outputs]
    layers: int
    heads: tuple[int, ...]
    small_vocab: str
    small_length: int = 4
    warnings: tuple[str, ...] = ()
    generate: Callable[[random.Random, int], list[str]] | None = None
    verdicts: tuple[object, ...] = ()


EXAMPLE_TABLE: dict[str, Example] = {
    "length.rasp": Example("n", ref_length, 1, (1,), "abc"),
    "reverse.rasp": Example("reverse", ref_reverse, 2, (1, 1), "abcd"),
    "hist.rasp": Example("hist", ref_hist, 1, (1,), "abcd"),
    "double_hist.rasp": Example("double_hist", ref_double_hist, 2, (2, 1), "abcd"),
    "sort_unique.rasp": Example(
        "sort_unique", ref_sort_unique, 2, (1, 1), "abcd", warnings=("cat-mean-width",)
    ),
    "sort.rasp": Example("sort", ref_sort, 2, (1, 1), "abcd", warnings=("cat-mean-width",)),
    "sort_by_freq.rasp": Example(
        "sort_by_freq", ref_sort_by_freq, 3, (1, 1, 1), "abcd", warnings=("cat-mean-width",)
    ),
    "frac_prevs.rasp": Example("frac_prevs", ref_frac_prevs, 1, (1,), "xyz"),
    "pair_balance.rasp": Example("pair_balance", ref_pair_balance, 1, (1,), "()a"),
    "dyck1.rasp": Example(
        "dyck1",
        ref_dyck1,
        2,
        (1, 1),
        "()",
        small_length=10,
        generate=_dyck_like("()"),
        verdicts=("T", "P", "F"),
    ),
    "dyck2.rasp": Example(
        "dyck2",
        ref_dyck2,
        3,
        (1, 1, 1),
        "(){}",
        small_length=6,
        generate=_dyck_like("(){}"),
        verdicts=("T", "P", "F"),
    ),
    "shuffle_dyck2.rasp": Example(
        "shuffle_dyck2",
        ref_shuffle_dyck2,
        2,
        (2, 2),
        "(){}",
        small_length=6,
        generate=_dyck_like("(){}"),
        verdicts=(0, 1),
    ),
    "detect_pattern.rasp": Example("detect_pattern", ref_detect_pattern, 1, (2,), "abcd"),
    "count.rasp": Example("count", ref_count, 1, (1,), "abc"),
    "count_less_freq.rasp": Example("count_less_freq", ref_count_less_freq, 2, (1, 1), "abc"),
    "shift_by.rasp": Example("shift_by_1", ref_shift_by, 1, (1,), "abc"),
}
NAMES = sorted(EXAMPLE_TABLE)


# ---------------------------------------------------------------- helpers


def _tagged(values: Sequence[object]) -> list[tuple[str, object]]:
    """Values with their types, so that True != 1 and 1 != Fraction(1) in comparisons."""
    return [(type(v).__name__, v) for v in values]


def _from_json(value: object) -> object:
    if isinstance(value, dict):
        assert set(value) == {"fraction"}, value
        x = Fraction(value["fraction"])
        assert x.denominator != 1, f"write the integer {x} as a JSON number"
        return x
    return value


def _cases(name: str) -> list[tuple[list[str], dict[str, list[object]]]]:
    return [
        (
            case["input"],
            {out: [_from_json(v) for v in values] for out, values in case["outputs"].items()},
        )
        for case in CASES[name]["cases"]
    ]


# ---------------------------------------------------------------- tests


def test_every_example_has_cases_and_a_table_row() -> None:
    files = sorted(p.name for p in EXAMPLES.glob("*.rasp"))
    assert files == NAMES
    assert sorted(CASES) == NAMES
    for name in NAMES:
        assert isinstance(CASES[name]["tour"], str) and CASES[name]["tour"]
        assert len(CASES[name]["cases"]) >= 3
        lengths = {len(case["input"]) for case in CASES[name]["cases"]}
        max_len = parse_file(EXAMPLES / name).header.max_len
        assert 0 in lengths and max_len in lengths, name


@pytest.mark.parametrize("name", NAMES)
def test_parses_and_checks(name: str) -> None:
    result = check_program(parse_file(EXAMPLES / name))
    assert result.errors == []
    assert sorted(d.code for d in result.warnings) == sorted(EXAMPLE_TABLE[name].warnings)
    assert result.program.outputs == (EXAMPLE_TABLE[name].output,)


@pytest.mark.parametrize("name", NAMES)
def test_layer_allocation(name: str) -> None:
    allocation = check_program(parse_file(EXAMPLES / name)).allocation
    example = EXAMPLE_TABLE[name]
    assert allocation.n_layers == example.layers
    assert allocation.heads_per_layer == example.heads


@pytest.mark.parametrize("name", NAMES)
def test_cases(name: str) -> None:
    program = parse_file(EXAMPLES / name)
    reference = EXAMPLE_TABLE[name].reference
    cases = _cases(name)
    outputs = interpret(program, [tokens for tokens, _ in cases]).outputs()
    for b, (tokens, expected) in enumerate(cases):
        got = {out: _tagged(values[b]) for out, values in outputs.items()}
        assert got == {out: _tagged(values) for out, values in expected.items()}, tokens
        # The hand-computed expectations also agree with the reference implementation.
        assert _tagged(reference(tokens)) == _tagged(expected[EXAMPLE_TABLE[name].output])


@pytest.mark.parametrize("name", NAMES)
def test_tour_input(name: str) -> None:
    program = parse_file(EXAMPLES / name)
    example = EXAMPLE_TABLE[name]
    tokens = list(CASES[name]["tour"])
    assert _tagged(run(program, tokens)[example.output]) == _tagged(example.reference(tokens))


@pytest.mark.parametrize("name", NAMES)
def test_all_short_inputs_over_a_small_vocab(name: str) -> None:
    example = EXAMPLE_TABLE[name]
    vocab = tuple(example.small_vocab)
    overrides = HeaderOverrides(vocab=vocab, max_len=example.small_length)
    program = parse_file(EXAMPLES / name, overrides=overrides)
    assert program.header.vocab == vocab
    assert program.header.max_len == example.small_length
    inputs = [
        list(x) for n in range(example.small_length + 1) for x in itertools.product(vocab, repeat=n)
    ]
    got = interpret(program, inputs).values(example.output)
    mismatches = [
        (x, g, example.reference(x))
        for x, g in zip(inputs, got, strict=True)
        if _tagged(g) != _tagged(example.reference(x))
    ]
    assert mismatches == []


@pytest.mark.parametrize("name", NAMES)
def test_random_inputs_at_max_length(name: str) -> None:
    example = EXAMPLE_TABLE[name]
    program = parse_file(EXAMPLES / name)
    vocab = [str(t) for t in program.header.vocab]
    n = program.header.max_len
    rng = random.Random(f"examples/{name}")
    generate = example.generate or (lambda r, k: [r.choice(vocab) for _ in range(k)])
    inputs = [generate(rng, n) for _ in range(500)]
    assert all(len(x) == n and set(x) <= set(vocab) for x in inputs)
    got = interpret(program, inputs).values(example.output)
    mismatches = [
        (x, g, example.reference(x))
        for x, g in zip(inputs, got, strict=True)
        if _tagged(g) != _tagged(example.reference(x))
    ]
    assert mismatches == []
    if example.verdicts:
        # The generator reaches every verdict, not only the F that uniform inputs give.
        assert {v for values in got for v in values} == set(example.verdicts)


@pytest.mark.parametrize("name", NAMES)
def test_printed_form_is_golden_and_round_trips(name: str) -> None:
    program = parse_file(EXAMPLES / name)
    text = format_program(program)
    golden = GOLDEN / f"{name.removesuffix('.rasp')}.txt"
    if os.environ.get("RASP_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    again = parse_program(text, str(golden))
    assert again == program
    assert format_program(again) == text
