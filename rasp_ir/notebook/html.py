"""Programs, evaluations and compiled models in, HTML for Jupyter out: the highlighted source,
the layer table, the value table. Every piece of program text and every value is escaped.

Highlighting uses the Pygments lexer registered as ``rasp`` (the ``highlight`` extra); without
it the source is shown as escaped plain text.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Sequence

from rasp_ir import ir
from rasp_ir.binding_text import is_sop, token_text
from rasp_ir.check import CheckResult, check_program
from rasp_ir.cli.inspect_cmds import format_value_set
from rasp_ir.diagnostics import RaspError
from rasp_ir.interpreter import Evaluation
from rasp_ir.layers import LENGTH_SELECTOR_TEXT, LayerAllocation
from rasp_ir.printer import format_program
from rasp_ir.syntax import parse_program
from rasp_ir.values import Value, format_value

SHOWN_EXAMPLES = 8
"""Evaluations of larger batches show their first inputs only."""


def highlighted(source: str) -> str:
    """``source`` as highlighted HTML (inline styles), or escaped in ``<pre>`` when Pygments or
    a lexer named ``rasp`` is not installed."""
    try:
        # Imported by name: Pygments ships no type information, and it is optional.
        pygments = importlib.import_module("pygments")
        formatters = importlib.import_module("pygments.formatters")
        lexers = importlib.import_module("pygments.lexers")
        util = importlib.import_module("pygments.util")
    except ImportError:
        return _plain(source)
    try:
        lexer = lexers.get_lexer_by_name("rasp")
    except (util.ClassNotFound, ImportError):  # not installed, or a plugin that fails to load
        return _plain(source)
    return str(pygments.highlight(source, lexer, formatters.HtmlFormatter(noclasses=True)))


def _plain(source: str) -> str:
    return f'<pre class="rasp-source">{html.escape(source)}</pre>'


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; every cell is text, escaped here."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="rasp-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def layer_rows(program: ir.Program, allocation: LayerAllocation) -> list[tuple[str, ...]]:
    """The rows of ``rasp check``'s layer table: layer, unit, pattern, what it computes."""
    rows: list[tuple[str, ...]] = []
    if allocation.embedding:
        rows.append(("0", "embedding", "", ", ".join(allocation.embedding)))
    for layer in allocation.layers:
        for number, head in enumerate(layer.heads, start=1):
            pattern = f"{head.pattern}({head.selector or LENGTH_SELECTOR_TEXT})"
            rows.append((str(layer.index), f"head {number}", pattern, ", ".join(head.computes)))
        if layer.mlp:
            rows.append((str(layer.index), "mlp", "", ", ".join(layer.mlp)))
    unplaced = [b.name for b in program.bindings if b.name not in allocation.placement]
    if unplaced:
        rows.append(("-", "unused", "", ", ".join(unplaced)))
    return rows


def program_html(program: ir.Program) -> str:
    """A program: its text (as the compiler sees it), the layer table and the value sets."""
    checked = check_program(program)
    parts = [highlighted(format_program(program)), _layers(program, checked)]
    parts.append(_value_sets(program, checked))
    if checked.diagnostics:
        rendered = "\n\n".join(d.render() for d in checked.diagnostics)
        parts.append(f'<pre class="rasp-diagnostics">{html.escape(rendered)}</pre>')
    return '<div class="rasp-program">' + "".join(parts) + "</div>"


def _layers(program: ir.Program, checked: CheckResult) -> str:
    heads = " / ".join(str(n) for n in checked.allocation.heads_per_layer) or "-"
    title = f"layers: {checked.allocation.n_layers}, heads per layer: {heads}"
    rows = layer_rows(program, checked.allocation)
    return f"<p>{html.escape(title)}</p>" + table(("layer", "unit", "pattern", "computes"), rows)


def _value_sets(program: ir.Program, checked: CheckResult) -> str:
    rows = [
        (b.name, b.encoding, format_value_set(checked.value_sets.sets.get(b.name, ())))
        for b in program.bindings
        if b.encoding is not None and "__" not in b.name
    ]
    return table(("binding", "encoding", "values"), rows)


def evaluation_html(evaluation: Evaluation) -> str:
    """An evaluation: per input, one row per binding a person wrote (derived names left out)
    and one column per position; selectors as 0/1 matrices beneath."""
    program = evaluation.program
    count = len(evaluation.lengths)
    parts = []
    for example in range(min(count, SHOWN_EXAMPLES)):
        tokens = evaluation.values("tokens")[example]
        parts.append(_example_html(program, evaluation, example, tokens))
    if count > SHOWN_EXAMPLES:
        parts.append(f"<p>… and {count - SHOWN_EXAMPLES} more inputs</p>")
    return '<div class="rasp-evaluation">' + "".join(parts) + "</div>"


def _example_html(
    program: ir.Program, evaluation: Evaluation, example: int, tokens: list[Value]
) -> str:
    names = [b.name for b in program.bindings if "__" not in b.name]
    header = ["binding", *(token_text(t) for t in tokens)]
    rows = [["tokens", *(format_value(t) for t in tokens)]]
    matrices = []
    for name in names:
        if is_sop(program, name):
            rows.append([name, *(format_value(v) for v in evaluation.values(name)[example])])
        else:
            mask = evaluation.selector(name)[example][: len(tokens), : len(tokens)]
            cells = [["1" if cell else "0" for cell in row] for row in mask.tolist()]
            labelled = [[token_text(t), *row] for t, row in zip(tokens, cells, strict=True)]
            matrices.append(f"<p>{html.escape(name)}</p>" + table(["", *header[1:]], labelled))
    return table(header, rows) + "".join(matrices)


def model_html(title: str, facts: Sequence[tuple[str, str]], program_text: str) -> str:
    """A compiled model: a title, a table of facts (layers, widths, ...) and, when the model
    carries its program's text, that program as :func:`program_html` shows it."""
    parts = [f"<p><b>{html.escape(title)}</b></p>", table(("", ""), facts)]
    if program_text:
        try:
            parts.append(program_html(parse_program(program_text, "<model>")))
        except RaspError:
            parts.append(highlighted(program_text))
    return '<div class="rasp-model">' + "".join(parts) + "</div>"
