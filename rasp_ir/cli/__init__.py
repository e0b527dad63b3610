"""The ``rasp`` command line: argv in, program results on stdout and diagnostics on stderr.

:mod:`rasp_ir.cli.main` parses arguments and turns every :class:`~rasp_ir.diagnostics.RaspError`
into rendered diagnostics and exit code 1. Each command group lives in its own module with a
``register(subparsers)`` function; adding a command is adding a module and one line to
:data:`rasp_ir.cli.main.COMMAND_MODULES`.
"""
