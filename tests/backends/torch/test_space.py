"""The torch backend's space runner: the compiled model over slices of the exhaustive input
space answers the interpreter's codes (BOS position included), flags the inputs the interpreter
rejects, and its disagreements are found by ``verify``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.backends.torch import BACKEND, compile_program
from rasp_ir.backends.torch.space import TorchSpace
from rasp_ir.valuesets import infer_value_sets
from rasp_ir.verify import input_count, verify
from rasp_ir.verify_space import CodedBatch, InterpreterSpace, check_space
from tests.backends.torch.helpers import EXAMPLES, ROOT, example, program
from tests.test_catalogue import UNSUPPORTED

# Every example and catalogue program the torch backend compiles (the catalogue test checks
# that it refuses the others, with their reasons).
COMPILED = [
    path
    for path in [*EXAMPLES, *sorted((ROOT / "tests" / "catalogue").glob("*.rasp"))]
    if ("torch", path.name) not in UNSUPPORTED
]

CAT_MEAN = """\
%vocab {"a", "b"}
%max_len 3
first_a = aggregate(select(tokens, tokens, ==), indices);
flag = tokens == "a";
output flag, first_a;
"""


def _same(want: CodedBatch, have: CodedBatch) -> None:
    assert (want.lengths == have.lengths).all()
    assert (want.errors == have.errors).all()
    inside = np.arange(want.lengths.max(initial=0))[None, :] < want.lengths[:, None]
    valid = inside & ~want.errors[:, None]
    for name, codes in want.codes.items():
        assert (np.where(valid, codes, 0) == np.where(valid, have.codes[name], 0)).all(), name


@pytest.mark.parametrize("path", COMPILED, ids=lambda p: p.stem)
def test_the_space_runner_answers_the_interpreters_codes(path: Path) -> None:
    prog = example(path, max_len=4, vocab_size=3)
    space = BACKEND.space_runner(prog, compile_program(prog))
    total = input_count(len(prog.header.vocab), 4)
    _same(InterpreterSpace(prog)(0, total), space(0, total))


def test_slices_cut_anywhere_give_the_same_codes() -> None:
    prog = example(ROOT / "examples" / "sort.rasp", max_len=4, vocab_size=3)
    space = BACKEND.space_runner(prog, compile_program(prog))
    reference = InterpreterSpace(prog)
    for start, stop in ((0, 1), (3, 17), (38, 121)):
        _same(reference(start, stop), space(start, stop))


def test_inputs_the_interpreter_rejects_are_flagged() -> None:
    prog = program(CAT_MEAN)
    space = BACKEND.space_runner(prog, compile_program(prog))
    total = input_count(2, 3)
    have = space(0, total)
    assert have.errors.any() and not have.errors.all()
    _same(InterpreterSpace(prog)(0, total), have)


def test_a_wrong_model_is_caught_on_codes() -> None:
    prog = example(ROOT / "examples" / "reverse.rasp", max_len=3, vocab_size=3)
    model = compile_program(prog)
    with torch.no_grad():
        model.w_o.zero_()
    found: list[tuple[object, ...]] = []
    sets = dict(infer_value_sets(prog).sets)
    checked, _ = check_space(
        prog,
        sets,
        TorchSpace(prog, model),
        InterpreterSpace(prog),
        3,
        lambda tokens, name, want, got: found.append((tuple(tokens), name, want, got)),
        lambda tokens: ([], []),
    )
    assert checked == input_count(3, 3)
    assert found and found[0][1] == "reverse"


def test_verify_exhaustive_runs_through_the_space_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = example(ROOT / "examples" / "sort.rasp", max_len=4, vocab_size=3)
    calls: list[tuple[int, int]] = []
    original = TorchSpace.__call__

    def counted(self: TorchSpace, start: int, stop: int) -> CodedBatch:
        calls.append((start, stop))
        return original(self, start, stop)

    monkeypatch.setattr(TorchSpace, "__call__", counted)
    report = verify(prog, BACKEND, exhaustive_max_len=4)
    assert report.checked == input_count(3, 4) and not report.mismatches
    assert calls == [(0, input_count(3, 4))]
