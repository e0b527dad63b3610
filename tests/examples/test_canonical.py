"""Every program in the repository is in the formatter's canonical form (``rasp fmt --check``
passes on it), except the deliberately broken inputs of the diagnostics tests, whose exact
lines and columns their expected output pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rasp_ir.syntax.formatter import format_source

ROOT = Path(__file__).parents[2]
BROKEN_ON_PURPOSE = ROOT / "tests" / "rasp_ir" / "diagnostics"
PROGRAMS = sorted(
    path
    for folder in ("examples", "tests")
    for path in (ROOT / folder).rglob("*.rasp")
    if BROKEN_ON_PURPOSE not in path.parents
)


def test_the_repository_has_programs_to_check() -> None:
    assert len(PROGRAMS) >= 20


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_program_is_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text, path=str(path)) == text, f"run: rasp fmt --write {path}"


def test_the_readme_programs_are_canonical() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listings = re.findall(r"```\n(%vocab.*?)```", readme, re.DOTALL)
    assert listings
    for listing in listings:
        assert format_source(listing, path="README.md") == listing
