"""``rasp frontends``, ``rasp lift`` and command plugins: what a user sees and the exit codes.

Uses the test plugin (``tests/plugin_pkg``): frontend ``tokenmap`` and command ``echo-stats``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rasp_ir.api import certificate_from_json, load_program
from tests.rasp_ir.cli.conftest import Result

Rasp = Callable[..., Result]
Program = Callable[..., Path]
TABLE = '{"max_len": 3, "map": {"a": "x", "b": "y", "c": "x"}}'
LIFTED = """\
%vocab chars "abc"
%max_len 3

substituted = map(fn(t) -> lookup(t, {"a": "x", "b": "y", "c": "x"}), tokens);

output substituted;
"""


def test_help_lists_plugin_commands_beside_the_hubs(rasp: Rasp) -> None:
    result = rasp("--help")
    assert result.code == 0
    for command in ("run", "lift", "frontends", "backends", "tp", "echo-stats"):
        assert f"    {command}" in result.out, command


def test_frontends_lists_names_descriptions_settings_and_providers(rasp: Rasp) -> None:
    result = rasp("frontends")
    assert result.code == 0
    lines = result.out.splitlines()
    tokenmap = next(line for line in lines if line.startswith("tokenmap "))
    assert "(--set output)" in tokenmap
    assert tokenmap.endswith("[rasp-ir-test-plugin]")
    tp = next(line for line in lines if line.startswith("transformer_programs "))
    assert "(--set checkpoint, member)" in tp
    assert tp.endswith("[rasp-ir]")


def test_lift_writes_the_program_and_its_certificate(
    rasp: Rasp, program: Program, tmp_path: Path
) -> None:
    source = program(TABLE, "table.json")
    out = tmp_path / "lifted.rasp"
    result = rasp("lift", "--frontend", "tokenmap", source, "-o", out, "--samples", "7")
    assert result.code == 0, result.err
    certificate_path = tmp_path / "lifted.certificate.json"
    assert result.out == (
        f"{out}: 6 lines, agreement 100% on 123 positions; certificate {certificate_path}\n"
    )
    assert out.read_text(encoding="utf-8") == LIFTED
    certificate = certificate_from_json(json.loads(certificate_path.read_text(encoding="utf-8")))
    assert certificate.frontend == "tokenmap"
    assert certificate.source.path == str(source)
    assert [(c.name, c.selection, c.inputs) for c in certificate.checks] == [
        ("exhaustive", "exhaustive", 39),
        ("samples", "samples", 7),
    ]
    assert load_program(out).program.outputs == ("substituted",)


def test_lift_passes_settings_and_max_len(rasp: Rasp, program: Program, tmp_path: Path) -> None:
    source = program(TABLE, "table.json")
    out = tmp_path / "lifted.rasp"
    result = rasp(
        "lift", "-f", "tokenmap", source, "-o", out, "--set", "output=y", "--max-len", "2"
    )
    assert result.code == 0, result.err
    lifted = load_program(out).program
    assert (lifted.outputs, lifted.header.max_len) == (("y",), 2)


def test_lift_refuses_an_unknown_setting_naming_the_accepted_ones(
    rasp: Rasp, program: Program, tmp_path: Path
) -> None:
    source = program(TABLE, "table.json")
    result = rasp("lift", "-f", "tokenmap", source, "-o", tmp_path / "x.rasp", "--set", "k=1")
    assert result.code == 1
    assert result.err.startswith("error: the tokenmap frontend has no setting 'k' [usage]")
    assert "settings it accepts: output (" in result.err
    assert not (tmp_path / "x.rasp").exists()


def test_lift_with_an_unknown_frontend_or_a_bad_setting(rasp: Rasp, tmp_path: Path) -> None:
    result = rasp("lift", "-f", "nope", tmp_path, "-o", tmp_path / "x.rasp")
    assert result.code == 1
    assert result.err.startswith("error: no frontend named 'nope' [plugin]")
    assert "transformer_programs" in result.err
    result = rasp("lift", "-f", "tokenmap", tmp_path, "-o", tmp_path / "x.rasp", "--set", "k")
    assert result.code == 2
    assert "expected KEY=VALUE, got 'k'" in result.err


def test_lift_reports_an_unreadable_source(rasp: Rasp, tmp_path: Path) -> None:
    result = rasp("lift", "-f", "tokenmap", tmp_path / "missing.json", "-o", tmp_path / "x.rasp")
    assert result.code == 1
    assert result.err.startswith(f"error: cannot read {tmp_path / 'missing.json'}")
    assert "Traceback" not in result.err


def test_a_plugin_command_runs(rasp: Rasp) -> None:
    sort = Path(__file__).parents[3] / "examples" / "sort.rasp"
    result = rasp("echo-stats", sort)
    assert result.code == 0
    assert result.out.splitlines()[0] == "select: 4"


def test_the_readme_plugin_backend_commands(rasp: Rasp, tmp_path: Path) -> None:
    sort = Path(__file__).parents[3] / "examples" / "sort.rasp"
    result = rasp("compile", sort, "--backend", "echo", "-o", tmp_path / "sort")
    assert result.code == 0
    assert result.err.endswith(f"wrote {tmp_path / 'sort.json'}\n")  # after sort's warning
    result = rasp(
        "verify", sort, "--backend", "echo", "--exhaustive", "--max-len", "5", "--vocab", "a,b,c"
    )
    assert result.code == 0
    assert result.out == (
        f'{sort}: checking every input of length 0 to 5 over 3 tokens ("a", "b", "c"): 364 inputs\n'
        f"{sort}: 364 inputs checked, 0 mismatches with the echo backend\n"
    )
