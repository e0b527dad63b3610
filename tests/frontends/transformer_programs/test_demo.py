"""The demo (``rasp tp demo``, what ``./dev main`` runs): its edit step, made on the IR whatever
the printer's layout, and a short run of the whole round trip."""

from __future__ import annotations

from pathlib import Path

from rasp_ir.api import format_program, ir, load_program
from rasp_ir.frontends.transformer_programs.demo import edit_program, run_demo

HEADER = '%vocab {"a", "b"}\n%max_len 4\n%bos "<s>"\n'
HEAD = (
    "num_attn_0_0_output : num = selector_width(select(tokens, tokens, "
    'fn(key, query) -> key == lookup(query, {"a": "b"}, default=query)));\n'
)
TABLE = 'mlp_0_0_output = map(fn(t) -> lookup(t, {"a": 2}, default=5), tokens);\n'


def _program(*lines: str, output: str) -> ir.Program:
    return load_program("t.rasp", text=HEADER + "".join(lines) + f"output {output};\n").program


def test_the_first_table_default_is_edited() -> None:
    program = _program(HEAD, TABLE, output="mlp_0_0_output")
    edited, what = edit_program(program)
    assert what == "mlp_0_0_output: table default 5 -> 6"
    assert "default=6" in format_program(edited)
    assert edited.binding("num_attn_0_0_output") == program.binding("num_attn_0_0_output")


def test_without_a_table_a_self_comparing_head_gets_equality() -> None:
    program = _program(HEAD, output="num_attn_0_0_output")
    edited, what = edit_program(program)
    assert what == "num_attn_0_0_output: predicate -> key == query"
    assert "select(tokens, tokens, ==)" in format_program(edited)


def test_nothing_to_edit() -> None:
    program = _program("mlp_0_0_output = tokens;\n", output="mlp_0_0_output")
    assert edit_program(program) == (program, "nothing to edit")


def test_a_short_round_trip(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(tmp_path, epochs=3, seed=2, echo=lines.append)
    steps = [row[0] for row in result["rows"]]
    assert steps == ["train", "lift + certify", "python backend", "compile back", "edit + compile"]
    assert "compiled model = edited program" in result["rows"][-1][1]
    assert "nothing to edit" not in result["rows"][-1][1]
    assert (tmp_path / "edited.rasp").exists() and (tmp_path / "summary.md").exists()
