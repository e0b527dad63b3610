"""A lifted Transformer Program goes to TransformerLens as the README says: ``rasp tp lift``,
then ``rasp export --to transformer-lens``; TransformerLens's native model then gives the lifted
program's outputs (BOS included in its inputs) on every input of the run's test split."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rasp_ir.api import interpret, parse_file
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs import checkpoint, lift

lens = pytest.mark.skipif(
    importlib.util.find_spec("transformer_lens") is None,
    reason="the lens extra (transformer-lens) is not installed: pip install 'rasp-ir[lens]'",
)


@lens
def test_a_lifted_program_exports_to_transformer_lens(run_dir: Path, tmp_path: Path) -> None:
    from rasp_ir.backends.torch import load_hooked_transformer, read_lens_labels

    program_path = tmp_path / "hist.rasp"
    checks = ["--exhaustive-limit", "50", "--samples", "10"]
    assert main(["tp", "lift", str(run_dir), "-o", str(program_path), *checks]) == 0
    folder = tmp_path / "hist-tl"
    assert main(["export", str(program_path), "--to", "transformer-lens", "-o", str(folder)]) == 0
    program = parse_file(program_path)
    model = load_hooked_transformer(folder)
    labels = read_lens_labels(folder)
    assert labels.bos == "<s>"
    trained, _, _ = checkpoint.load(run_dir / "model")
    inputs = lift.test_inputs_of(run_dir, trained.config)[:100]
    inputs.sort(key=len)
    decoded: list[object] = []
    for length in sorted({len(x) for x in inputs}):
        batch = [x for x in inputs if len(x) == length]
        ids, mask = labels.encode(batch)
        decoded += labels.decode(model(ids, attention_mask=mask), mask)["prediction"]
    assert decoded == interpret(program, inputs).outputs()["prediction"]
