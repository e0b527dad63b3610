"""A third-party rasp-ir plugin package: one backend, one frontend and one command, each in a
file of its own and each registered through its entry-point group (``pyproject.toml``), so that
rasp-ir finds them with no change to rasp-ir.

- :mod:`.backend`: ``echo``, programs to JSON, run by the reference interpreter;
- :mod:`.frontend`: ``tokenmap``, a JSON token-substitution table lifted into an exact program;
- :mod:`.command`: ``rasp echo-stats``, counts a program's bindings by kind.

Every import from rasp-ir goes through its public API, :mod:`rasp_ir.api`.
"""
