"""``rasp lsp``: listed by ``rasp --help``, and a clear error naming the extra without pygls."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

from tests.rasp_ir.cli.conftest import Result

Runner = Callable[..., Result]


def test_lsp_is_a_command(rasp: Runner) -> None:
    result = rasp("--help")
    assert "lsp" in result.out and "the language server for editors (stdio)" in result.out


def test_without_pygls_the_error_names_the_extra(
    rasp: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def without_pygls(name: str, package: str | None = None) -> object:
        return None if name == "pygls" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_pygls)
    result = rasp("lsp")
    assert result.code == 1
    assert result.err == (
        "error: rasp lsp needs pygls, which is not installed [extra]\n"
        "  hint: install the lsp extra: pip install 'rasp-ir[lsp]'\n"
    )
