"""Inputs for the commands that look inside an artifact (``rasp report``, ``rasp explain``):
command-line options in, typed token sequences checked against the program header out; and
which member of a population they look at (``--member``)."""

from __future__ import annotations

import argparse

from rasp_ir.batch_inputs import read_batch
from rasp_ir.diagnostics import Span
from rasp_ir.inputs import check_input, json_tokens, typed_tokens
from rasp_ir.ir import Header
from rasp_ir.values import Value


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """``--input`` (repeatable), ``--chars`` (repeatable) and ``--batch``."""
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="TOKENS",
        help='one input: tokens separated by spaces ("3 1 2") or a JSON array; repeatable',
    )
    parser.add_argument(
        "--chars",
        action="append",
        default=[],
        metavar="STRING",
        help="one input, one token per character; repeatable",
    )
    parser.add_argument("--batch", metavar="FILE", help="inputs, one JSON array of tokens per line")


def add_member_option(parser: argparse.ArgumentParser) -> None:
    """``--member SEED``: the member of a population (a run folder of many seeds) to look at."""
    parser.add_argument(
        "--member",
        type=int,
        metavar="SEED",
        help="in a population's folder (rasp tp train --seeds), the member trained with SEED "
        "(default: the one validation selects)",
    )


def inputs_from_args(args: argparse.Namespace, header: Header, where: str) -> list[list[Value]]:
    """Every input given, in the order --input, --chars, --batch, each checked."""
    inputs: list[list[Value]] = []
    for number, text in enumerate(args.input, start=1):
        span = Span(f"--input {number}", 1, 1, 1, len(text) + 1, text)
        if text.lstrip().startswith("["):
            tokens = json_tokens(text, header.vocab, span)
        else:
            tokens = typed_tokens(text.split(), header.vocab)
        check_input(tokens, header, where, span)
        inputs.append(tokens)
    for text in args.chars:
        tokens = typed_tokens(list(text), header.vocab)
        check_input(tokens, header, where)
        inputs.append(tokens)
    if args.batch is not None:
        inputs.extend(read_batch(args.batch, header, where).tokens(header.vocab))
    return inputs
