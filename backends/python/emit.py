"""A checked IR program in, the source text of a standalone Python module out.

One rule per node kind (:data:`RULES`), each filling one jinja2 template of ``templates/``.
Every name the module defines comes from :class:`Names` (a valid, unreserved ASCII
identifier for each binding, however it is spelled); every value is written by
:func:`~rasp_ir.backends.python.expressions.literal`; text from the program (source lines,
file names) only ever lands in comments or docstrings, escaped. So no token, binding name or
file name can change what the module does.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath

import jinja2

from rasp_ir.api import Value, describe_value, ir, mean_mode, rule_for, vocab_kind
from rasp_ir.backends.python.expressions import (
    ATOM,
    NOT,
    Python,
    Translator,
    Types,
    bool_meets_number,
    literal,
    types_of,
)

HELPERS = (
    "_prepare", "_in_vocab", "_VOCAB_KEYS", "_num", "_div", "_eq", "_member", "_tag",
    "_defined", "_closest", "_selected", "_common", "_mean", "_sum", "_vote", "_typed", "_json",
)  # fmt: skip
HELPER_NEEDS = {"_div": "_num", "_member": "_eq", "_mean": "_num", "_sum": "_num"}
MODULE_NAMES = (
    "argparse", "json", "sys", "Fraction", "VOCAB", "MAX_LEN", "BOS", "OUTPUTS", "TOKEN_TYPE",
    "run", "run_batch", "main",
)  # fmt: skip
LOCAL_NAMES = (
    "tokens", "indices", "length", "key", "query", "i", "j", "row", "hit", "matches",
    "left_row", "right_row", "left_hit", "right_hit", "value", "values",
)  # fmt: skip
RESERVED = frozenset(
    (
        *keyword.kwlist,
        *keyword.softkwlist,
        *dir(builtins),
        "_",
        *HELPERS,
        *MODULE_NAMES,
        *LOCAL_NAMES,
    )
)
SHOWN_VOCAB = 30

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("rasp_ir.backends.python", "templates"),
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def render(template: str, **context: object) -> str:
    """``templates/<template>.py.j2`` filled with ``context``."""
    return _ENVIRONMENT.get_template(f"{template}.py.j2").render(**context).rstrip("\n")


def safe_text(text: str) -> str:
    """``text`` with every non-printable character escaped: it can end no comment or string."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def doc_text(text: str) -> str:
    """``text`` made safe inside a triple-quoted docstring."""
    return safe_text(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


class Names:
    """Python identifiers for program names: ASCII, unreserved, distinct."""

    def __init__(self) -> None:
        self.taken: set[str] = set(RESERVED)

    def fresh(self, name: str) -> str:
        """A new identifier that reads like ``name`` (``list`` -> ``list_``, ``a b`` -> ``a_b``)."""
        base = re.sub(r"[^0-9A-Za-z_]", "_", name) or "_"
        if base[0].isdigit() or base.startswith("__"):
            base = "n" + base
        candidate = base
        while candidate in self.taken:
            candidate += "_"
        self.taken.add(candidate)
        return candidate


@dataclass
class Module:
    """What the rules build: names, value sets, tables and the helpers used so far."""

    program: ir.Program
    sets: Mapping[str, tuple[Value, ...]]
    source: str
    names: Names = field(default_factory=Names)
    python: dict[str, str] = field(default_factory=dict)
    tables: list[dict[str, str]] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)

    def name(self, ir_name: str) -> str:
        """The Python name of a binding or primitive."""
        return ir_name if ir_name in ir.PRIMITIVES else self.python[ir_name]

    def params(self, node: ir.Node) -> list[str]:
        """The distinct operands of ``node`` as Python parameter names."""
        return [self.name(n) for n in dict.fromkeys(ir.operands(node))]

    def types(self, ir_name: str) -> Types:
        """The types a defined value of an s-op can have."""
        return types_of([v for v in self.sets[ir_name] if v is not None])

    def may_be_none(self, ir_name: str) -> bool:
        """True when the s-op can be undefined."""
        return any(v is None for v in self.sets[ir_name])

    def translator(
        self, binding: ir.Binding, params: Mapping[str, tuple[str, Types]]
    ) -> Translator:
        """A translator whose lookup tables become module constants named after ``binding``."""
        prefix = self.python[binding.name].upper().strip("_") or "T"

        def table(source: str) -> str:
            name = self.names.fresh(f"{prefix}_TABLE")
            self.tables.append({"name": name, "source": source})
            return name

        return Translator(params, table)

    def comment(self, binding: ir.Binding) -> str:
        """``# file.rasp:12: the source line``, escaped."""
        span = binding.span
        if span is None:
            return f"# {safe_text(binding.name)}"
        where = f"{PurePath(span.file).name}:{span.line}"
        line = span.line_text.strip()
        return f"# {safe_text(where)}: {safe_text(line)}" if line else f"# {safe_text(where)}"


Rule = Callable[[Module, ir.Binding], str]


def _full(module: Module, binding: ir.Binding) -> str:
    assert isinstance(binding.node, ir.Full)
    value = binding.node.value
    return render(
        "full",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        value=literal(value),
        value_doc=doc_text(describe_value(value)),
    )


def _map(module: Module, binding: ir.Binding) -> str:
    node = binding.node
    assert isinstance(node, ir.Map)
    params = module.params(node) or ["tokens"]
    # Element variables may shadow the function's parameters: zip(...) is read first.
    scope = {
        p: (module.name(n) if p == n else module.names.fresh(p), module.types(n))
        for p, n in zip(node.fn.params, node.inputs, strict=True)
    }
    translator = module.translator(binding, scope)
    element = translator.translate(node.fn.body).text
    module.helpers |= translator.helpers
    targets = [scope[p][0] for p in node.fn.params]
    guards = [
        f"{scope[p][0]} is None"
        for p, n in zip(node.fn.params, node.inputs, strict=True)
        if module.may_be_none(n)
    ]
    if guards:
        element = f"{literal(node.default)} if {' or '.join(guards)} else {_wrap(element)}"
    inputs = [module.name(n) for n in node.inputs]
    iterable = inputs[0] if len(inputs) == 1 else f"zip({', '.join(inputs)})"
    return render(
        "map",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        params=params,
        element=element,
        targets=", ".join(targets),
        iterable=iterable,
    )


def _wrap(text: str) -> str:
    """``text`` parenthesised when it is a conditional expression."""
    return f"({text})" if " if " in text else text


def _predicate_test(
    module: Module, binding: ir.Binding, predicate: ir.Predicate, keys: str, queries: str
) -> tuple[str, str, str, str]:
    """``(test, key variable, query variable, description)`` for a selector's predicate."""
    causal = module.program.header.causal
    of = f"key of {module.name(keys)}, query of {module.name(queries)}"
    if isinstance(predicate, ir.Lambda):
        # Fresh names never shadow a parameter (an inner loop reads its keys from there).
        key_name, query_name = (module.names.fresh(p) for p in predicate.params)
        scope = {
            predicate.params[0]: (key_name, module.types(keys)),
            predicate.params[1]: (query_name, module.types(queries)),
        }
        translator = module.translator(binding, scope)
        python = translator.translate(predicate.body)
        module.helpers |= translator.helpers
        doc = f"fn({key_name}, {query_name}) for {of}"
    elif predicate.op in ("true", "false"):
        key_name, query_name = "key", "query"
        python = Python(predicate.op.capitalize(), ATOM, frozenset({"bool"}))
        doc = f"{predicate.op} for every {of}"
    else:
        key_name, query_name = "key", "query"
        python = _comparison(module, predicate.op, keys, queries)
        doc = f"key of {module.name(keys)} {predicate.op} query of {module.name(queries)}"
    if not causal:
        return python.text, key_name, query_name, doc
    if python.text == "True":
        return "j <= i", key_name, query_name, doc + ", keys up to the query"
    if python.text == "False":
        return "False", key_name, query_name, doc
    return f"j <= i and {python.at(NOT)}", key_name, query_name, doc + ", keys up to the query"


def _comparison(module: Module, op: str, keys: str, queries: str) -> Python:
    scope = {"key": ("key", module.types(keys)), "query": ("query", module.types(queries))}
    translator = Translator(scope, lambda source: source)
    python = translator.translate(ir.Binary(op, ir.Param("key"), ir.Param("query")))
    module.helpers |= translator.helpers
    return python


def _select(module: Module, binding: ir.Binding) -> str:
    node = binding.node
    assert isinstance(node, (ir.Select, ir.SelectClosest))
    test, key, query, doc = _predicate_test(
        module, binding, node.predicate, node.keys, node.queries
    )
    checks = []
    for role, name in dict.fromkeys((("key", node.keys), ("query", node.queries))):
        if module.may_be_none(name) and not (role == "query" and name == node.keys):
            checks.append(f"{module.name(name)}, {literal(binding.name)}, {literal(role)}")
    if checks:
        module.helpers.add("_defined")
    if isinstance(node, ir.SelectClosest):
        module.helpers.add("_closest")
    return render(
        "select_closest" if isinstance(node, ir.SelectClosest) else "select",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        params=module.params(node),
        doc=doc,
        checks=checks,
        causal=module.program.header.causal and test != "False",
        test=test,
        key=key,
        query=query,
        keys=module.name(node.keys),
        queries=module.name(node.queries),
    )


def _combine(module: Module, binding: ir.Binding) -> str:
    node = binding.node
    assert isinstance(node, (ir.SelectorAnd, ir.SelectorOr))
    return render(
        "selector_combine",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        params=module.params(node),
        op="and" if isinstance(node, ir.SelectorAnd) else "or",
        left=module.name(node.left),
        right=module.name(node.right),
    )


def _not(module: Module, binding: ir.Binding) -> str:
    assert isinstance(binding.node, ir.SelectorNot)
    return render(
        "selector_not",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        operand=module.name(binding.node.operand),
        causal=module.program.header.causal,
    )


def _aggregate(module: Module, binding: ir.Binding) -> str:
    node = binding.node
    assert isinstance(node, ir.Aggregate)
    sop, default = module.name(node.sop), literal(node.default)
    selected = f"_selected(row, {sop})"
    module.helpers.add("_selected")
    if node.reduce == "mean" and mean_mode(module.program, node) == "cat":
        module.helpers.add("_common")
        if bool_meets_number(module.types(node.sop), module.types(node.sop)):
            module.helpers.add("_eq")
        reduce = f"_common({selected}, {default}, {literal(binding.name)})"
        doc = f"The one value of {sop} every selected key shares (a categorical mean)."
    elif node.reduce == "mean":
        module.helpers.add("_mean")
        reduce = f"_mean({selected}, {default})"
        doc = f"The exact mean of {sop} over the selected keys."
    elif node.reduce == "sum":
        module.helpers.add("_sum")
        reduce = f"_sum({selected}, {default})"
        doc = f"The exact sum of {sop} over the selected keys."
    else:
        reduce = f"{node.reduce}({selected}, default={default})"
        doc = f"The {node.reduce}imum of {sop} over the selected keys."
    return render(
        "aggregate",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        params=module.params(node),
        selector=module.name(node.selector),
        reduce=reduce,
        doc=f"{doc} Default {doc_text(describe_value(node.default))} when no key is selected.",
    )


def _width(module: Module, binding: ir.Binding) -> str:
    assert isinstance(binding.node, ir.SelectorWidth)
    return render(
        "selector_width",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        selector=module.name(binding.node.selector),
    )


def _vote(module: Module, binding: ir.Binding) -> str:
    node = binding.node
    assert isinstance(node, ir.PooledVote)
    inputs = list(dict.fromkeys(node.inputs))
    element = {name: module.names.fresh(name) for name in inputs}
    scores = []
    for fn in node.scores:
        scope = {
            p: (element[name], module.types(name))
            for p, name in zip(fn.params, node.inputs, strict=True)
        }
        translator = module.translator(binding, scope)
        scores.append(translator.translate(fn.body).text)
        module.helpers |= translator.helpers
    module.helpers.add("_vote")
    names = [module.name(n) for n in inputs]
    labels = ", ".join(doc_text(describe_value(v)) for v in node.labels)
    return render(
        "vote",
        comment=module.comment(binding),
        fn=module.name(binding.name),
        params=module.params(node),
        selector=module.name(node.selector),
        scores=scores,
        targets=", ".join(element[name] for name in inputs),
        iterable=names[0] if len(names) == 1 else f"zip({', '.join(names)})" if names else "",
        labels="(" + "".join(f"{literal(v)}, " for v in node.labels) + ")",
        default=literal(node.default),
        doc=f"The first of the labels {labels} whose score summed over the selected keys (so "
        f"whose mean) is largest; {doc_text(describe_value(node.default))} when no key is "
        "selected.",
    )


RULES: dict[type[ir.Node], Rule] = {
    ir.Full: _full,
    ir.Map: _map,
    ir.Select: _select,
    ir.SelectClosest: _select,
    ir.SelectorAnd: _combine,
    ir.SelectorOr: _combine,
    ir.SelectorNot: _not,
    ir.Aggregate: _aggregate,
    ir.SelectorWidth: _width,
    ir.PooledVote: _vote,
}


def emit_module(program: ir.Program, sets: Mapping[str, tuple[Value, ...]], source: str) -> str:
    """The Python module computing ``program`` (already free of dead code).

    ``sets`` are the program's inferred value sets; ``source`` names the file it came from.
    """
    module = Module(program, sets, source)
    for binding in program.bindings:
        module.python[binding.name] = module.names.fresh(binding.name)
    functions = []
    for binding in program.bindings:
        functions.append(rule_for(RULES, binding, "the python backend")(module, binding))
    return _render_module(module, functions)


def _render_module(module: Module, functions: list[str]) -> str:
    program, header = module.program, module.program.header
    local: dict[str, str] = {p: p for p in ir.PRIMITIVES}
    steps = []
    for binding in program.bindings:
        target = module.names.fresh(f"{module.name(binding.name)}_values")
        node = binding.node
        args = [local[n] for n in dict.fromkeys(ir.operands(node))] or (
            ["tokens"] if isinstance(node, (ir.Full, ir.Map)) else []
        )
        steps.append({"target": target, "call": f"{module.name(binding.name)}({', '.join(args)})"})
        local[binding.name] = target
    used = {n for b in program.bindings for n in ir.operands(b.node)} | set(program.outputs)
    outputs = [n for n in program.outputs if not program.is_selector_name(n)]
    helpers = set(module.helpers)
    for helper, needs in HELPER_NEEDS.items():
        if helper in helpers:
            helpers.add(needs)
    vocab = header.vocab
    shown = ", ".join(describe_value(v) for v in vocab[:SHOWN_VOCAB])
    if len(vocab) > SHOWN_VOCAB:
        shown += f", ... ({len(vocab)} tokens)"
    return render(
        "module",
        title=doc_text(
            f"{module.source}: {', '.join(outputs) or 'no outputs'}, computed in Python."
        ),
        vocab=doc_text(shown),
        max_len=header.max_len,
        bos_line=doc_text(f"\nBOS: {describe_value(header.bos)} at position 0.")
        if header.bos is not None
        else "",
        causal_line="\nCausal: each query sees only the keys up to itself."
        if header.causal
        else "",
        output_list=doc_text(", ".join(outputs) or "none"),
        script=doc_text(PurePath(module.source).stem + ".py"),
        vocab_literal=_tuple_literal(vocab),
        bos_literal=literal(header.bos),
        outputs_literal=_tuple_literal(tuple(outputs)),
        token_type=literal(vocab_kind(vocab)),
        helpers=helpers,
        bos=header.bos is not None,
        tables=module.tables,
        functions=functions,
        uses_indices="indices" in used,
        uses_length="length" in used,
        causal=header.causal,
        steps=steps,
        outputs=[{"key": literal(n), "value": local[n]} for n in dict.fromkeys(outputs)],
    )


def _tuple_literal(values: tuple[Value, ...]) -> str:
    items = ", ".join(literal(v) for v in values)
    return f"({items},)" if len(values) == 1 else f"({items})"
