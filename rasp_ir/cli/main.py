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
from rasp_ir.registry import COMMAND_GROUP, PluginEntry, installed, load_command

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
# The module of each hub command, so that running one command imports only that module (a test
# checks that these are exactly the commands the modules above add).
HUB_COMMANDS = {
    "run": "rasp_ir.cli.run",
    "check": "rasp_ir.cli.inspect_cmds",
    "fmt": "rasp_ir.cli.fmt",
    "expand": "rasp_ir.cli.expand",
    "graph": "rasp_ir.cli.graph",
    "tour": "rasp_ir.cli.tour",
    "repl": "rasp_ir.cli.repl",
    "lsp": "rasp_ir.cli.lsp_cmd",
    "compile": "rasp_ir.cli.compile_cmd",
    "verify": "rasp_ir.cli.verify_cmd",
    "fuzz": "rasp_ir.cli.fuzz_cmd",
    "lift": "rasp_ir.cli.lift_cmd",
    "backends": "rasp_ir.cli.plugins_cmd",
    "frontends": "rasp_ir.cli.plugins_cmd",
    "export": "rasp_ir.cli.export_cmd",
    "report": "rasp_ir.cli.report_cmd",
    "explain": "rasp_ir.cli.explain_cmd",
}
BUILT_IN = "rasp-ir (built in)"

EPILOG = """\
examples:
  rasp run examples/reverse.rasp --chars hello
  rasp check examples/reverse.rasp
  rasp tour
  rasp repl

Run 'rasp COMMAND --help' for a command's options and examples.
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command in :data:`COMMAND_MODULES` and every installed command
    plugin; a plugin whose name is taken, or that adds no command of its name, is an error.

    With ``command`` (the command word of the arguments), only the module adding that command is
    imported when it is a known hub command or an installed plugin; otherwise every command is
    added, for the top-level help and the list of valid choices.
    """
    parser = argparse.ArgumentParser(
        prog="rasp",
        description="Run, check, format and draw RASP programs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rasp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugins = installed(COMMAND_GROUP)
    if command in HUB_COMMANDS:
        importlib.import_module(HUB_COMMANDS[command]).register(subparsers)
        _add_plugin_commands(subparsers, {n: e for n, e in plugins.items() if n == command})
    elif command in plugins:
        _add_plugin_commands(subparsers, {command: plugins[command]})
    else:
        for module_name in COMMAND_MODULES:
            importlib.import_module(module_name).register(subparsers)
        _add_plugin_commands(subparsers, plugins)
    return parser


def _add_plugin_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    plugins: dict[str, PluginEntry],
) -> None:
    """Add the command ``plugins``; one named like a command already added is an error."""
    built_in = set(subparsers.choices)
    for name, entry in sorted(plugins.items()):
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


def command_word(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``: its first word not starting with ``-`` (the top-level
    options take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``); the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser(command_word(argv)).parse_args(argv)
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
