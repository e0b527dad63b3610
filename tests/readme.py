"""The README's shell blocks for the tests that run them: README.md in, argv lists out (with
the comment beside each line, which is what the README promises the command gives)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def bash_blocks() -> list[str]:
    """Every ``bash`` block of the README, continued lines joined."""
    return [block.replace("\\\n", " ") for block in BASH_BLOCK.findall(README.read_text("utf-8"))]


def readme_block(first: str) -> list[tuple[list[str], str]]:
    """The one ``bash`` block whose first command starts with the words of ``first``: each
    line's argv and the comment beside it."""
    wanted = shlex.split(first)
    blocks = [
        [(shlex.split(line, comments=True), line.partition("#")[2].strip()) for line in lines]
        for lines in (block.splitlines() for block in bash_blocks())
    ]
    (block,) = [block for block in blocks if block[0][0][: len(wanted)] == wanted]
    return block


def readme_commands() -> list[list[str]]:
    """Every command of every ``bash`` block as an argv list, comments dropped."""
    lines = [line for block in bash_blocks() for line in block.splitlines()]
    return [words for words in (shlex.split(line, comments=True) for line in lines) if words]
