"""``rasp``: argv in, an exit code out; every :class:`RaspError` becomes rendered diagnostics on
stderr and exit code 1, Ctrl-C exit code 130, never a traceback."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rasp_ir import __version__
from rasp_ir.cli.output import report
from rasp_ir.diagnostics import Diagnostic, RaspError

# One line per command module; each module has register(subparsers).
COMMAND_MODULES = (
    "rasp_ir.cli.run",
    "rasp_ir.cli.inspect_cmds",
    "rasp_ir.cli.fmt",
    "rasp_ir.cli.graph",
    "rasp_ir.cli.tour",
    "rasp_ir.cli.repl",
    "rasp_ir.cli.compile_cmd",
    "rasp_ir.cli.verify_cmd",
    "rasp_ir.cli.backends_cmd",
    "rasp_ir.frontends.transformer_programs.cli",
)

EPILOG = """\
examples:
  rasp run examples/reverse.rasp --chars hello
  rasp check examples/reverse.rasp
  rasp tour
  rasp repl

Run 'rasp COMMAND --help' for a command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command in :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="rasp",
        description="Run, check, format and draw RASP programs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rasp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``); the exit code."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except RaspError as error:
        report(error.diagnostics)
        return 1
    except SystemExit as exit_:  # argparse: --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `rasp run ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as error:  # a folder that cannot be created, a full disk, no permission
        where = f" {error.filename}" if error.filename else ""
        hint = "check the path and its permissions, and the free space"
        report([Diagnostic("file", f"cannot use{where}: {error.strerror or error}", None, hint)])
        return 1


if __name__ == "__main__":
    sys.exit(main())
