"""A compiled model as ``rasp report`` and ``rasp explain`` see it: its program, and its
residual stream after every sublayer with the residual labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.backends.torch import BACKEND, save_model
from rasp_ir.backends.torch.report_view import model_trace
from rasp_ir.cli.main import main
from rasp_ir.diagnostics import RaspError
from rasp_ir.syntax import parse_program

from .helpers import program

REVERSE = """\
%vocab {"a", "b", "c"}
%max_len 4
%bos "<s>"
opp = length - indices;
flip = select(indices, opp, ==);
reverse = aggregate(flip, tokens);
output reverse;
"""


def test_the_residual_stream_of_every_sublayer_with_its_labels() -> None:
    model = BACKEND.lower(program(REVERSE))
    inputs = [["a", "b", "c"], ["c"]]
    trace = model_trace(model, inputs)
    layers = model.config.n_layers
    assert trace.stages == (
        "embedding",
        *(f"L{n} {part}" for n in range(1, layers + 1) for part in ("attention", "mlp")),
    )
    assert trace.labels == model.residual_labels
    assert trace.positions == (
        ("0:sink", '1:"<s>"', '2:"a"', '3:"b"', '4:"c"'),
        ("0:sink", '1:"<s>"', '2:"c"'),
    )
    assert trace.values.shape == (2 * layers + 1, 2, 5, model.config.d_model)
    ids, lengths = model.encode(inputs)
    with torch.no_grad():
        final, _, _ = model.forward(ids, lengths)
    assert np.array_equal(trace.values[-1], final.double().numpy())
    assert trace.attention is not None
    assert trace.attention.shape == (layers, 2, model.config.n_heads, 5, 5)
    rows = trace.attention[:, 0].sum(axis=-1)
    assert np.allclose(rows, 1.0)  # softmax rows over the allowed keys


def test_the_view_of_a_saved_model_and_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = BACKEND.lower(program(REVERSE))
    save_model(model, tmp_path / "reverse")
    view = BACKEND.report_view(tmp_path / "reverse")
    assert view is not None and view.trace is not None
    assert parse_program(view.program_text, "<saved>") == program(REVERSE)
    assert BACKEND.report_view(tmp_path / "nothing") is None
    assert BACKEND.report_view(tmp_path / "nothing", member=3) is None
    with pytest.raises(RaspError, match="is a compiled model, not a population"):
        BACKEND.report_view(tmp_path / "reverse", member=3)
    out = tmp_path / "reverse.html"
    assert main(["report", str(tmp_path / "reverse.json"), "--input", "a b c", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    stages = 2 * model.config.n_layers + 1
    assert page.count('<figure class="residual">') == stages
    heads = model.config.n_layers * model.config.n_heads
    assert page.count('<figure class="attention">') == heads
    assert page.count('<svg class="heatmap"') == stages + heads + 1  # and the selector flip
    assert main(["explain", str(tmp_path / "reverse"), "a", "b", "c", "--position", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith('reverse[1] = "c": ')
