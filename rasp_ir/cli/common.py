"""Argument-parser pieces shared by the commands: the header options (``--vocab``,
``--max-len``) and loading a checked program with its warnings reported; a command's parser
and ``--line-width`` come from :mod:`rasp_ir.cli.arguments` (and are importable from here)."""

from __future__ import annotations

import argparse
import json

from rasp_ir.check import CheckResult, load_program
from rasp_ir.cli.arguments import Handler as Handler
from rasp_ir.cli.arguments import Subparsers as Subparsers
from rasp_ir.cli.arguments import add_command as add_command
from rasp_ir.cli.arguments import add_line_width_option as add_line_width_option
from rasp_ir.cli.output import err, report
from rasp_ir.inputs import describe_vocab, parse_max_len, parse_vocab
from rasp_ir.syntax import HeaderOverrides
from rasp_ir.values import Value


def add_header_options(parser: argparse.ArgumentParser) -> None:
    """``--vocab`` and ``--max-len``, which override the program header."""
    parser.add_argument(
        "--vocab",
        type=vocab_option,
        metavar="V",
        help="override %%vocab: a comma-separated list (a,b,c / 1,2,3 / true,false), "
        'a word read as its characters (abc), or a JSON array (\'["a", "b"]\')',
    )
    parser.add_argument("--max-len", type=parse_max_len, metavar="N", help="override %%max_len")


def vocab_option(text: str) -> tuple[Value, ...]:
    """A ``--vocab`` value, as :func:`parse_vocab` reads it, except that one word of several
    characters (no comma, no space, not a number) is read as its characters, as ``--chars``
    reads an input; a note on stderr says so and how to ask for the single token instead."""
    vocab = parse_vocab(text)
    word = vocab[0]
    if len(vocab) > 1 or not isinstance(word, str) or text.strip().startswith("["):
        return vocab
    if len(word) < 2 or any(c.isspace() for c in word):
        return vocab
    chars = parse_vocab(",".join(word))
    err(
        f"note: --vocab {word} read as {len(chars)} one-character tokens "
        f"({describe_vocab(chars)}); for the single token, write --vocab "
        f"'{json.dumps([word], ensure_ascii=False)}'"
    )
    return chars


def header_overrides(args: argparse.Namespace) -> HeaderOverrides:
    """The header overrides given on the command line."""
    return HeaderOverrides(vocab=args.vocab, max_len=args.max_len)


def load_checked(path: str, overrides: HeaderOverrides) -> CheckResult:
    """Parse and check the program at ``path``; warnings go to stderr, errors raise."""
    result = load_program(path, overrides=overrides)
    report(result.warnings)
    return result
