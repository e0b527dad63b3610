"""The catalogue: every installed backend x every catalogue program, through ``verify()``.

The programs are the example library (``examples/*.rasp``) and the programs of
``tests/catalogue/`` (shapes the examples do not have, e.g. a lifted Transformer Program). Each
pair is checked against the reference interpreter on every input up to length :data:`SHORT` over
the program's own vocabulary when that gives at most :data:`EXHAUSTIVE_LIMIT` inputs from length
3 (else over a vocabulary cut to :data:`SMALL_VOCAB` symbols), and on :data:`SAMPLES` random
inputs of the program's own maximum length. A backend that cannot lower a program is listed in
:data:`UNSUPPORTED` with the reason, and must refuse it with exactly that reason; a backend
installed later (a plugin) is checked on every program the moment it is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rasp_ir.api import (
    BACKEND_GROUP,
    HeaderOverrides,
    RaspError,
    Value,
    input_count,
    installed,
    ir,
    load_backend,
    load_program,
    value_key,
    verify,
)

ROOT = Path(__file__).parents[1]
PROGRAMS = sorted(
    [*(ROOT / "examples").glob("*.rasp"), *(ROOT / "tests" / "catalogue").glob("*.rasp")]
)
BACKENDS = sorted(installed(BACKEND_GROUP))
SMALL_VOCAB = 4
SHORT = 5
EXHAUSTIVE_LIMIT = 2_000
SAMPLES = 500

# (backend, program) -> the first diagnostic's message when lowering refuses the program. The
# tp backend compiles only programs of the shape 'rasp tp lift' writes (named heads and MLPs,
# %bos, no length, no selector logic, no numerical mean).
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("echo", "tp_hist.rasp"): "attn_0_0_output__select_closest uses select closest, which the "
    "echo backend does not support",
    ("echo", "bos_closest_tokens.rasp"): "nearest_smaller__select_closest uses select closest, "
    "which the echo backend does not support",
    ("echo", "causal_closest.rasp"): "the program uses causal, which the echo backend does not "
    "support",
    ("tp", "bos_closest_tokens.rasp"): "a Transformer Program has one output: the readout map",
    ("tp", "causal_closest.rasp"): "others uses selector not, which the tp backend does not "
    "support",
    ("tp", "count.rasp"): "'is_a_key' is not a Transformer Programs variable",
    ("tp", "count_less_freq.rasp"): "'hist' is not a Transformer Programs variable",
    ("tp", "detect_pattern.rasp"): "'a_two_back' is not a Transformer Programs variable",
    (
        "tp",
        "double_hist.rasp",
    ): "earlier_copies__and uses selector and, which the tp backend does not support",
    ("tp", "dyck1.rasp"): "balance uses aggregate mean num, which the tp backend does not support",
    (
        "tp",
        "dyck2.rasp",
    ): "earlier_same_level uses selector and, which the tp backend does not support",
    (
        "tp",
        "frac_prevs.rasp",
    ): "frac_prevs uses aggregate mean num, which the tp backend does not support",
    ("tp", "hist.rasp"): "'same_token' is not a Transformer Programs variable",
    ("tp", "length.rasp"): "'everything' is not a Transformer Programs variable",
    (
        "tp",
        "pair_balance.rasp",
    ): "opens uses aggregate mean num, which the tp backend does not support",
    ("tp", "reverse.rasp"): "opp uses length, which the tp backend does not support",
    ("tp", "shift_by.rasp"): 'a Transformer Program needs %bos "<s>" and a vocabulary of strings',
    (
        "tp",
        "shuffle_dyck2.rasp",
    ): "paren_balance uses aggregate mean num, which the tp backend does not support",
    ("tp", "sort.rasp"): "before_me__and uses selector and, which the tp backend does not support",
    (
        "tp",
        "sort_by_freq.rasp",
    ): "before_me__and uses selector and, which the tp backend does not support",
    ("tp", "sort_unique.rasp"): "'smaller' is not a Transformer Programs variable",
    ("torch", "tp_pooled_vote.rasp"): "prediction uses pooled vote, which the torch backend does "
    "not support",
    ("triton", "tp_pooled_vote.rasp"): "prediction uses pooled vote, which the triton backend "
    "does not support",
}


def _literals(expr: ir.Expr) -> list[Value]:
    if isinstance(expr, ir.Const):
        return [expr.value]
    if isinstance(expr, ir.Member):
        return [*expr.options, *_literals(expr.element)]
    if isinstance(expr, ir.Lookup):
        keys = [v for key, _ in expr.entries for v in key]
        return keys + [v for k in expr.keys for v in _literals(k)] + _literals(expr.default)
    fields = ("operand", "left", "right", "cond", "then", "orelse")
    children = [getattr(expr, f, None) for f in fields]
    found = [v for child in children if child is not None for v in _literals(child)]
    return found + [v for arg in getattr(expr, "args", ()) for v in _literals(arg)]


def reduced_vocab(program: ir.Program) -> tuple[Value, ...]:
    """At most SMALL_VOCAB tokens: those the program names first, then the first declared."""
    mentioned: list[Value] = []
    for binding in program.bindings:
        node = binding.node
        if isinstance(node, ir.Map):
            mentioned += _literals(node.fn.body)
        if isinstance(node, (ir.Select, ir.SelectClosest)) and isinstance(
            node.predicate, ir.Lambda
        ):
            mentioned += _literals(node.predicate.body)
    vocab = {value_key(v): v for v in program.header.vocab}
    chosen = {value_key(v): v for v in mentioned if value_key(v) in vocab}
    for key, token in vocab.items():
        chosen.setdefault(key, token)
    return tuple(chosen.values())[:SMALL_VOCAB]


def _small_form(path: Path, program: ir.Program) -> tuple[ir.Program, int]:
    """The program to check exhaustively and up to which length: the program itself up to the
    longest length with at most EXHAUSTIVE_LIMIT inputs, if that is 3 or more; otherwise the
    program over its reduced vocabulary, up to SHORT."""
    size, longest = len(program.header.vocab), min(SHORT, program.header.max_len)
    length = max(n for n in range(longest + 1) if input_count(size, n) <= EXHAUSTIVE_LIMIT)
    if length >= 3 or length == longest:
        return program, length
    overrides = HeaderOverrides(vocab=reduced_vocab(program), max_len=SHORT)
    return load_program(path, overrides=overrides).program, SHORT


def _pairs() -> list[tuple[str, Path]]:
    return [(backend, path) for backend in BACKENDS for path in PROGRAMS]


def test_the_catalogue_covers_the_built_in_backends_and_programs() -> None:
    assert {"python", "torch", "tp"} <= set(BACKENDS)
    assert len(PROGRAMS) >= 17
    known = {(backend, path.name) for backend, path in _pairs()}
    assert set(UNSUPPORTED) <= known, "an UNSUPPORTED entry names no installed pair"


@pytest.mark.parametrize(
    ("backend_name", "path"), _pairs(), ids=lambda x: x if isinstance(x, str) else x.stem
)
def test_backend_equals_the_interpreter(backend_name: str, path: Path) -> None:
    backend = load_backend(backend_name)
    program = load_program(path).program
    reason = UNSUPPORTED.get((backend_name, path.name))
    if reason is not None:
        with pytest.raises(RaspError) as refused:
            backend.lower(program)
        assert refused.value.diagnostics[0].message == reason
        return
    small, length = _small_form(path, program)
    short = verify(small, backend, exhaustive_max_len=length)
    assert short.mismatches == []
    assert short.checked == input_count(len(small.header.vocab), length)
    sampled = verify(program, backend, samples=SAMPLES, seed=7)
    assert sampled.mismatches == []
    assert sampled.checked == SAMPLES
