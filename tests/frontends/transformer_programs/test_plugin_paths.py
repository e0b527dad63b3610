"""Transformer Programs through the generic plugin paths, as a third-party spoke would be used:
``rasp lift --frontend transformer_programs``, ``rasp verify --backend tp`` and ``rasp compile
--backend tp`` (the ``rasp`` entry point in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasp_ir.api import (
    LiftOptions,
    RaspError,
    certificate_from_json,
    load_backend,
    load_frontend,
    load_program,
)
from rasp_ir.cli.main import main
from rasp_ir.frontends.transformer_programs import checkpoint

CHECKS = ("--exhaustive-limit", "300", "--samples", "50")


def _rasp(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_generic_lift_equals_rasp_tp_lift(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generic, friendly = tmp_path / "generic.rasp", tmp_path / "friendly.rasp"
    lift = ("lift", "--frontend", "transformer_programs", run_dir, "-o", generic)
    assert _rasp(capsys, *lift, *CHECKS)[0] == 0
    assert _rasp(capsys, "tp", "lift", run_dir, "-o", friendly, *CHECKS)[0] == 0
    assert generic.read_text(encoding="utf-8") == friendly.read_text(encoding="utf-8")
    certificates = [
        json.loads((tmp_path / f"{n}.certificate.json").read_text(encoding="utf-8"))
        for n in ("generic", "friendly")
    ]
    assert certificates[0] == certificates[1]
    certificate = certificate_from_json(certificates[0])
    assert certificate.frontend == "transformer_programs"
    assert certificate.agreement == 1.0
    assert {c.selection for c in certificate.checks} == {"split", "exhaustive", "samples"}


def test_lifted_program_verifies_and_compiles_with_the_tp_backend(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "hist.rasp"
    assert _rasp(capsys, "tp", "lift", run_dir, "-o", program, *CHECKS)[0] == 0
    code, out, _ = _rasp(
        capsys, "verify", program, "--backend", "tp", "--exhaustive", "--max-len", "5"
    )
    assert code == 0
    assert out.endswith(" inputs checked, 0 mismatches with the tp backend\n")
    compiled = tmp_path / "compiled"
    code, _, err = _rasp(capsys, "compile", program, "--backend", "tp", "-o", compiled)
    assert (code, err) == (0, f"wrote {compiled}\n")
    model, info, _ = checkpoint.load(compiled / "model")
    # the canonical text of the program compiled (comments are not part of the IR)
    assert (
        load_program("x", text=info.meta["program_text"]).program == load_program(program).program
    )
    assert model.config.n_ctx == load_program(program).program.header.max_len + 1


def test_the_frontend_refuses_an_unknown_checkpoint_and_max_len(run_dir: Path) -> None:
    frontend = load_frontend("transformer_programs")
    with pytest.raises(RaspError, match="unknown checkpoint 'last'"):
        frontend.lift(run_dir, LiftOptions(settings=(("checkpoint", "last"),)))
    with pytest.raises(RaspError, match="lifted at its own context length"):
        frontend.lift(run_dir, LiftOptions(max_len=4))


def test_the_tp_backend_refuses_what_the_architecture_cannot_express() -> None:
    text = (
        '%vocab {"a", "b"}\n%max_len 3\n%bos "<s>"\n'
        "w = selector_width(not select(tokens, tokens, ==));\noutput w;\n"
    )
    with pytest.raises(RaspError) as refused:
        load_backend("tp").lower(load_program("t.rasp", text=text).program)
    assert [d.message for d in refused.value.diagnostics] == [
        "w__not uses selector not, which the tp backend does not support"
    ]
