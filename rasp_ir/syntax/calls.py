"""Built-in s-op calls in, IR nodes out: ``select``, ``select_closest``, ``aggregate``,
``selector_width``, ``pooled_vote`` and ``map`` (also spelled ``sequence_map`` and ``zipmap``).

Each builder takes its arguments already resolved (:mod:`rasp_ir.syntax.resolved` values),
records the node it builds as a temporary of the binding's
:class:`~rasp_ir.syntax.state.Context`, and returns a reference to it; wrong arguments become
diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable

from rasp_ir import ir
from rasp_ir.diagnostics import Span
from rasp_ir.syntax.resolved import (
    ConstVal,
    FnVal,
    OpVal,
    Resolved,
    SelRef,
    SOpRef,
    TupleVal,
    describe_resolved,
)
from rasp_ir.syntax.state import Context, Recorder
from rasp_ir.values import Value, value_key

MAP_ALIASES = ("sequence_map", "zipmap")

# An aggregate without a default: the binding's encoding decides it (0 for num, None for cat).
UNSET: object = object()

CallBuilder = Callable[
    [Recorder, str, list[Resolved], dict[str, Resolved], Span, Context], Resolved
]


def _reduction_name(value: Resolved) -> str:
    return value.op if isinstance(value, OpVal) else ""


def _sop_operand(recorder: Recorder, value: Resolved, what: str, span: Span, ctx: Context) -> str:
    if isinstance(value, SOpRef):
        return value.name
    if isinstance(value, ConstVal):
        return recorder.temp(ctx, ir.Full(value.value), span)
    raise recorder.error("type", f"{what} must be an s-op, not {describe_resolved(value)}", span)


def _selector_operand(recorder: Recorder, value: Resolved, what: str, span: Span) -> str:
    if isinstance(value, SelRef):
        return value.name
    raise recorder.error(
        "type",
        f"{what} must be a selector, not {describe_resolved(value)}",
        span,
        "build one with select(keys, queries, predicate)",
    )


def _expect_arity(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    counts: tuple[int, ...],
    allowed_keywords: tuple[str, ...],
    usage: str,
    span: Span,
) -> None:
    unknown = set(keywords) - set(allowed_keywords)
    if len(positional) not in counts or unknown:
        extra = f"; unknown keyword {sorted(unknown)[0]!r}" if unknown else ""
        raise recorder.error("arity", f"wrong arguments to {name}{extra}", span, f"usage: {usage}")


def build_select(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    span: Span,
    ctx: Context,
) -> Resolved:
    """``select`` and ``select_closest``: keys, queries and a predicate."""
    usage = f"{name}(keys, queries, predicate), e.g. {name}(indices, indices, <)"
    _expect_arity(recorder, name, positional, keywords, (3,), (), usage, span)
    keys = _sop_operand(recorder, positional[0], f"the keys of {name}", span, ctx)
    queries = _sop_operand(recorder, positional[1], f"the queries of {name}", span, ctx)
    predicate = _predicate(recorder, positional[2], name, span)
    node_type = ir.Select if name == "select" else ir.SelectClosest
    return SelRef(recorder.temp(ctx, node_type(keys, queries, predicate), span))


def _predicate(recorder: Recorder, value: Resolved, name: str, span: Span) -> ir.Predicate:
    if isinstance(value, OpVal):
        return ir.Comparison(value.op)
    if isinstance(value, ConstVal) and isinstance(value.value, bool):
        return ir.Comparison("true" if value.value else "false")
    if isinstance(value, FnVal):
        if len(value.fn.params) != 2:
            raise recorder.error(
                "arity",
                f"the predicate of {name} takes two parameters (key, query)",
                value.fn.span or span,
            )
        return value.fn
    raise recorder.error(
        "type",
        f"the predicate of {name} must be a comparison (==, <, ...), true, false or "
        "fn(key, query) -> ...",
        span,
    )


def build_aggregate(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    span: Span,
    ctx: Context,
) -> Resolved:
    """``aggregate(selector, sop, default=..., reduce=...)``; the default may stay :data:`UNSET`."""
    usage = "aggregate(selector, sop, default=..., reduce=mean|sum|max|min)"
    _expect_arity(recorder, name, positional, keywords, (2, 3), ("default", "reduce"), usage, span)
    selector = _selector_operand(recorder, positional[0], "the first argument of aggregate", span)
    sop = _sop_operand(recorder, positional[1], "the second argument of aggregate", span, ctx)
    default: Value | object = UNSET
    default_arg = positional[2] if len(positional) == 3 else keywords.get("default")
    if default_arg is not None:
        if not isinstance(default_arg, ConstVal):
            raise recorder.error("type", "the default of aggregate must be a constant", span)
        default = default_arg.value
    reduce = "mean"
    if "reduce" in keywords:
        reduce = _reduction_name(keywords["reduce"])
        if reduce not in ir.REDUCTIONS:
            raise recorder.error(
                "type",
                f"unknown reduction {reduce!r}: reduce must be mean, sum, max or min",
                span,
                usage,
            )
    node = ir.Aggregate(selector, sop, reduce, default)  # type: ignore[arg-type]
    return SOpRef(recorder.temp(ctx, node, span))


def build_selector_width(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    span: Span,
    ctx: Context,
) -> Resolved:
    """``selector_width(selector)``."""
    _expect_arity(recorder, name, positional, keywords, (1,), (), "selector_width(selector)", span)
    selector = _selector_operand(recorder, positional[0], "the argument of selector_width", span)
    return SOpRef(recorder.temp(ctx, ir.SelectorWidth(selector), span))


def build_map(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    span: Span,
    ctx: Context,
) -> Resolved:
    """``map(fn, sop, ..., default=...)``: one s-op per parameter of the function."""
    usage = "map(fn(x, y) -> ..., x_sop, y_sop, default=...)"
    if len(positional) < 2 or set(keywords) - {"default"}:
        raise recorder.error("arity", "wrong arguments to map", span, f"usage: {usage}")
    fn_value = positional[0]
    if not isinstance(fn_value, FnVal):
        raise recorder.error("type", "the first argument of map must be fn(...) -> ...", span)
    inputs = tuple(_sop_operand(recorder, v, "an input of map", span, ctx) for v in positional[1:])
    if len(fn_value.fn.params) != len(inputs):
        raise recorder.error(
            "arity",
            f"the function takes {len(fn_value.fn.params)} parameter(s) but map gives it "
            f"{len(inputs)} input(s)",
            fn_value.fn.span or span,
        )
    default: Value = None
    if "default" in keywords:
        default_arg = keywords["default"]
        if not isinstance(default_arg, ConstVal):
            raise recorder.error("type", "the default of map must be a constant", span)
        default = default_arg.value
    return SOpRef(recorder.temp(ctx, ir.Map(fn_value.fn, inputs, default), span))


def build_pooled_vote(
    recorder: Recorder,
    name: str,
    positional: list[Resolved],
    keywords: dict[str, Resolved],
    span: Span,
    ctx: Context,
) -> Resolved:
    """``pooled_vote(selector, fn -> score, ..., sop, ..., labels=(...), default=...)``: one score
    function per label, each taking one parameter per input s-op."""
    usage = 'pooled_vote(selector, fn(x) -> score_a, fn(x) -> score_b, x_sop, labels=("a", "b"))'
    scores = [v.fn for v in positional[1:] if isinstance(v, FnVal)]
    if len(positional) < 3 or "labels" not in keywords or set(keywords) - {"labels", "default"}:
        raise recorder.error("arity", "wrong arguments to pooled_vote", span, f"usage: {usage}")
    selector = _selector_operand(recorder, positional[0], "the first argument of pooled_vote", span)
    if not isinstance(positional[1], FnVal) or any(
        isinstance(v, FnVal) for v in positional[1 + len(scores) :]
    ):
        raise recorder.error(
            "type", "pooled_vote takes its score functions right after the selector", span, usage
        )
    inputs = tuple(
        _sop_operand(recorder, v, "an input of pooled_vote", span, ctx)
        for v in positional[1 + len(scores) :]
    )
    labels = _pooled_vote_labels(recorder, keywords["labels"], span)
    if len(labels) != len(scores):
        raise recorder.error(
            "arity",
            f"pooled_vote has {len(scores)} score function(s) but {len(labels)} label(s)",
            span,
            "give one score function per label, in the order of labels=(...)",
        )
    for fn in scores:
        if len(fn.params) != len(inputs):
            raise recorder.error(
                "arity",
                f"a score function takes {len(fn.params)} parameter(s) but pooled_vote gives it "
                f"{len(inputs)} input(s)",
                fn.span or span,
            )
    default: Value = None
    if "default" in keywords:
        default_arg = keywords["default"]
        if not isinstance(default_arg, ConstVal):
            raise recorder.error("type", "the default of pooled_vote must be a constant", span)
        default = default_arg.value
    node = ir.PooledVote(selector, tuple(scores), inputs, labels, default)
    return SOpRef(recorder.temp(ctx, node, span))


def _pooled_vote_labels(recorder: Recorder, value: Resolved, span: Span) -> tuple[Value, ...]:
    """The labels of a vote: a tuple of distinct constants (one label: a constant)."""
    if isinstance(value, ConstVal):
        return (value.value,)
    if not isinstance(value, TupleVal):
        raise recorder.error(
            "type",
            "the labels of pooled_vote must be a tuple of constants, not "
            f"{describe_resolved(value)}",
            span,
            'write them in order: labels=("neg", "pos")',
        )
    if len({value_key(v) for v in value.values}) != len(value.values):
        raise recorder.error("duplicate", "pooled_vote names a label twice", span)
    return value.values


CALL_BUILDERS: dict[str, CallBuilder] = {
    "select": build_select,
    "select_closest": build_select,
    "aggregate": build_aggregate,
    "selector_width": build_selector_width,
    "map": build_map,
    "pooled_vote": build_pooled_vote,
}
SOP_BUILTINS = tuple(CALL_BUILDERS)
