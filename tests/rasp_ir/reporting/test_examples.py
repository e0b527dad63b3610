"""Every example of the catalogue, on every one of its cases: the report shows the outputs the
catalogue expects, and the cone of every output cell starts from that value."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from rasp_ir.check import load_program
from rasp_ir.inputs import json_tokens
from rasp_ir.reporting.collect import collect
from rasp_ir.reporting.page import render_page
from rasp_ir.reporting.sources import open_artifact
from rasp_ir.values import format_value

EXAMPLES = Path(__file__).parents[3] / "examples"
CASES: dict[str, Any] = json.loads((EXAMPLES / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_report_shows_what_the_catalogue_expects(name: str) -> None:
    path = str(EXAMPLES / name)
    vocab = load_program(path).program.header.vocab
    cases = CASES[name]["cases"]
    inputs = [json_tokens(json.dumps(case["input"]), vocab) for case in cases]
    data = collect(open_artifact(path), inputs)
    for case, example in zip(cases, data.examples, strict=True):
        rows = {row.name: row.cells for row in example.rows}
        for output, expected in case["outputs"].items():
            shown = tuple(format_value(_value(v)) for v in expected)
            assert rows[output] == shown, (name, case["input"], output)
            cones = dict(example.cones)
            for position, text in enumerate(shown):
                root = cones[f"{output}[{position}]"].splitlines()[0]
                assert root.startswith(f"{output}[{position}] = {text}: "), root
    assert render_page(data).count('<section class="example"') == len(cases)


def _value(json_value: object) -> Any:
    """A catalogue value as the interpreter gives it (``{"fraction": "1/2"}`` is 1/2)."""
    if isinstance(json_value, dict):
        return Fraction(json_value["fraction"])
    return json_value
