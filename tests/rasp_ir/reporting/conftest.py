"""The browser, found or installed once per session."""

from __future__ import annotations

import pytest

from tests.rasp_ir.reporting.browser import Browser, find_or_install_chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path; the test is skipped, with the reason, where none can be installed."""
    browser: Browser = find_or_install_chromium()
    if browser.path is None:
        pytest.skip(f"no headless browser: {browser.reason}")
    return browser.path
