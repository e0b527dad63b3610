"""The Lark grammar of the RASP IR (``rasp.lark``), shipped as package data, and its keywords
read off it."""

import re
from functools import cache
from importlib import resources

_KEYWORD_DEFINITION = re.compile(r"^(\w+)\.\d+: (.+) _WORD_END$", re.MULTILINE)


def grammar_text() -> str:
    """The text of ``rasp.lark``."""
    return resources.files(__name__).joinpath("rasp.lark").read_text(encoding="utf-8")


@cache
def keyword_terminals() -> dict[str, tuple[str, ...]]:
    """Each whole-word terminal of the grammar (defined as ``NAME.2: "word" _WORD_END``) and
    the words it spells, in the grammar's order: ``{"_VOCAB": ("%vocab",), ...,
    "ENCODING": ("cat", "num")}``."""
    return {
        name: tuple(re.findall(r'"([^"]+)"', words))
        for name, words in _KEYWORD_DEFINITION.findall(grammar_text())
    }
