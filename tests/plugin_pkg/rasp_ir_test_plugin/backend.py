"""``echo``: a whole third-party rasp-ir backend in one file.

It lowers a program to a JSON description (one entry per binding, written by one rule per op
kind) and runs it with the reference interpreter. It declares only part of the IR's features,
so that unsupported constructs are reported before lowering.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from rasp_ir.api import ALL_FEATURES, Outputs, Value, format_value, interpret, ir, require_supported

Rule = Callable[[Any], dict[str, Any]]

# One small rule per op kind; a kind without a rule is not lowered.
RULES: dict[type, Rule] = {
    ir.Full: lambda node: {"op": "full", "value": format_value(node.value)},
    ir.Map: lambda node: {"op": "map", "inputs": list(node.inputs)},
    ir.Select: lambda node: {"op": "select", "keys": node.keys, "queries": node.queries},
    ir.SelectorAnd: lambda node: {"op": "and", "args": [node.left, node.right]},
    ir.SelectorOr: lambda node: {"op": "or", "args": [node.left, node.right]},
    ir.Aggregate: lambda node: {"op": "aggregate", "selector": node.selector, "sop": node.sop},
    ir.SelectorWidth: lambda node: {"op": "selector_width", "selector": node.selector},
    ir.PooledVote: lambda node: {"op": "pooled_vote", "selector": node.selector},
}


class EchoBackend:
    """Programs to JSON, run by the interpreter."""

    name = "echo"
    description = "the program as JSON, run by the reference interpreter (a test plugin)"
    features = ALL_FEATURES - {"select_closest", "selector_not", "causal"}
    suffix = ".json"

    def lower(self, program: ir.Program) -> str:
        require_supported(self, program)
        bindings = {b.name: RULES[type(b.node)](b.node) for b in program.bindings}
        return json.dumps({"bindings": bindings, "outputs": list(program.outputs)}, indent=2)

    def runner(
        self, program: ir.Program, artifact: Any
    ) -> Callable[[Sequence[Sequence[Value]]], Outputs]:
        def run(inputs: Sequence[Sequence[Value]]) -> Outputs:
            return interpret(program, inputs).outputs()

        return run


BACKEND = EchoBackend()
