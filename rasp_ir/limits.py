"""The limits every command enforces up front, in one place: each is refused with a message
that names it, before the work it would make too long or too large starts.

They are sized so that a program within them is handled in seconds and within a few GiB of
memory on an ordinary machine (``benchmarks/large_programs.py`` measures the curve), and so that
no stage runs out of Python's stack: the front end, the checker, the printer, the interpreter
and the compilers all walk expressions and macro calls recursively.
"""

from __future__ import annotations

MAX_SOURCE_CHARS = 16_000_000
"""Largest program text (one file, or one imported file), in characters."""

MAX_NESTING = 100
"""Deepest nesting of an expression: operators, calls, ``if``/``else``, ``not``, function
literals and literals inside each other (parentheses do not count)."""

MAX_MACRO_DEPTH = 100
"""Deepest chain of ``def`` macros calling each other while one binding is expanded."""

MAX_NUMBER_DIGITS = 1000
"""Most digits of a number literal (and of its exponent)."""

MAX_LEN = 100_000
"""Largest ``%max_len`` (and ``--max-len``): value sets and tables grow with it."""

MAX_DOMAIN = 1_000_000
"""Most values a ``cat[N]`` annotation may declare."""

MAX_INPUTS = 2_000_000
"""Most inputs an exhaustive ``verify`` runs."""

MAX_STATEMENTS = 200_000
"""Most statements (bindings, defs, imports, outputs) of one file."""

MAX_BINDINGS = 400_000
"""Most bindings of a program, the nested expressions it names included."""

MAX_LITERAL_ITEMS = 1_000_000
"""Most entries of one lookup table or set literal."""

MAX_VOCAB = 200_000
"""Most tokens of a vocabulary (``%vocab`` or ``--vocab``)."""
