"""Built-in names in, their documentation out: the primitives, the s-op calls, the functions of
the expression language, comparison operators, directives and keywords, as hover text and
completion items show them. A test checks that every name the hub reserves is documented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BuiltinKind = Literal["primitive", "call", "function", "operator", "directive", "keyword"]


@dataclass(frozen=True)
class Builtin:
    """One built-in: its name, what kind of thing it is, a signature and what it does."""

    name: str
    kind: BuiltinKind
    signature: str
    doc: str


_SELECT_DOC = (
    "A selector: query position q attends to key position k when predicate(key_k, query_q) "
    "holds. The predicate is a comparison (==, !=, <, <=, >, >=: key OP query), true, false, "
    "or fn(k, q) -> ...."
)

BUILTINS: tuple[Builtin, ...] = (
    Builtin("tokens", "primitive", "tokens", "The input token at each position (categorical)."),
    Builtin("indices", "primitive", "indices", "The position 0, 1, ..., n-1 (categorical)."),
    Builtin(
        "length",
        "primitive",
        "length",
        "The number of input tokens, at every position (the prefix length i+1 under %causal). "
        "It costs one attention head in layer 1.",
    ),
    Builtin("select", "call", "select(keys, queries, predicate)", _SELECT_DOC),
    Builtin(
        "select_closest",
        "call",
        "select_closest(keys, queries, predicate)",
        "The Transformer Programs attention: each query attends to the nearest matching key "
        "(the left one on ties), to itself only when it is the sole match, to BOS if none.",
    ),
    Builtin(
        "aggregate",
        "call",
        "aggregate(selector, sop, default=..., reduce=mean|sum|max|min)",
        "Each query position gets the values of sop at its selected keys, reduced (the mean by "
        "default; a categorical mean must select one key or equal values). Positions that "
        "select nothing get the default (none for cat, 0 for num). One attention head.",
    ),
    Builtin(
        "selector_width",
        "call",
        "selector_width(selector)",
        "The number of keys each query selects (0..n). One attention head that also "
        "attends to BOS.",
    ),
    Builtin(
        "pooled_vote",
        "call",
        'pooled_vote(selector, fn(x) -> score_a, fn(x) -> score_b, x_sop, labels=("a", "b"))',
        "A pooled weighted vote (the Transformer Programs classification readout): one score "
        "function per label, read at every key; each query takes the label with the largest "
        "mean score over its selected keys (the first on ties), computed exactly.",
    ),
    Builtin(
        "map",
        "call",
        "map(fn(x, y) -> ..., x_sop, y_sop, default=...)",
        "Applies a function position-wise to one or more s-ops; an MLP. Undefined inputs give "
        "the default (none when not given).",
    ),
    Builtin("sequence_map", "call", "sequence_map(fn(x, y) -> ..., x, y)", "Another name of map."),
    Builtin("zipmap", "call", "zipmap(fn(x, y) -> ..., x, y)", "Another name of map."),
    Builtin("min", "function", "min(a, b, ...)", "The smallest argument."),
    Builtin("max", "function", "max(a, b, ...)", "The largest argument."),
    Builtin("abs", "function", "abs(x)", "The absolute value (exact)."),
    Builtin("round", "function", "round(x)", "x rounded to the nearest integer (ties to even)."),
    Builtin(
        "argmax",
        "function",
        "argmax(a, b, ...)",
        "The index (from 0) of the first largest argument.",
    ),
    Builtin(
        "lookup",
        "function",
        'lookup(x, {"a": 1}, default=0) or lookup((a, b), {(0, 1): 2})',
        "A table lookup: the value for x (or the tuple of values), else the default.",
    ),
    Builtin("indicator", "function", "indicator(c)", "1 when the condition c holds, else 0."),
    Builtin("==", "operator", "key == query", "Selects keys equal to the query."),
    Builtin("!=", "operator", "key != query", "Selects keys different from the query."),
    Builtin("<", "operator", "key < query", "Selects keys smaller than the query."),
    Builtin("<=", "operator", "key <= query", "Selects keys smaller than or equal to the query."),
    Builtin(">", "operator", "key > query", "Selects keys larger than the query."),
    Builtin(">=", "operator", "key >= query", "Selects keys larger than or equal to the query."),
    Builtin(
        "%vocab",
        "directive",
        '%vocab {"a", "b"} or %vocab chars "abc"',
        "The input vocabulary.",
    ),
    Builtin("%max_len", "directive", "%max_len 8", "The most input tokens a program accepts."),
    Builtin("%bos", "directive", '%bos "<s>"', "Inputs carry this token at position 0."),
    Builtin("%causal", "directive", "%causal", "Each position sees only itself and the past."),
    Builtin("fn", "keyword", "fn(params) -> expression", "A function, data in the IR."),
    Builtin("def", "keyword", "def f(a, b) { ...; return e; }", "A macro, expanded at each call."),
    Builtin("import", "keyword", 'import "lib.rasp";', "Brings in another file's public names."),
    Builtin("output", "keyword", "output a, b;", "The program's outputs, in order."),
    Builtin("true", "keyword", "true", "The boolean true."),
    Builtin("false", "keyword", "false", "The boolean false."),
    Builtin("none", "keyword", "none", "The undefined value."),
    Builtin("mean", "keyword", "reduce=mean", "The aggregate's default reduction."),
    Builtin("sum", "keyword", "reduce=sum", "Aggregate by summing the selected values."),
)

BY_NAME: dict[str, Builtin] = {b.name: b for b in BUILTINS}


def builtin_markdown(builtin: Builtin) -> str:
    """The hover text of a built-in: its signature as code, then what it does."""
    return f"```rasp\n{builtin.signature}\n```\n{builtin.kind}: {builtin.doc}"
