"""``rasp tp``: lift and compile from the command line (the command module registered here)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from rasp_ir.frontends.transformer_programs import cli


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rasp")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def test_lift_then_compile(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "hist.rasp"
    args = ("--exhaustive-limit", "300", "--fuzz", "50")
    assert _run("tp", "lift", str(run_dir), "-o", str(program), *args) == 0
    certificate = json.loads((tmp_path / "hist.certificate.json").read_text())
    assert certificate["agreement"] == 1.0
    assert _run("tp", "compile", str(program), "-o", str(tmp_path / "compiled"), *args) == 0
    sidecar = json.loads((tmp_path / "compiled" / "model.json").read_text())
    assert sidecar["program_text"] == program.read_text()
    assert "agreement 100%" in capsys.readouterr().out
