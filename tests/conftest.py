"""Settings for the whole suite."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Every process a test starts (the CLI, torchrun's workers) prints the Python stacks of
    all its threads if it dies of a signal (SIGABRT, SIGSEGV): a crash in CI shows where."""
    os.environ.setdefault("PYTHONFAULTHANDLER", "1")
