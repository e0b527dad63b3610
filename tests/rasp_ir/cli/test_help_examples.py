"""Every example in a command's ``--help`` (the ``rasp ...`` lines of its epilog, the shell's
redirections and pipes left out) is accepted by the CLI's parser."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import pytest

from rasp_ir.cli.main import build_parser

SHELL_OPERATORS = {"<", ">", ">>", "|", "&&", ";"}


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """The parser and every subcommand's, each with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def _example_argv(line: str) -> list[str]:
    """The arguments ``rasp`` gets from an example line: its words up to a comment or a shell
    operator, without the leading ``rasp``."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    for word in lexer:
        if word in SHELL_OPERATORS:
            break
        words.append(word)
    return words[1:]


def _examples() -> list[tuple[str, list[str]]]:
    examples = []
    for path, parser in _parsers(build_parser()):
        for line in (parser.epilog or "").splitlines():
            if line.strip().startswith("rasp "):
                examples.append((" ".join(path) or "rasp", _example_argv(line.strip())))
    return examples


EXAMPLES = _examples()


def test_the_help_texts_show_examples() -> None:
    assert len(EXAMPLES) > 90
    assert ("tp", ["tp", "train", "double_hist", "-o", "runs/dhs", "--seeds", "0-3",
            "--recipe", "robust"]) in EXAMPLES  # fmt: skip


@pytest.mark.parametrize(
    "argv", [pytest.param(argv, id=f"{command}: {' '.join(argv)}") for command, argv in EXAMPLES]
)
def test_every_help_example_parses(argv: list[str]) -> None:
    args = build_parser(argv[0]).parse_args(argv)
    assert callable(args.handler)
