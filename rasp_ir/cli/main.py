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

# The hub's own commands: each module's register(subparsers) adds the commands named beside it
# (a test checks them), so that ``rasp NAME`` imports NAME's module alone. Every other command
# (``rasp tp`` included) arrives through the ``rasp_ir.commands`` entry points.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "rasp_ir.cli.run": ("run",),
    "rasp_ir.cli.inspect_cmds": ("check",),
    "rasp_ir.cli.fmt": ("fmt",),
    "rasp_ir.cli.expand": ("expand",),
    "rasp_ir.cli.graph": ("graph",),
    "rasp_ir.cli.tour": ("tour",),
    "rasp_ir.cli.repl": ("repl",),
    "rasp_ir.cli.lsp_cmd": ("lsp",),
    "rasp_ir.cli.compile_cmd": ("compile",),
    "rasp_ir.cli.verify_cmd": ("verify",),
    "rasp_ir.cli.fuzz_cmd": ("fuzz",),
    "rasp_ir.cli.lift_cmd": ("lift",),
    "rasp_ir.cli.plugins_cmd": ("backends", "frontends"),
    "rasp_ir.cli.export_cmd": ("export",),
    "rasp_ir.cli.report_cmd": ("report",),
    "rasp_ir.cli.explain_cmd": ("explain",),
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
    With ``command`` one of the hub's own, or an installed plugin's, the parser of that command
    alone: the other modules and plugins (and what they import) are not loaded, which is most
    of a short command's time."""
    parser = argparse.ArgumentParser(
        prog="rasp",
        description="Run, check, format and draw RASP programs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rasp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    built_in = {name for names in COMMAND_MODULES.values() for name in names}
    plugins = installed(COMMAND_GROUP)
    _refuse_taken_names(built_in, plugins)
    alone = [module for module, names in COMMAND_MODULES.items() if command in names]
    if alone:
        modules, commands = alone, {}
    elif command in plugins:
        modules, commands = [], {command: plugins[command]}
    else:
        modules, commands = list(COMMAND_MODULES), plugins
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    _add_plugin_commands(subparsers, commands)
    return parser


def _refuse_taken_names(built_in: set[str], plugins: dict[str, PluginEntry]) -> None:
    for name, entry in sorted(plugins.items()):
        if name in built_in:
            raise RaspError.single(
                "plugin",
                f"two commands are named {name!r}: one from {BUILT_IN} and {entry.target} "
                f"(from {entry.provider})",
                hint="uninstall the plugin or rename its entry point",
            )


def _add_plugin_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    plugins: dict[str, PluginEntry],
) -> None:
    for name, entry in sorted(plugins.items()):
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
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(words[0] if words else None).parse_args(words)
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
