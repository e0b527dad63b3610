"""The Lark grammar of the RASP IR (``rasp.lark``), shipped as package data."""

from importlib import resources


def grammar_text() -> str:
    """The text of ``rasp.lark``."""
    return resources.files(__name__).joinpath("rasp.lark").read_text(encoding="utf-8")
