"""``rasp lift``: a frontend name and its source in, the exact program and its certificate on
disk out (lifting fails, exit 1, unless program and source agree everywhere they were compared)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rasp_ir.atomic_files import write_text_atomically
from rasp_ir.cli.common import add_command
from rasp_ir.cli.output import out
from rasp_ir.diagnostics import RaspError
from rasp_ir.frontend import Lifted, LiftOptions, check_settings
from rasp_ir.registry import load_frontend

if TYPE_CHECKING:
    from rasp_ir.cli.common import Subparsers

EPILOG = """\
The certificate (OUT.certificate.json unless --certificate) records the source, how the inputs
were chosen (a whole split, every input up to a length, random samples), the positions compared
and the agreement. --set KEY=VALUE passes a setting only that frontend understands ('rasp
frontends' lists them).

examples:
  rasp frontends
  rasp lift --frontend transformer_programs runs/hist -o hist.rasp
  rasp lift --frontend transformer_programs runs/hist -o best.rasp --set checkpoint=best
"""


def register(subparsers: Subparsers) -> None:
    """Add ``rasp lift``."""
    parser = add_command(
        subparsers,
        "lift",
        lift_command,
        summary="lift a trained model (or machine) into an exact program with a certificate",
        description="Lift SOURCE with a frontend into a RASP program, checked against the source.",
        epilog=EPILOG,
    )
    parser.add_argument("source", type=Path, metavar="SOURCE", help="what the frontend reads")
    parser.add_argument("--frontend", "-f", required=True, metavar="NAME", help="'rasp frontends'")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.rasp")
    parser.add_argument("--certificate", type=Path, metavar="FILE")
    add_lift_options(parser)
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        type=_setting,
        metavar="KEY=VALUE",
        help="a frontend-specific setting (repeatable)",
    )


def add_lift_options(parser: argparse.ArgumentParser, *, max_len: bool = True) -> None:
    """``--exhaustive-limit``, ``--samples`` (alias ``--fuzz``), ``--seed`` and, unless
    ``max_len`` is false, ``--max-len``: how much a lift checks."""
    defaults = LiftOptions()
    parser.add_argument(
        "--exhaustive-limit",
        type=nonnegative_int,
        default=defaults.exhaustive_limit,
        metavar="N",
        help="compare every input up to the longest length with at most N inputs in all "
        f"(default {defaults.exhaustive_limit})",
    )
    parser.add_argument(
        "--samples",
        "--fuzz",
        type=nonnegative_int,
        default=defaults.samples,
        metavar="N",
        help=f"and N random inputs (default {defaults.samples})",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the samples")
    if max_len:
        parser.add_argument(
            "--max-len",
            type=positive_int,
            metavar="N",
            help="the longest input (default: the source's)",
        )


def lift_options(args: argparse.Namespace, settings: list[tuple[str, str]]) -> LiftOptions:
    """The options :func:`add_lift_options` read, with ``settings``."""
    return LiftOptions(
        exhaustive_limit=args.exhaustive_limit,
        samples=args.samples,
        seed=args.seed,
        max_len=getattr(args, "max_len", None),
        settings=tuple(settings),
    )


def write_lifted(lifted: Lifted, output: Path, certificate: Path | None) -> Path:
    """Write the program to ``output`` and its certificate beside it (or to ``certificate``);
    print one summary line; the certificate's path."""
    where = certificate or output.with_suffix(".certificate.json")
    text = lifted.text
    try:
        write_text_atomically(output, text)
    except OSError as error:
        raise RaspError.single("file", f"cannot write {output}: {error.strerror}") from None
    lifted.certificate.write(where)
    cert = lifted.certificate
    out(
        f"{output}: {len(text.splitlines())} lines, agreement {cert.agreement:.0%} on "
        f"{cert.positions_compared} positions; certificate {where}"
    )
    return where


def lift_command(args: argparse.Namespace) -> int:
    """Lift, certify, write the program and its certificate."""
    frontend = load_frontend(args.frontend)
    options = lift_options(args, args.settings)
    check_settings(frontend, options)
    lifted = frontend.lift(args.source, options)
    write_lifted(lifted, args.output, args.certificate)
    return 0


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def nonnegative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
