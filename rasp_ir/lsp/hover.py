"""A position in a document in, the hover text for the name there out (Markdown): what the name
is (s-op or selector, its op and encoding), its value set (shortened when large) and where it
lands in the compiled transformer (the embedding, a layer's MLP or an attention head), or a
built-in's documentation."""

from __future__ import annotations

from dataclasses import dataclass

from rasp_ir import ir
from rasp_ir.check import CheckResult
from rasp_ir.cli.inspect_cmds import format_value_set
from rasp_ir.diagnostics import Span
from rasp_ir.layers import LENGTH_SELECTOR_TEXT, LayerAllocation
from rasp_ir.lsp.analysis import Analysis
from rasp_ir.lsp.builtins import BY_NAME, builtin_markdown
from rasp_ir.lsp.index import Symbol


@dataclass(frozen=True)
class HoverText:
    """Markdown to show, and the span of the name it is about."""

    markdown: str
    span: Span


def hover(analysis: Analysis, line: int, column: int) -> HoverText | None:
    """The hover text for the name at 1-based ``line``:``column``, or None where there is none."""
    if analysis.index is None:
        return None
    occurrence = analysis.index.at(line, column)
    if occurrence is None:
        return None
    if occurrence.symbol is None:
        builtin = BY_NAME.get(occurrence.name)
        if builtin is None:
            return None
        text = builtin_markdown(builtin)
        if occurrence.name in ir.PRIMITIVES and analysis.checked is not None:
            text += "\n\n" + _compiled(occurrence.name, analysis.checked)
        return HoverText(text, occurrence.span)
    return HoverText(_symbol_markdown(occurrence.symbol, analysis), occurrence.span)


def _symbol_markdown(symbol: Symbol, analysis: Analysis) -> str:
    if symbol.kind == "def":
        return f"```rasp\n{symbol.detail}\n```\nmacro: expanded where it is called"
    if symbol.kind == "parameter":
        return f"**{symbol.name}**: parameter of def {symbol.owner}"
    if symbol.kind == "local":
        return f"**{symbol.name}**: local of def {symbol.owner} (one copy per call)"
    if symbol.kind == "fn-parameter":
        return f"**{symbol.name}**: parameter of an fn literal (one value at a time)"
    checked = analysis.checked
    where = "" if symbol.span.file == analysis.file else f" (from {symbol.span.file})"
    if checked is None or symbol.name not in checked.program.by_name:
        note = "a library binding" if analysis.library else "the program does not check yet"
        return f"**{symbol.name}**{where}: {note}"
    return f"**{symbol.name}**{where}: " + _compiled(symbol.name, checked)


def _compiled(name: str, checked: CheckResult) -> str:
    """Kind, encoding, value set and placement of a binding or primitive of a checked program."""
    program = checked.program
    lines = []
    if name in ir.PRIMITIVES:
        lines.append("primitive s-op, cat")
    else:
        binding = program.binding(name)
        kind = ir.kind_name(binding.node)
        if binding.encoding is None:
            lines.append(f"selector ({kind})")
        else:
            lines.append(f"s-op ({kind}), {binding.encoding}")
    if not program.is_selector_name(name) or name in ir.PRIMITIVES:
        values = checked.value_sets.sets.get(name)
        if values is not None:
            lines.append(f"values: `{format_value_set(values)}`")
    lines.append(placement(name, checked.allocation))
    return "\n\n".join(lines)


def placement(name: str, allocation: LayerAllocation) -> str:
    """Where ``name`` lands: the input, the embedding, layer L's MLP, or layer L's head h."""
    where = allocation.placement.get(name)
    if where is None:
        return "unused: no output needs it, so it has no place in the model"
    sublayer, layer = where
    if sublayer == "input":
        return "input embedding"
    if sublayer == "embedding":
        return "folded into the embedding (depth 0)"
    if sublayer == "mlp":
        return f"layer {layer}, MLP"
    heads = allocation.layers[layer - 1].heads
    for number, head in enumerate(heads, start=1):
        if name in head.computes:
            selector = head.selector or LENGTH_SELECTOR_TEXT
            return f"layer {layer}, attention head {number} ({head.pattern} over {selector})"
    used = [str(n) for n, h in enumerate(heads, start=1) if h.selector == name]
    if used:
        return f"layer {layer}, the pattern of attention head {', '.join(used)}"
    return f"layer {layer}, attention (part of a composite selector)"
