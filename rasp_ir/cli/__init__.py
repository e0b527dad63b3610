"""The ``rasp`` command line: argv in, program results on stdout and diagnostics on stderr.

:mod:`rasp_ir.cli.main` parses arguments and turns every :class:`~rasp_ir.diagnostics.RaspError`
into rendered diagnostics and exit code 1. Each of the hub's command groups lives in its own
module with a ``register(subparsers)`` function, listed with the commands it adds in
:data:`rasp_ir.cli.main.COMMAND_MODULES`; every other command is a plugin registered under the
``rasp_ir.commands`` entry-point group (a ``register(subparsers)`` function).
"""
