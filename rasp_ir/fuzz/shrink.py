"""Delta debugging: a :class:`~rasp_ir.fuzz.cases.Finding` and its check in, the smallest
program and input found that still fail the same way (:attr:`Finding.failure`) out.

Greedy: the candidates below are tried in order, the first that still fails is taken, and
the search restarts from it until no candidate fails or the time is up. Candidates, from the
biggest cut to the smallest: one output instead of several; a binding removed, its readers
reading one of its own operands (or a primitive) instead; the header without causal masking,
without BOS, with a shorter max_len or a smaller vocabulary; predicates, defaults and
function bodies made simpler; the input shorter, or with fewer distinct tokens. Every
candidate must print as text that parses back to it and passes the checker, so what
is written is a program a user can run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

from rasp_ir import ir
from rasp_ir.diagnostics import RaspError
from rasp_ir.fuzz.cases import Finding, Inputs, examine, is_valid
from rasp_ir.optimize import eliminate_dead_code, rename_operands
from rasp_ir.registry import Backend
from rasp_ir.terms import map_children
from rasp_ir.values import value_key

Candidate = tuple[ir.Program, Inputs]


def shrink(finding: Finding, check: Backend, seconds: float) -> Finding:
    """The smallest failing variant of ``finding`` found within ``seconds``."""
    deadline = time.monotonic() + seconds
    # the check ran the program without its dead code: start from that
    current = dataclasses.replace(finding, program=eliminate_dead_code(finding.program))
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for program, inputs in candidates(current.program, current.inputs):
            if time.monotonic() >= deadline:
                break
            if not is_valid(program):
                continue
            try:
                found = examine(program, check, inputs)
            except RaspError:  # the check refuses the candidate: not the same failure
                continue
            if found is not None and found.failure == current.failure:
                current, improved = found, True
                break
    return current


def candidates(program: ir.Program, inputs: Inputs) -> Iterator[Candidate]:
    """Every one-step simplification of ``program`` and ``inputs``, biggest first."""
    if len(inputs) > 1:
        for tokens in sorted(inputs, key=len):
            yield program, (tokens,)
    for output in program.outputs if len(program.outputs) > 1 else ():
        yield eliminate_dead_code(dataclasses.replace(program, outputs=(output,))), inputs
    for smaller in _without_a_binding(program):
        yield smaller, inputs
    for smaller in _simpler_headers(program, inputs):
        yield smaller, inputs
    for smaller in _simpler_nodes(program):
        yield smaller, inputs
    for shorter in _simpler_inputs(program, inputs):
        yield program, shorter


def _without_a_binding(program: ir.Program) -> Iterator[ir.Program]:
    """``program`` with one binding gone, every reader reading a replacement instead: one of
    the binding's own operands of the same sort, or (for an s-op that is not an output) a
    primitive."""
    for binding in reversed(program.bindings):
        selector = ir.is_selector(binding.node)
        own = [
            n
            for n in dict.fromkeys(ir.operands(binding.node))
            if _is_selector(program, n) == selector
        ]
        primitives = [] if selector or binding.name in program.outputs else list(ir.PRIMITIVES)
        for replacement in [*own, *primitives]:
            yield eliminate_dead_code(_replace_binding(program, binding.name, replacement))


def _is_selector(program: ir.Program, name: str) -> bool:
    return program.is_selector_name(name)


def _replace_binding(program: ir.Program, name: str, replacement: str) -> ir.Program:
    """``program`` without the binding ``name``; its readers (and outputs) read ``replacement``."""
    mapping = {name: replacement}
    bindings = tuple(
        dataclasses.replace(b, node=rename_operands(b.node, mapping))
        for b in program.bindings
        if b.name != name
    )
    outputs = tuple(dict.fromkeys(mapping.get(o, o) for o in program.outputs))
    return ir.Program(program.header, bindings, outputs)


def _simpler_headers(program: ir.Program, inputs: Inputs) -> Iterator[ir.Program]:
    """No causal masking; no BOS; max_len down to the longest input; one vocabulary token
    fewer (only tokens the inputs do not use)."""
    header = program.header
    changes: list[ir.Header] = []
    if header.causal:
        changes.append(dataclasses.replace(header, causal=False))
    if header.bos is not None:
        changes.append(dataclasses.replace(header, bos=None))
    longest = max((len(t) for t in inputs), default=0)
    if header.max_len > max(longest, 1):
        changes.append(dataclasses.replace(header, max_len=max(longest, 1)))
    used = {value_key(v) for tokens in inputs for v in tokens}
    for at, token in enumerate(header.vocab if len(header.vocab) > 1 else ()):
        if value_key(token) not in used:
            vocab = header.vocab[:at] + header.vocab[at + 1 :]
            changes.append(dataclasses.replace(header, vocab=vocab))
    for changed in changes:
        yield dataclasses.replace(program, header=changed)


def _simpler_nodes(program: ir.Program) -> Iterator[ir.Program]:
    """One node made simpler: a lambda predicate as ``==``/``true``, an aggregate as a mean
    with no default, a map without its default, a function body replaced by one of its parts
    or a constant, a domain dropped."""
    for index, binding in enumerate(program.bindings):
        for node in _simpler(binding.node):
            yield _with_binding(program, index, dataclasses.replace(binding, node=node))
        if binding.domain is not None:
            yield _with_binding(program, index, dataclasses.replace(binding, domain=None))


def _with_binding(program: ir.Program, index: int, binding: ir.Binding) -> ir.Program:
    bindings = (*program.bindings[:index], binding, *program.bindings[index + 1 :])
    return dataclasses.replace(program, bindings=bindings)


def _simpler(node: ir.Node) -> Iterator[ir.Node]:
    """Simpler versions of one node."""
    if isinstance(node, (ir.Select, ir.SelectClosest)) and isinstance(node.predicate, ir.Lambda):
        for op in ("==", "true"):
            yield dataclasses.replace(node, predicate=ir.Comparison(op))
        for body in _simpler_bodies(node.predicate.body):
            yield dataclasses.replace(node, predicate=ir.Lambda(node.predicate.params, body))
    if isinstance(node, ir.Aggregate):
        if node.default is not None:
            yield dataclasses.replace(node, default=None)
        if node.reduce != "mean":
            yield dataclasses.replace(node, reduce="mean")
    if isinstance(node, ir.Map):
        if node.default is not None:
            yield dataclasses.replace(node, default=None)
        for body in _simpler_bodies(node.fn.body):
            yield dataclasses.replace(node, fn=ir.Lambda(node.fn.params, body))


def _simpler_bodies(body: ir.Expr) -> Iterator[ir.Expr]:
    """A function body's direct parts, and the parameters and constants it holds."""
    yield from _children(body)
    if not isinstance(body, (ir.Param, ir.Const)):
        for param in dict.fromkeys(_params(body)):
            yield ir.Param(param)


def _children(expr: ir.Expr) -> list[ir.Expr]:
    found: list[ir.Expr] = []

    def keep(child: ir.Expr) -> ir.Expr:
        found.append(child)
        return child

    map_children(expr, keep)
    return found


def _params(expr: ir.Expr) -> Iterator[str]:
    if isinstance(expr, ir.Param):
        yield expr.name
    for child in _children(expr):
        yield from _params(child)


def _simpler_inputs(program: ir.Program, inputs: Inputs) -> Iterator[Inputs]:
    """The (one) input with a position left out, or a token replaced by the first token of
    the vocabulary."""
    if len(inputs) != 1:
        return
    (tokens,) = inputs
    for at in range(len(tokens)):
        yield (tokens[:at] + tokens[at + 1 :],)
    first = program.header.vocab[0]
    for at, token in enumerate(tokens):
        if value_key(token) != value_key(first):
            yield ((*tokens[:at], first, *tokens[at + 1 :]),)
