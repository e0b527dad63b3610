"""Finding the browser: where none can be installed, the reason says why (the browser test is
then skipped with it, never passed)."""

from __future__ import annotations

import shutil

import pytest

from tests.rasp_ir.reporting import browser


def test_no_browser_and_no_install_allowed_gives_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("RASP_NO_BROWSER_INSTALL", "1")
    found = browser.find_or_install_chromium()
    assert found.path is None
    assert found.reason == "no chromium on PATH and RASP_NO_BROWSER_INSTALL=1"


def test_no_apt_gives_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("RASP_NO_BROWSER_INSTALL", raising=False)
    found = browser.find_or_install_chromium()
    assert found.path is None
    assert "apt-get is missing or we are not root" in found.reason
