"""Rule tables keyed by op kind: a table, a binding and who is lowering it in, the binding's rule
out, or a :class:`~rasp_ir.diagnostics.RaspError` naming the op and the backend.

Every interpretation of the IR (the interpreter, each backend) is one such table; a kind without
a rule is a clear error instead of a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError

Rule = TypeVar("Rule")


def rule_for(rules: Mapping[type, Rule], binding: ir.Binding, lowering: str) -> Rule:
    """The rule of ``binding``'s op kind in ``rules``; ``lowering`` names who applies it (``the
    torch backend``, ``the reference interpreter``) in the error when there is none."""
    rule = rules.get(type(binding.node))
    if rule is not None:
        return rule
    kind = type(binding.node).__name__
    raise RaspError.single(
        "missing-rule",
        f"{lowering} has no rule for {ir.kind_name(binding.node)} ({kind}), used by {binding.name}",
        binding.span,
        hint=f"add a rule for ir.{kind} to its table, or list the construct as unsupported "
        "in its features",
    )
