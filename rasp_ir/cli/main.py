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
from rasp_ir.registry import COMMAND_GROUP, installed, load_command

# The hub's own commands, one line per module; each module has register(subparsers). Every
# other command (``rasp tp`` included) arrives through the ``rasp_ir.commands`` entry points.
COMMAND_MODULES = (
    "rasp_ir.cli.run",
    "rasp_ir.cli.inspect_cmds",
    "rasp_ir.cli.fmt",
    "rasp_ir.cli.expand",
    "rasp_ir.cli.graph",
    "rasp_ir.cli.tour",
    "rasp_ir.cli.repl",
    "rasp_ir.cli.lsp_cmd",
    "rasp_ir.cli.compile_cmd",
    "rasp_ir.cli.verify_cmd",
    "rasp_ir.cli.fuzz_cmd",
    "rasp_ir.cli.lift_cmd",
    "rasp_ir.cli.plugins_cmd",
    "rasp_ir.cli.export_cmd",
    "rasp_ir.cli.report_cmd",
    "rasp_ir.cli.explain_cmd",
)
BUILT_IN = "rasp-ir (built in)"

EPILOG = """\
examples:
  rasp run examples/reverse.rasp --chars hello
  rasp check examples/reverse.rasp
  rasp tour
  rasp repl

Run 'rasp COMMAND --help' for a command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command in :data:`COMMAND_MODULES` and every installed command
    plugin; a plugin whose name is taken, or that adds no command of its name, is an error."""
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
    _add_plugin_commands(subparsers)
    return parser


def _add_plugin_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    built_in = set(subparsers.choices)
    for name, entry in sorted(installed(COMMAND_GROUP).items()):
        if name in built_in:
            raise RaspError.single(
                "plugin",
                f"two commands are named {name!r}: one from {BUILT_IN} and {entry.target} "
                f"(from {entry.provider})",
                hint="uninstall the plugin or rename its entry point",
            )
        load_command(name)(subparsers)
        if name not in subparsers.choices:
            raise RaspError.single(
                "plugin",
                f"the command plugin {entry.target} (from {entry.provider}) added no command "
                f"named {name!r}",
                hint="its register(subparsers) must add a subcommand named like its entry point",
            )


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
