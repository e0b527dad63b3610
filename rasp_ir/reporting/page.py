"""A :class:`~rasp_ir.reporting.collect.ReportData` in, one self-contained HTML page out: inline
CSS, SVG and a few lines of JavaScript, nothing fetched from anywhere. Rendered by jinja2 with
autoescaping on, so every string from the program, the inputs or the artifact is escaped; only
the SVG drawings (escaped where they are built) are passed through as markup.

The page's script records any JavaScript error into ``#js-errors`` (a browser test reads it back)
and marks ``<body data-ready="yes">`` once it has run; hovering a binding anywhere highlights
it everywhere (source, graph, value tables).
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from rasp_ir.reporting.collect import ReportData
from rasp_ir.values import format_value

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2em 3em; color: #1d1d28; }
h1 { font-size: 1.4em; margin: 1em 0 .3em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ccd; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #d4d4de; padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: #f1f1f6; }
pre, code, .source { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f7f7fa; padding: .6em; overflow-x: auto; }
.source { background: #fbfbfd; border: 1px solid #e2e2ea; padding: .4em 0; overflow-x: auto; }
.line { white-space: pre; padding: 0 .8em; }
.line:target, .line.def:target { background: #fff3c4; }
.lineno { color: #99a; display: inline-block; width: 3em; user-select: none; }
.c { color: #6a737d; font-style: italic; } .s { color: #0a7d32; } .m { color: #b05a00; }
.d { color: #8a2be2; } .k { color: #c3003c; font-weight: 600; } .b { color: #005cc5; }
.n, .ref { color: #1d1d28; } .o { color: #a0522d; }
a.ref { text-decoration: none; border-bottom: 1px dotted #99a; }
.graph-box, .scroll { overflow-x: auto; }
svg text { font-family: ui-monospace, Menlo, monospace; }
.graph .node rect { fill: #eef3ff; stroke: #5670a8; stroke-width: 1.2; }
.graph .kind-select rect, .graph .kind-select_closest rect, .graph .kind-and rect,
.graph .kind-or rect, .graph .kind-not rect { fill: #fff4e5; stroke: #c27c1a; }
.graph .kind-aggregate rect, .graph .kind-selector_width rect,
.graph .kind-pooled_vote rect { fill: #e8f7ec; stroke: #2f8f4e; }
.graph .kind-primitive rect { fill: #f3f3f3; stroke: #888; }
.graph .output rect { stroke-width: 3; }
.graph .node-name { font-size: 12px; text-anchor: middle; fill: #1d1d28; }
.graph .node-kind { font-size: 10px; text-anchor: middle; fill: #667; }
.graph .row-label { font-size: 11px; fill: #667; }
.graph .edge { fill: none; stroke: #889; stroke-width: 1.1; }
.hot rect { fill: #ffe27a !important; } .hot, a.ref.hot { background: #ffe27a; }
.graph .edge.hot { stroke: #d4a000; stroke-width: 2.4; }
.heatmap .axis, .curve .axis { font-size: 10px; fill: #445; }
.curve .plot { fill: #fbfbfd; stroke: #ccd; }
.curve .line { fill: none; stroke: #3455c4; stroke-width: 1.6; }
.curve-title { font-size: 12px; font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 12px; color: #445; }
.values td { font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.note { color: #556; font-size: 12px; }
#js-errors:empty { display: none; } #js-errors { color: #b00; }
"""

SCRIPT = """
(function () {
  var errors = document.getElementById("js-errors");
  window.addEventListener("error", function (event) {
    errors.textContent += (event.message || "error") + "\\n";
  });
  function mark(name, on) {
    var found = document.querySelectorAll('[data-binding="' + CSS.escape(name) + '"]');
    for (var i = 0; i < found.length; i++) { found[i].classList.toggle("hot", on); }
    var edges = document.querySelectorAll(
      '.edge[data-from="' + CSS.escape(name) + '"], .edge[data-to="' + CSS.escape(name) + '"]');
    for (var j = 0; j < edges.length; j++) { edges[j].classList.toggle("hot", on); }
  }
  document.addEventListener("mouseover", function (event) {
    var target = event.target.closest && event.target.closest("[data-binding]");
    if (target) { mark(target.getAttribute("data-binding"), true); }
  });
  document.addEventListener("mouseout", function (event) {
    var target = event.target.closest && event.target.closest("[data-binding]");
    if (target) { mark(target.getAttribute("data-binding"), false); }
  });
  document.body.setAttribute("data-ready", "yes");
})();
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ policy }}">
<title>{{ data.title }}</title><style>{{ style }}</style></head>
<body>
<pre id="js-errors"></pre>
<h1>{{ data.title }}</h1>
<nav>{% for table in data.tables %}<a href="#table-{{ loop.index }}">{{ table.title }}</a>
{% endfor %}<a href="#program">program</a> <a href="#graph">graph</a>
<a href="#allocation">layers</a>
<a href="#value-sets">value sets</a>
{% if data.examples %}<a href="#inputs">inputs</a>{% endif %}
{% if data.curves %}<a href="#training">training</a>{% endif %}
{% if data.certificate %}<a href="#certificate">certificate</a>{% endif %}
{% if data.attribution %}<a href="#errors">errors</a>{% endif %}</nav>
{% if data.facts %}<table class="facts">
{% for label, value in data.facts %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>{% endif %}
{% for table in data.tables %}
<h2 id="table-{{ loop.index }}">{{ table.title }}</h2>
{% if table.note %}<p class="note">{{ table.note }}</p>{% endif %}
<div class="scroll"><table class="summary">
<tr>{% for column in table.columns %}<th>{{ column }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table></div>
{% endfor %}

<h2 id="program">Program</h2>
<div class="source">
{% for line in data.lines %}{{ line.html }}
{% endfor %}</div>
{% if data.warnings %}<h3>Warnings</h3>
{% for warning in data.warnings %}<pre>{{ warning }}</pre>{% endfor %}{% endif %}

<h2 id="graph">Dataflow graph by layer</h2>
<p class="note">Boxes are bindings (orange: selectors, green: heads, blue: maps; a thick border
marks an output); click one for its source line, hover to follow it.</p>
<div class="graph-box">{{ data.graph }}</div>

<h2 id="allocation">Layers and heads</h2>
<table><tr><th>layer</th><th>unit</th><th>pattern</th><th>computes</th></tr>
{% for layer, unit, pattern, computes in data.allocation %}
<tr><td>{{ layer }}</td><td>{{ unit }}</td><td><code>{{ pattern }}</code></td>
<td>{{ computes }}</td></tr>
{% endfor %}</table>

<h2 id="value-sets">Value sets</h2>
<table><tr><th>s-op</th><th>encoding</th><th>runs in</th><th>values</th></tr>
{% for name, encoding, where, values in data.value_sets %}
<tr data-binding="{{ name }}"><td><a class="ref" href="#node-{{ name }}">{{ name }}</a></td>
<td>{{ encoding }}</td><td>{{ where }}</td><td><code>{{ values }}</code></td></tr>
{% endfor %}</table>

{% if data.examples %}<h2 id="inputs">On the inputs</h2>
{% for example in data.examples %}
<section class="example" id="input-{{ example.number }}">
<h3>Input {{ example.number }}: <code>{{ example.tokens }}</code></h3>
<div class="scroll"><table class="values">
<tr><th>binding</th><th>kind</th>
{% for p in example.positions %}<th>{{ p }}</th>{% endfor %}</tr>
{% for row in example.rows %}
<tr data-binding="{{ row.name }}">
<th><a class="ref" href="#node-{{ row.name }}">{{ row.name }}</a></th><td>{{ row.kind }}</td>
{% for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table></div>
<p class="note">Selector rows list the keys each query selects.</p>
{% if example.selectors %}<h3>Selectors and attention patterns</h3>
<div class="figures">
{% for figure in example.selectors %}
<figure class="selector" data-binding="{{ figure.title }}">{{ figure.svg }}
<figcaption>{{ figure.title }}: {{ figure.note }}</figcaption></figure>
{% endfor %}</div>{% endif %}
{% if example.attention %}<h3>The model's attention weights</h3>
<p class="note">{{ example.attention[0].note }}</p>
<div class="figures">
{% for figure in example.attention %}
<figure class="attention">{{ figure.svg }}<figcaption>{{ figure.title }}</figcaption></figure>
{% endfor %}</div>{% endif %}
{% if example.residuals %}<h3>Residual stream, layer by layer</h3>
<p class="note">{{ example.residuals[0].note }}</p>
<div class="figures">
{% for figure in example.residuals %}
<figure class="residual"><figcaption>after {{ figure.title }}</figcaption>
<div class="scroll">{{ figure.svg }}</div></figure>
{% endfor %}</div>{% endif %}
<h3>Why each output (the dependency cone of each cell)</h3>
{% for cell, text in example.cones %}
<details><summary><code>{{ cell }}</code></summary><pre>{{ text }}</pre></details>
{% endfor %}</section>
{% endfor %}
{% else %}<p class="note">Give inputs (--input) to see every binding's values, the
selectors as heatmaps and why each output is what it is.</p>{% endif %}

{% if data.curves %}<h2 id="training">Training</h2>
<div class="figures">
{% for figure in data.curves %}<figure class="training-curve">{{ figure.svg }}</figure>
{% endfor %}</div>{% endif %}

{% if data.certificate %}<h2 id="certificate">Certificate</h2>
<table>
{% for label, value in data.certificate %}
<tr><th>{{ label }}</th><td><pre>{{ value }}</pre></td></tr>
{% endfor %}</table>
<details><summary>the whole certificate (JSON)</summary>
<pre>{{ data.certificate_json }}</pre></details>{% endif %}

{% if data.attribution %}{% set a = data.attribution %}
<h2 id="errors">Error attribution: {{ a.name }}</h2>
<p>{{ a.examples }} inputs, {{ a.scored }} scored positions of <code>{{ a.output }}</code>,
{{ a.wrong|length }} wrong (accuracy {{ "%.2f"|format(100 * a.accuracy) }}%).</p>
{% if a.wrong %}
<table><tr><th>unit on the path of errors</th><th>wrong</th><th>all through it</th>
<th>wrong share</th></tr>
{% for blame in a.units[:20] %}
<tr data-binding="{{ blame.unit.name }}"><td><code>{{ blame.unit }}</code></td>
<td>{{ blame.errors }}</td><td>{{ blame.cells }}</td>
<td>{{ "%.1f"|format(100 * blame.error_rate) }}%</td></tr>
{% endfor %}</table>
<details><summary>wrong positions (first 50)</summary>
<table><tr><th>input</th><th>tokens</th><th>position</th><th>wanted</th><th>got</th></tr>
{% for cell in a.wrong[:50] %}
<tr><td>{{ cell.example }}</td>
<td><code>{% for t in cell.tokens %}{{ t|value }} {% endfor %}</code></td>
<td>{{ cell.position }}</td><td>{{ cell.expected|value }}</td><td>{{ cell.got|value }}</td></tr>
{% endfor %}</table></details>
{% endif %}{% endif %}
<script>{{ script }}</script>
</body></html>
"""

# Nothing may be loaded from anywhere: only the page's own inline style and script run.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

_ENVIRONMENT = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)
_ENVIRONMENT.filters["value"] = format_value


def render_page(data: ReportData) -> str:
    """The HTML page of ``data``."""
    template = _ENVIRONMENT.from_string(TEMPLATE)
    return template.render(data=data, style=Markup(STYLE), script=Markup(SCRIPT), policy=POLICY)
