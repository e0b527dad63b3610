"""Built-in s-op calls in, IR nodes out: ``select``, ``select_closest``, ``aggregate``,
``selector_width`` and ``map`` (also spelled ``sequence_map`` and ``zipmap``).

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
    describe_resolved,
)
from rasp_ir.syntax.state import Context, Recorder
from rasp_ir.values import Value

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


CALL_BUILDERS: dict[str, CallBuilder] = {
    "select": build_select,
    "select_closest": build_select,
    "aggregate": build_aggregate,
    "selector_width": build_selector_width,
    "map": build_map,
}
SOP_BUILTINS = tuple(CALL_BUILDERS)
